// Package settings holds the settings an admin may change while the
// orchestrator runs (SPEC 6 "settings", GET|PUT /api/v1/settings): the LLM
// provider, model and budgets, the agent's limits, the Discord allowlists,
// the workspace's file cap, the caps on pending script proposals and the
// egress allowlist. API keys and tokens are not settings: they are
// vault secrets.
//
// Effective settings are the defaults (config file and environment, see
// FromConfig) overlaid with the stored document, then every field locked by
// an environment variable forced back to its default.
//
// Invariants:
//
//   - Get never returns invalid settings: Update validates the whole value,
//     and New drops (and reports through Ignored) any stored field that does
//     not decode or validate, so a bad row never stops the orchestrator.
//   - A field set by an environment variable (see LockedByEnv) always has
//     the environment's value, whatever the stored document says, and
//     Update refuses to change it, naming the variable.
//   - The stored document holds only the fields that differ from the
//     defaults (plus fields it cannot interpret, and locked fields, which
//     are kept as they were): a field equal to its default follows the
//     configuration if that changes later.
//   - An Update that changes no effective field writes nothing, audits
//     nothing and notifies nobody. Every other successful Update is one
//     write transaction, then one "settings.updated" audit event naming each
//     changed field and its new value (none is secret), then the OnChange
//     callbacks in registration order. Updates are serialized.
//   - Values handed out (Get, OnChange) share no memory with the service.
package settings

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/airlockhq/airlock/orchestrator/approval"
	"github.com/airlockhq/airlock/orchestrator/config"
	"github.com/airlockhq/airlock/orchestrator/workspace"
)

// Settings are the runtime-editable settings.
type Settings struct {
	LLM     LLM     `json:"llm"`
	Agent   Agent   `json:"agent"`
	Discord Discord `json:"discord"`
	// Workspace and Scripts bound what the assistant may pile up.
	Workspace Workspace `json:"workspace"`
	Scripts   Scripts   `json:"scripts"`
	// Memory governs the assistant's long-term memory (issue 16).
	Memory Memory `json:"memory"`
	// EgressAllow lists hostnames, IP addresses and CIDRs the egress guard
	// lets through even though they are private, loopback and so on.
	EgressAllow []string `json:"egress_allow"`
	// Jobs: scheduled jobs (issue 14).
	Jobs Jobs `json:"jobs"`
	// Backup schedules the orchestrator's own backups (issue 18).
	Backup Backup `json:"backup"`
}

// LLM selects and limits the LLM provider.
type LLM struct {
	Provider string `json:"provider"` // config.ProviderAnthropic or config.ProviderOpenAI
	BaseURL  string `json:"base_url"` // empty: the provider's public API
	Model    string `json:"model"`    // empty: LLM not configured
	// MaxTokens caps the output tokens of one request.
	MaxTokens int `json:"max_tokens"`
	// RequestsPerDay and TokensPerDay are budgets; 0 means unlimited.
	RequestsPerDay int   `json:"requests_per_day"`
	TokensPerDay   int64 `json:"tokens_per_day"`
	// Prices is the price table, one entry per model (see ModelPrice).
	Prices []ModelPrice `json:"prices"`
	// MoneyPerDay is a daily spending budget in the prices' currency
	// (US dollars by convention); 0 means unlimited. Calls of a model
	// without a price count as nothing toward it, so it needs a price for
	// the current model.
	MoneyPerDay float64 `json:"money_per_day"`
	// PromptCache sends Anthropic's cache_control breakpoints (on by
	// default); turn it off for an Anthropic-compatible server that
	// refuses them.
	PromptCache bool `json:"prompt_cache"`
}

// ModelPrice is what one million tokens of a model cost. A nil price is
// unknown: the cost of a call that used such tokens is unknown. A local
// model has every price 0.
type ModelPrice struct {
	Model      string   `json:"model"`
	Input      *float64 `json:"input"` // uncached input
	Output     *float64 `json:"output"`
	CacheRead  *float64 `json:"cache_read"`
	CacheWrite *float64 `json:"cache_write"`
}

