package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/admin"
	"github.com/airlockhq/airlock/orchestrator/discord"
	"github.com/airlockhq/airlock/orchestrator/secrets"
	"github.com/airlockhq/airlock/orchestrator/settings"
)

// discordRunner runs the Discord bot while a token is set, and restarts it
// when the token or the Discord settings change (a new token from the
// vault, a new allowlist from the settings page): no restart of the
// orchestrator is needed, and a removed user is refused from then on.
type discordRunner struct {
	ctx    context.Context
	deps   discord.Deps
	logger *slog.Logger

	// life serializes refresh and Close: stopping a bot waits for the
	// answers in flight, and two restarts must not interleave.
	life sync.Mutex
	// mu guards the fields below; it is never held while waiting, so the
	// dashboard (Status) and script notifications never wait for a restart.
	mu     sync.Mutex
	bot    *discord.Bot
	stop   context.CancelFunc
	done   chan struct{}
	token  string
	conf   settings.Discord
	last   string // the last start error, for the dashboard
	lastAt time.Time
}

// discordHTTPClient, when set (by tests in this package, in process),
// carries the bot's requests; nil means discordgo's own client.
var discordHTTPClient *http.Client

func newDiscordRunner(ctx context.Context, d discord.Deps, logger *slog.Logger) *discordRunner {
	d.HTTPClient = discordHTTPClient
	return &discordRunner{ctx: ctx, deps: d, logger: logger}
}

// refresh reads the current token and settings and (re)starts, stops or
// keeps the bot. Stopping waits for the answers in flight, so callers on a
// request path run it in a goroutine; refreshes are serialized and each
// reads the newest state.
func (r *discordRunner) refresh(v *secrets.Vault, set *settings.Service) {
	r.life.Lock()
	defer r.life.Unlock()
	token, err := v.Get(r.ctx, secrets.DiscordToken)
	if err != nil && !errors.Is(err, secrets.ErrNotFound) {
		r.logger.Error("discord: reading the bot token failed", "err", err)
		return
	}
	conf := set.Get().Discord
	r.mu.Lock()
	same := token == r.token && sameDiscord(conf, r.conf) && (r.bot != nil || token == "")
	r.mu.Unlock()
	if same {
		return
	}
	r.stopBot()
	r.mu.Lock()
	r.token, r.conf = token, conf
	r.mu.Unlock()
	if token == "" {
		r.logger.Info("discord: no bot token; the bot is off")
		return
	}
	bot, err := discord.New(discord.Config{Token: discord.Token(token), AllowedUsers: conf.AllowedUsers,
		AllowedChannels: conf.AllowedChannels, Admins: conf.Admins, ReviewBaseURL: conf.ReviewBaseURL,
		RateLimit: conf.RateLimitPerMinute, RateWindow: time.Minute, MaxMessages: conf.MaxMessagesPerReply,
		LinkPreviews: conf.LinkPreviews, PreviewHosts: conf.LinkPreviewHosts}, r.deps)
	if err != nil {
		r.mu.Lock()
		r.last, r.lastAt = err.Error(), time.Now()
		r.mu.Unlock()
		r.logger.Error("discord: cannot start the bot", "err", err)
		return
	}
	ctx, stop := context.WithCancel(r.ctx)
	done := make(chan struct{})
	r.mu.Lock()
	r.bot, r.stop, r.done, r.last = bot, stop, done, ""
	r.mu.Unlock()
	go func() {
		defer close(done)
		if err := bot.Run(ctx); err != nil {
			r.logger.Error("discord: bot stopped", "err", err)
		}
	}()
	if len(conf.AllowedUsers) == 0 {
		r.logger.Warn("discord: the user allowlist is empty, so the bot answers nobody; add user ids in Settings")
	}
}

// stopBot stops the running bot, if any, and waits for it. Callers hold
// life.
func (r *discordRunner) stopBot() {
	r.mu.Lock()
	stop, done := r.stop, r.done
	r.bot, r.stop, r.done = nil, nil, nil
	r.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
}

// Close stops the bot.
func (r *discordRunner) Close() {
	r.life.Lock()
	defer r.life.Unlock()
	r.stopBot()
}

// Status is the bot's state, for the dashboard.
func (r *discordRunner) Status() admin.DiscordStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bot == nil {
		return admin.DiscordStatus{Enabled: r.token != "", LastError: r.last, LastErrorAt: r.lastAt}
	}
	s := r.bot.Status()
	return admin.DiscordStatus{Enabled: true, Connected: s.Connected, User: s.User, LastError: s.LastError,
		LastErrorAt: s.LastErrorAt}
}

// notifyProposed DMs the admins a review link, in its own goroutine: the
// proposal must not wait for Discord. A restart in progress is waited out,
// so the notice goes through the new bot rather than being lost.
func (r *discordRunner) notifyProposed(si tools.ScriptInfo) {
	r.notify(func(ctx context.Context, bot *discord.Bot) error {
		if err := bot.NotifyScriptProposed(ctx, si); err != nil {
			return fmt.Errorf("script %s: %w", si.Name, err)
		}
		return nil
	})
}

// notifyPending DMs the admins one summary of the versions proposed during
// a notification window, as notifyProposed does.
func (r *discordRunner) notifyPending(sis []tools.ScriptInfo) {
	r.notify(func(ctx context.Context, bot *discord.Bot) error {
		if err := bot.NotifyScriptsPending(ctx, sis); err != nil {
			return fmt.Errorf("summary of %d script versions: %w", len(sis), err)
		}
		return nil
	})
}

// notify runs send with the current bot, if any, in its own goroutine.
func (r *discordRunner) notify(send func(context.Context, *discord.Bot) error) {
	go func() {
		r.life.Lock()
		r.mu.Lock()
		bot := r.bot
		r.mu.Unlock()
		r.life.Unlock()
		if bot == nil {
			return
		}
		ctx, cancel := context.WithTimeout(r.ctx, 30*time.Second)
		defer cancel()
		if err := send(ctx, bot); err != nil {
			r.logger.Warn("discord: notifying the admins failed", "err", err)
		}
	}()
}

func sameDiscord(a, b settings.Discord) bool {
	return slices.Equal(a.AllowedUsers, b.AllowedUsers) && slices.Equal(a.AllowedChannels, b.AllowedChannels) &&
		slices.Equal(a.Admins, b.Admins) && a.ReviewBaseURL == b.ReviewBaseURL &&
		a.RateLimitPerMinute == b.RateLimitPerMinute && a.MaxMessagesPerReply == b.MaxMessagesPerReply &&
		a.LinkPreviews == b.LinkPreviews && slices.Equal(a.LinkPreviewHosts, b.LinkPreviewHosts)
}
