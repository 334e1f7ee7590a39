package main

import (
	"context"
	"errors"
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
	r.mu.Lock()
	defer r.mu.Unlock()
	token, err := v.Get(r.ctx, secrets.DiscordToken)
	if err != nil && !errors.Is(err, secrets.ErrNotFound) {
		r.logger.Error("discord: reading the bot token failed", "err", err)
		return
	}
	r.applyLocked(token, set.Get().Discord)
}

func (r *discordRunner) applyLocked(token string, conf settings.Discord) {
	if token == r.token && sameDiscord(conf, r.conf) && (r.bot != nil || token == "") {
		return
	}
	r.stopLocked()
	r.token, r.conf = token, conf
	if token == "" {
		r.logger.Info("discord: no bot token; the bot is off")
		return
	}
	bot, err := discord.New(discord.Config{Token: discord.Token(token), AllowedUsers: conf.AllowedUsers,
		AllowedChannels: conf.AllowedChannels, Admins: conf.Admins, ReviewBaseURL: conf.ReviewBaseURL,
		RateLimit: conf.RateLimitPerMinute, RateWindow: time.Minute}, r.deps)
	if err != nil {
		r.last, r.lastAt = err.Error(), time.Now()
		r.logger.Error("discord: cannot start the bot", "err", err)
		return
	}
	ctx, stop := context.WithCancel(r.ctx)
	done := make(chan struct{})
	r.bot, r.stop, r.done, r.last = bot, stop, done, ""
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

// stopLocked stops the running bot and waits for it.
func (r *discordRunner) stopLocked() {
	if r.bot == nil {
		return
	}
	r.stop()
	<-r.done
	r.bot, r.stop, r.done = nil, nil, nil
}

// Close stops the bot.
func (r *discordRunner) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopLocked()
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
// proposal must not wait for Discord.
func (r *discordRunner) notifyProposed(si tools.ScriptInfo) {
	r.mu.Lock()
	bot := r.bot
	r.mu.Unlock()
	if bot == nil {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(r.ctx, 30*time.Second)
		defer cancel()
		if err := bot.NotifyScriptProposed(ctx, si); err != nil {
			r.logger.Warn("discord: notifying admins of a proposed script failed", "script", si.Name, "err", err)
		}
	}()
}

func sameDiscord(a, b settings.Discord) bool {
	return slices.Equal(a.AllowedUsers, b.AllowedUsers) && slices.Equal(a.AllowedChannels, b.AllowedChannels) &&
		slices.Equal(a.Admins, b.Admins) && a.ReviewBaseURL == b.ReviewBaseURL &&
		a.RateLimitPerMinute == b.RateLimitPerMinute
}