// clonePrices copies a price table, pointers included.
func clonePrices(ps []ModelPrice) []ModelPrice {
	if ps == nil {
		return []ModelPrice{}
	}
	out := make([]ModelPrice, len(ps))
	for i, p := range ps {
		out[i] = ModelPrice{Model: p.Model, Input: cloneFloat(p.Input), Output: cloneFloat(p.Output),
			CacheRead: cloneFloat(p.CacheRead), CacheWrite: cloneFloat(p.CacheWrite)}
	}
	return out
}

func cloneFloat(f *float64) *float64 {
	if f == nil {
		return nil
	}
	v := *f
	return &v
}

// ModelPriced reports whether the current model has an input and an
// output price, so that the cost of its calls can be known.
func (l LLM) ModelPriced() bool {
	p, ok := l.PriceOf(l.Model)
	return ok && p.Input != nil && p.Output != nil
}

// PriceOf returns the entry of model, if the table has one.
func (l LLM) PriceOf(model string) (ModelPrice, bool) {
	for _, p := range l.Prices {
		if p.Model == model {
			return p, true
		}
	}
	return ModelPrice{}, false
}

// Agent bounds one task of the agent loop. In JSON, TaskTimeout is a Go
// duration string ("3m0s"; "3m" and "90s" are accepted on input); a number
// is refused, since its unit would be a guess.
type Agent struct {
	MaxRounds   int           `json:"max_rounds"`
	TaskTimeout time.Duration `json:"task_timeout"`
	// HistoryTokens is the estimated token budget of the earlier messages
	// sent with a task (a quarter of their bytes, see store.EstimateTokens):
	// the newest that fit are sent.
	HistoryTokens int `json:"history_tokens"`
}

// DefaultHistoryTokens is the default of Agent.HistoryTokens.
const DefaultHistoryTokens = 8000

// Discord configures the Discord bot (its token is a vault secret).
type Discord struct {
	// AllowedUsers are the user ids the bot answers; empty means nobody.
	AllowedUsers []string `json:"allowed_users"`
	// AllowedChannels are the guild channels where mentions are answered;
	// empty means none (DMs only).
	AllowedChannels []string `json:"allowed_channels"`
	// Admins are the user ids that get a DM when a script is proposed.
	Admins []string `json:"admins"`
	// ReviewBaseURL is the admin UI's external base URL for review links;
	// empty gives bare paths.
	ReviewBaseURL string `json:"review_base_url"`
	// RateLimitPerMinute is the messages per minute the bot answers per
	// user.
	RateLimitPerMinute int `json:"rate_limit_per_minute"`
	// MaxMessagesPerReply caps the messages one reply is posted as; the
	// rest is cut, with a note.
	MaxMessagesPerReply int `json:"max_messages_per_reply"`
	// LinkPreviews lets Discord preview links to LinkPreviewHosts. Off,
	// every message is posted with embeds suppressed: Discord fetches no
	// URL the model wrote. On, a message whose links all point to listed
	// hosts is posted with previews; any other still has them suppressed.
	LinkPreviews     bool     `json:"link_previews"`
	LinkPreviewHosts []string `json:"link_preview_hosts"`
}

// Defaults of the Discord settings.
const (
	DefaultDiscordRateLimit   = 10
	DefaultDiscordMaxMessages = 5
)

// Workspace limits the assistant's workspace at run time (the byte caps
// are in the configuration file).
type Workspace struct {
	// MaxFiles caps the files and folders in the workspace, empty ones
	// included.
	MaxFiles int `json:"max_files"`
}

