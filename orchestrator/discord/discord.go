// Package discord is Airlock's Discord adapter: it turns messages to the
// bot into orchestrator messages and posts the replies, using discordgo for
// the gateway connection, reconnection and resumption.
//
// Invariants:
//   - The bot token is held only by the discordgo session. It is never
//     logged (Token formats as [redacted]), never put in an error, and never
//     passed to the Handler: the core, and the worker and model behind it,
//     see only the author's id and the message text.
//   - An empty user allowlist answers nobody. Only allowlisted users are
//     answered: in DMs, and when they mention the bot in an allowlisted
//     channel (an empty channel allowlist means DMs only). Bots, the bot
//     itself and guild messages that do not mention it are ignored. Anyone
//     else who addresses the bot is ignored and audited (discord.ignored), at
//     most once per user per AuditEvery. Slash commands obey the same rules.
//     Webhook messages are never answered (their author is whatever the
//     webhook's owner chose), and whether a message is a DM is what the API
//     says of its channel's type, never inferred from a missing guild id.
//   - Each message and interaction id is handled once within dedupeWindow,
//     however often the gateway delivers it (replays after a RESUME).
//   - No event can stop the process: every handler and task recovers a
//     panic (logged with a reference, audited as discord.panic), and
//     discordgo's event decoders are hardened against null payloads (see
//     guard.go).
//   - Replies never ping: every message is sent with no allowed mentions, so
//     model-written text cannot mention @everyone, roles or users.
//   - Discord fetches no URL the model wrote: every message is posted with
//     embeds suppressed unless link previews are on and all its links
//     point to allowlisted hosts; masked links show their real target.
//   - A reply is posted as at most MaxMessages messages.
//   - Failures are answered with a short apology; details go to the log.
//   - Script approval never happens in Discord: admins only get a link to
//     the review page of the admin UI.
package discord

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/airlockhq/airlock/orchestrator"
	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/secure/redact"
	"github.com/bwmarrin/discordgo"
)

// Handler answers a chat message; *orchestrator.Core is one.
type Handler interface {
	HandleMessage(ctx context.Context, m orchestrator.Message) (orchestrator.Reply, error)
}

// Token is a Discord bot token. It formats, logs and marshals as
// [redacted]; only the session sees its value.
type Token = redact.Credential

// Config is the bot's configuration.
type Config struct {
	Token Token // bot token, with or without the "Bot " prefix
	// AllowedUsers are the user ids the bot answers; empty means nobody.
	AllowedUsers []string
	// AllowedChannels are the guild channel ids where mentions are answered;
	// empty means none (DMs only).
	AllowedChannels []string
	// Admins are the user ids that get a DM when a script is proposed.
	Admins []string
	// ReviewBaseURL is the admin UI's base URL, for review links
	// (<ReviewBaseURL>/scripts/<name>?sha256=<sha>). Empty gives a path.
	ReviewBaseURL string
	// RateLimit messages per RateWindow per user; defaults 10 per minute.
	RateLimit  int
	RateWindow time.Duration
	// MaxMessages caps the messages one reply is posted as; the rest is
	// cut, with a note. Default DefaultMaxMessages.
	MaxMessages int
	// LinkPreviews lets Discord preview the links of a message when all
	// of them point to PreviewHosts (lower-case host names); otherwise,
	// and always when it is off, messages are posted with embeds
	// suppressed.
	LinkPreviews bool
	PreviewHosts []string
	// TypingEvery is how often the typing indicator is renewed while a
	// task runs (Discord shows it for 10 s); default 8 s.
	TypingEvery time.Duration
	// AuditEvery is the least time between two discord.ignored entries for
	// one user; default one hour.
	AuditEvery time.Duration
}

// DefaultMaxMessages is Config.MaxMessages when unset.
const DefaultMaxMessages = 5

