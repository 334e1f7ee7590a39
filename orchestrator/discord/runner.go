package discord

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/airlockhq/airlock/mcp/tools"
)

// Runner runs the bot while a token is set, and restarts it when the
// token or the Discord settings change (a new token from the vault, a new
// allowlist from the settings page): no restart of the orchestrator is
// needed, and a removed user is refused from then on.
type Runner struct {
	ctx     context.Context
	deps    Deps
	current func(context.Context) (Config, error)
	logger  *slog.Logger

	// life serializes Refresh and Close: stopping a bot waits for the
	// answers in flight, and two restarts must not interleave.
	life sync.Mutex
	// mu guards the fields below; it is never held while waiting, so the
	// dashboard (Status) and script notifications never wait for a restart.
	mu     sync.Mutex
	bot    *Bot
	stop   context.CancelFunc
	done   chan struct{}
	conf   Config // the configuration last read; an empty Token: no bot
	last   string // the last start error, for the dashboard
	lastAt time.Time
}

// RunnerStatus is the bot's state, for the dashboard.
type RunnerStatus struct {
	Enabled     bool      `json:"enabled"`
	Connected   bool      `json:"connected"`
	User        string    `json:"user,omitempty"`
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
}

// NewRunner returns a Runner whose bots run until ctx ends, each built
// with d and the configuration current returns when Refresh reads it
// (an empty Token: no bot). It starts nothing: call Refresh.
func NewRunner(ctx context.Context, current func(context.Context) (Config, error), d Deps) *Runner {
	logger := d.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Runner{ctx: ctx, deps: d, current: current, logger: logger}
}

// Refresh reads the current configuration and (re)starts, stops or keeps
// the bot. Stopping waits for the answers in flight, so callers on a
// request path run it in a goroutine; refreshes are serialized and each
// reads the newest state.
func (r *Runner) Refresh() {
	r.life.Lock()
	defer r.life.Unlock()
	conf, err := r.current(r.ctx)
	if err != nil {
		r.logger.Error("discord: reading the bot token failed", "err", err)
		return
	}
	r.mu.Lock()
	same := sameConfig(conf, r.conf) && (r.bot != nil || conf.Token == "")
	r.mu.Unlock()
	if same {
		return
	}
	r.stopBot()
	r.mu.Lock()
	r.conf = conf
	r.mu.Unlock()
	if conf.Token == "" {
		r.logger.Info("discord: no bot token; the bot is off")
		return
	}
	bot, err := New(conf, r.deps)
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
func (r *Runner) stopBot() {
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
func (r *Runner) Close() {
	r.life.Lock()
	defer r.life.Unlock()
	r.stopBot()
}

// Status is the bot's state, for the dashboard.
func (r *Runner) Status() RunnerStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bot == nil {
		return RunnerStatus{Enabled: r.conf.Token != "", LastError: r.last, LastErrorAt: r.lastAt}
	}
	s := r.bot.Status()
	return RunnerStatus{Enabled: true, Connected: s.Connected, User: s.User, LastError: s.LastError,
		LastErrorAt: s.LastErrorAt}
}

// NotifyProposed DMs the admins a review link, in its own goroutine: the
// proposal must not wait for Discord. A restart in progress is waited out,
// so the notice goes through the new bot rather than being lost.
func (r *Runner) NotifyProposed(si tools.ScriptInfo) {
	r.notify(func(ctx context.Context, bot *Bot) error {
		if err := bot.NotifyScriptProposed(ctx, si); err != nil {
			return fmt.Errorf("script %s: %w", si.Name, err)
		}
		return nil
	})
}

// NotifyPending DMs the admins one summary of the versions proposed during
// a notification window, as NotifyProposed does.
func (r *Runner) NotifyPending(sis []tools.ScriptInfo) {
	r.notify(func(ctx context.Context, bot *Bot) error {
		if err := bot.NotifyScriptsPending(ctx, sis); err != nil {
			return fmt.Errorf("summary of %d script versions: %w", len(sis), err)
		}
		return nil
	})
}

// notify runs send with the current bot, if any, in its own goroutine.
func (r *Runner) notify(send func(context.Context, *Bot) error) {
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

// sameConfig reports whether a and b would run the same bot.
func sameConfig(a, b Config) bool {
	return a.Token == b.Token && slices.Equal(a.AllowedUsers, b.AllowedUsers) &&
		slices.Equal(a.AllowedChannels, b.AllowedChannels) && slices.Equal(a.Admins, b.Admins) &&
		a.ReviewBaseURL == b.ReviewBaseURL && a.RateLimit == b.RateLimit && a.RateWindow == b.RateWindow &&
		a.TypingEvery == b.TypingEvery && a.AuditEvery == b.AuditEvery && a.MaxMessages == b.MaxMessages &&
		a.LinkPreviews == b.LinkPreviews && slices.Equal(a.PreviewHosts, b.PreviewHosts)
}