// Scripts limits script proposals. In JSON, NotifyWindow is a duration
// string, as Agent.TaskTimeout.
type Scripts struct {
	// MaxPendingPerScript and MaxPendingTotal cap the versions awaiting
	// review, of one script and of all scripts; script_propose refuses
	// more until an admin decides.
	MaxPendingPerScript int `json:"max_pending_per_script"`
	MaxPendingTotal     int `json:"max_pending_total"`
	// NotifyWindow: the first proposal notifies the admins at once, later
	// ones within the window are sent as one summary when it ends.
	NotifyWindow time.Duration `json:"notify_window"`
}

// Memory governs the assistant's long-term memory.
type Memory struct {
	// RequireApproval makes every memory_write wait, pending, until the
	// admin approves it on the Memory page, as scripts do.
	RequireApproval bool `json:"require_approval"`
}

// Backup schedules backups. In JSON, Interval is a duration string.
type Backup struct {
	// Interval is the time between scheduled backups; 0 turns them off.
	Interval time.Duration `json:"interval"`
	// Keep is how many scheduled backups are kept; older ones are removed.
	Keep int `json:"keep"`
}

// Defaults and bounds of the Backup settings.
const (
	DefaultBackupInterval = 24 * time.Hour
	DefaultBackupKeep     = 7
	MinBackupInterval     = time.Hour
	MaxBackupInterval     = 30 * 24 * time.Hour
	MaxBackupKeep         = 1000
)

// Defaults of the Workspace and Scripts settings.
const (
	DefaultWorkspaceMaxFiles   = workspace.DefaultMaxFiles           // 2,000
	DefaultMaxPendingPerScript = approval.DefaultMaxPendingPerScript // 5
	DefaultMaxPendingTotal     = approval.DefaultMaxPendingTotal     // 50
	DefaultNotifyWindow        = 10 * time.Minute
)

// FromConfig returns the settings the configuration (file and environment)
// gives, which are the defaults of a fresh install. The configuration has
// no Discord section: the Discord lists start empty (nobody is answered).
func FromConfig(c config.Config) Settings {
	return Settings{
		LLM: LLM{
			Provider:       c.LLM.Provider,
			BaseURL:        c.LLM.BaseURL,
			Model:          c.LLM.Model,
			MaxTokens:      c.LLM.MaxTokens,
			RequestsPerDay: c.LLM.RequestsPerDay,
			TokensPerDay:   c.LLM.TokensPerDay,
			PromptCache:    true,
		},
		Agent: Agent{MaxRounds: c.Agent.MaxRounds, TaskTimeout: c.Agent.TaskTimeout,
			HistoryTokens: DefaultHistoryTokens},
		Discord: Discord{RateLimitPerMinute: DefaultDiscordRateLimit,
			MaxMessagesPerReply: DefaultDiscordMaxMessages},
		Workspace: Workspace{MaxFiles: DefaultWorkspaceMaxFiles},
		Scripts: Scripts{MaxPendingPerScript: DefaultMaxPendingPerScript, MaxPendingTotal: DefaultMaxPendingTotal,
			NotifyWindow: DefaultNotifyWindow},
		EgressAllow: slices.Clone(c.EgressAllow),
		Jobs:        defaultJobs(),
		Backup:      Backup{Interval: DefaultBackupInterval, Keep: DefaultBackupKeep},
	}.Normalize()
}

// clone returns a copy of s that shares no slice with it.
func (s Settings) clone() Settings {
	s.EgressAllow = slices.Clone(s.EgressAllow)
	s.Discord.AllowedUsers = slices.Clone(s.Discord.AllowedUsers)
	s.Discord.AllowedChannels = slices.Clone(s.Discord.AllowedChannels)
	s.Discord.Admins = slices.Clone(s.Discord.Admins)
	s.Discord.LinkPreviewHosts = slices.Clone(s.Discord.LinkPreviewHosts)
	s.LLM.Prices = clonePrices(s.LLM.Prices)
	return s
}

// agentJSON is Agent on the wire.
type agentJSON struct {
	MaxRounds     int             `json:"max_rounds"`
	TaskTimeout   json.RawMessage `json:"task_timeout"`
	HistoryTokens int             `json:"history_tokens"`
}