// Deps are the bot's collaborators.
type Deps struct {
	Handler Handler
	Store   *store.Store
	Audit   *audit.Log
	Logger  *slog.Logger // should redact secrets; the token is never passed to it
	// HTTPClient makes the REST requests; nil means discordgo's default.
	HTTPClient *http.Client
	Now        func() time.Time
}

// Status is the connection state, for the dashboard.
type Status struct {
	Connected   bool      `json:"connected"`
	User        string    `json:"user,omitempty"` // the bot's username
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
}

// ErrRunning is returned by Run when the bot already ran.
var ErrRunning = errors.New("discord: bot already started")

// Bot is the Discord adapter. Create it with New and start it with Run.
type Bot struct {
	cfg     Config
	deps    Deps
	log     *slog.Logger
	session *discordgo.Session
	limits  *rateLimiter
	audits  *auditThrottle
	seen    *seenIDs // message and interaction ids handled lately
	kinds   channelKinds

	mu      sync.Mutex
	status  Status
	botID   string
	appID   string
	started bool
	closing bool
	runCtx  context.Context
	tasks   sync.WaitGroup
	dms     map[string]string // admin user id → DM channel id
}

// New checks cfg and returns a Bot; it does not connect.
func New(cfg Config, d Deps) (*Bot, error) {
	if err := checkConfig(cfg, d); err != nil {
		return nil, err
	}
	cfg = withDefaults(cfg)
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	b := &Bot{cfg: cfg, deps: d, log: d.Logger, dms: make(map[string]string),
		limits: newRateLimiter(cfg.RateLimit, cfg.RateWindow, d.Now),
		audits: newAuditThrottle(cfg.AuditEvery, d.Now), seen: newSeenIDs(dedupeWindow, maxRemembered, d.Now)}
	b.session = b.newSession()
	return b, nil
}

func checkConfig(cfg Config, d Deps) error {
	switch {
	case cfg.Token == "" || cfg.Token == "Bot ":
		return errors.New("discord: no bot token")
	case d.Handler == nil || d.Store == nil || d.Audit == nil:
		return errors.New("discord: Handler, Store and Audit are required")
	}
	if cfg.ReviewBaseURL != "" {
		u, err := url.Parse(cfg.ReviewBaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("discord: review base URL %q is not an absolute http(s) URL", cfg.ReviewBaseURL)
		}
	}
	return nil
}

func withDefaults(cfg Config) Config {
	if cfg.RateLimit <= 0 {
		cfg.RateLimit = 10
	}
	if cfg.RateWindow <= 0 {
		cfg.RateWindow = time.Minute
	}
	if cfg.MaxMessages <= 0 {
		cfg.MaxMessages = DefaultMaxMessages
	}
	if cfg.TypingEvery <= 0 {
		cfg.TypingEvery = 8 * time.Second
	}
	if cfg.AuditEvery <= 0 {
		cfg.AuditEvery = time.Hour
	}
	cfg.AllowedUsers = slices.Clone(cfg.AllowedUsers)
	cfg.AllowedChannels = slices.Clone(cfg.AllowedChannels)
	cfg.Admins = slices.Clone(cfg.Admins)
	cfg.PreviewHosts = slices.Clone(cfg.PreviewHosts)
	for i, h := range cfg.PreviewHosts {
		cfg.PreviewHosts[i] = strings.ToLower(h)
	}
	return cfg
}

// Status returns the connection state.
func (b *Bot) Status() Status {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.status
}

// fail records err as the last error and logs it.
func (b *Bot) fail(msg string, err error, args ...any) {
	b.mu.Lock()
	b.status.LastError, b.status.LastErrorAt = msg+": "+err.Error(), b.deps.Now().UTC()
	b.mu.Unlock()
	b.log.Error("discord: "+msg, append(args, "err", err)...)
}

func (b *Bot) allowedUser(id string) bool { return id != "" && slices.Contains(b.cfg.AllowedUsers, id) }
func (b *Bot) allowedChannel(id string) bool {
	return id != "" && slices.Contains(b.cfg.AllowedChannels, id)
}