// MarshalJSON writes TaskTimeout as a duration string.
func (a Agent) MarshalJSON() ([]byte, error) {
	d, err := encodeDuration(a.TaskTimeout)
	if err != nil {
		return nil, err
	}
	return json.Marshal(agentJSON{MaxRounds: a.MaxRounds, TaskTimeout: d, HistoryTokens: a.HistoryTokens})
}

// UnmarshalJSON reads TaskTimeout from a duration string. Fields missing
// from the input keep their value; unknown fields are refused, since this
// method cannot see whether the caller's decoder would allow them.
func (a *Agent) UnmarshalJSON(b []byte) error {
	v := agentJSON{MaxRounds: a.MaxRounds, HistoryTokens: a.HistoryTokens}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("settings: agent: %w", err)
	}
	if v.TaskTimeout != nil {
		d, err := decodeDuration(v.TaskTimeout)
		if err != nil {
			return fmt.Errorf("settings: agent.task_timeout: %w", err)
		}
		a.TaskTimeout = d
	}
	a.MaxRounds, a.HistoryTokens = v.MaxRounds, v.HistoryTokens
	return nil
}

// scriptsJSON is Scripts on the wire.
type scriptsJSON struct {
	MaxPendingPerScript int             `json:"max_pending_per_script"`
	MaxPendingTotal     int             `json:"max_pending_total"`
	NotifyWindow        json.RawMessage `json:"notify_window"`
}

// MarshalJSON writes NotifyWindow as a duration string.
func (s Scripts) MarshalJSON() ([]byte, error) {
	d, err := encodeDuration(s.NotifyWindow)
	if err != nil {
		return nil, err
	}
	return json.Marshal(scriptsJSON{MaxPendingPerScript: s.MaxPendingPerScript, MaxPendingTotal: s.MaxPendingTotal,
		NotifyWindow: d})
}

// UnmarshalJSON reads NotifyWindow from a duration string; like Agent's,
// it keeps missing fields and refuses unknown ones.
func (s *Scripts) UnmarshalJSON(b []byte) error {
	v := scriptsJSON{MaxPendingPerScript: s.MaxPendingPerScript, MaxPendingTotal: s.MaxPendingTotal}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("settings: scripts: %w", err)
	}
	if v.NotifyWindow != nil {
		d, err := decodeDuration(v.NotifyWindow)
		if err != nil {
			return fmt.Errorf("settings: scripts.notify_window: %w", err)
		}
		s.NotifyWindow = d
	}
	s.MaxPendingPerScript, s.MaxPendingTotal = v.MaxPendingPerScript, v.MaxPendingTotal
	return nil
}

func encodeDuration(d time.Duration) (json.RawMessage, error) {
	return json.Marshal(d.String())
}

func decodeDuration(raw json.RawMessage) (time.Duration, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return 0, fmt.Errorf(`want a duration string such as "90s" or "5m"`)
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf(`invalid duration %q, want e.g. "90s" or "5m"`, truncate(s))
	}
	return d, nil
}

// backupJSON is Backup on the wire.
type backupJSON struct {
	Interval json.RawMessage `json:"interval"`
	Keep     int             `json:"keep"`
}

// MarshalJSON writes Interval as a duration string.
func (b Backup) MarshalJSON() ([]byte, error) {
	d, err := encodeDuration(b.Interval)
	if err != nil {
		return nil, err
	}
	return json.Marshal(backupJSON{Interval: d, Keep: b.Keep})
}

// UnmarshalJSON reads Interval from a duration string; like Agent's, it
// keeps missing fields and refuses unknown ones.
func (b *Backup) UnmarshalJSON(raw []byte) error {
	v := backupJSON{Keep: b.Keep}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("settings: backup: %w", err)
	}
	if v.Interval != nil {
		d, err := decodeDuration(v.Interval)
		if err != nil {
			return fmt.Errorf("settings: backup.interval: %w", err)
		}
		b.Interval = d
	}
	b.Keep = v.Keep
	return nil
}
