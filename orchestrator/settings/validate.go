package settings

import (
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/airlockhq/airlock/internal/utf8cut"
	"github.com/airlockhq/airlock/orchestrator/config"
	"github.com/airlockhq/airlock/secure/egress"
)

// Bounds checked by Validate.
const (
	MaxMaxTokens        = 200_000
	MaxMaxRounds        = 50
	MinHistoryTokens    = 500
	MaxHistoryTokens    = 1_000_000
	MinTaskTimeout      = 10 * time.Second
	MaxTaskTimeout      = 30 * time.Minute
	MaxRateLimit        = 600
	MaxMessagesPerReply = 20
	MaxListEntries      = 100
	MaxWorkspaceFiles   = 1_000_000
	MaxPendingPerScript = 100
	MaxPendingTotal     = 1000
	MinNotifyWindow     = time.Minute
	MaxNotifyWindow     = 24 * time.Hour
	maxModelBytes       = 200
	// MaxPrice bounds a price per million tokens, and MaxMoneyPerDay the
	// daily money budget: larger values are typing mistakes.
	MaxPrice          = 10_000.0
	MaxMoneyPerDay    = 1_000_000.0
	maxURLBytes       = 2048
	minSnowflakeBytes = 17
	maxSnowflakeBytes = 20
)

// FieldError is one problem with one setting. Message is safe to show to
// an admin; it quotes (truncated) the offending value where that helps.
type FieldError struct {
	Field   string `json:"field"` // dotted name, e.g. "llm.max_tokens"
	Message string `json:"message"`
}

func (e FieldError) Error() string { return e.Field + ": " + e.Message }

// ValidationError lists every problem found in a settings value, in field
// order, so a UI can show each next to its field.
type ValidationError struct {
	Problems []FieldError `json:"problems"`
}

func (e *ValidationError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.Error()
	}
	return "settings: invalid: " + strings.Join(msgs, "; ")
}

// Fields returns the dotted names of the fields with a problem, each once.
func (e *ValidationError) Fields() []string {
	var out []string
	for _, p := range e.Problems {
		if len(out) == 0 || out[len(out)-1] != p.Field {
			out = append(out, p.Field)
		}
	}
	return out
}

// Normalize returns s with surrounding spaces trimmed from every string and
// list entry, empty list entries dropped, and repeated entries dropped
// (keeping the first; egress entries compare case-insensitively). Lists are
// never nil. Update normalizes before it validates.
func (s Settings) Normalize() Settings {
	s = s.clone()
	s.LLM.Provider = strings.TrimSpace(s.LLM.Provider)
	s.LLM.BaseURL = strings.TrimSpace(s.LLM.BaseURL)
	s.LLM.Model = strings.TrimSpace(s.LLM.Model)
	for i := range s.LLM.Prices {
		s.LLM.Prices[i].Model = strings.TrimSpace(s.LLM.Prices[i].Model)
	}
	s.Discord.ReviewBaseURL = strings.TrimSpace(s.Discord.ReviewBaseURL)
	s.Discord.AllowedUsers = dedupe(s.Discord.AllowedUsers, false)
	s.Discord.AllowedChannels = dedupe(s.Discord.AllowedChannels, false)
	s.Discord.Admins = dedupe(s.Discord.Admins, false)
	s.Discord.LinkPreviewHosts = dedupe(s.Discord.LinkPreviewHosts, true)
	for i, h := range s.Discord.LinkPreviewHosts {
		s.Discord.LinkPreviewHosts[i] = strings.ToLower(h)
	}
	s.EgressAllow = dedupe(s.EgressAllow, true)
	return s
}

// dedupe trims entries, drops empty and repeated ones, and never returns nil.
func dedupe(l []string, fold bool) []string {
	out := make([]string, 0, len(l))
	seen := make(map[string]bool, len(l))
	for _, e := range l {
		e = strings.TrimSpace(e)
		k := e
		if fold {
			k = strings.ToLower(e)
		}
		if e == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, e)
	}
	return out
}

// Validate reports every problem with s as a *ValidationError, or nil.
// Lists must already be free of empty and repeated entries (see Normalize).
func (s Settings) Validate() error {
	var v validator
	v.llm(s.LLM)
	v.intRange("agent.max_rounds", s.Agent.MaxRounds, 1, MaxMaxRounds)
	if d := s.Agent.TaskTimeout; d < MinTaskTimeout || d > MaxTaskTimeout {
		v.fail("agent.task_timeout", "must be between %s and %s, got %s", MinTaskTimeout, MaxTaskTimeout, d)
	}
	v.intRange("agent.history_tokens", s.Agent.HistoryTokens, MinHistoryTokens, MaxHistoryTokens)
	v.snowflakes("discord.allowed_users", s.Discord.AllowedUsers)
	v.snowflakes("discord.allowed_channels", s.Discord.AllowedChannels)
	v.snowflakes("discord.admins", s.Discord.Admins)
	v.baseURL("discord.review_base_url", s.Discord.ReviewBaseURL)
	v.intRange("discord.rate_limit_per_minute", s.Discord.RateLimitPerMinute, 1, MaxRateLimit)
	v.intRange("discord.max_messages_per_reply", s.Discord.MaxMessagesPerReply, 1, MaxMessagesPerReply)
	if s.Discord.LinkPreviews && len(s.Discord.LinkPreviewHosts) == 0 {
		v.fail("discord.link_previews", "is on but discord.link_preview_hosts lists no host; list the hosts whose links may be previewed, or turn previews off")
	}
	v.hosts("discord.link_preview_hosts", s.Discord.LinkPreviewHosts)
	v.intRange("workspace.max_files", s.Workspace.MaxFiles, 1, MaxWorkspaceFiles)
	v.scripts(s.Scripts)
	v.egress(s.EgressAllow)
	v.jobs(s.Jobs)
	v.backup(s.Backup)
	return v.err()
}

func (v *validator) scripts(s Scripts) {
	v.intRange("scripts.max_pending_per_script", s.MaxPendingPerScript, 1, MaxPendingPerScript)
	if s.MaxPendingPerScript > s.MaxPendingTotal && s.MaxPendingTotal >= 1 {
		v.fail("scripts.max_pending_per_script", "must not be more than scripts.max_pending_total (%d), got %d",
			s.MaxPendingTotal, s.MaxPendingPerScript)
	}
	v.intRange("scripts.max_pending_total", s.MaxPendingTotal, 1, MaxPendingTotal)
	if d := s.NotifyWindow; d < MinNotifyWindow || d > MaxNotifyWindow {
		v.fail("scripts.notify_window", "must be between %s and %s, got %s", MinNotifyWindow, MaxNotifyWindow, d)
	}
}

// validator collects problems.
type validator struct{ problems []FieldError }

func (v *validator) fail(field, format string, args ...any) {
	v.problems = append(v.problems, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (v *validator) err() error {
	if len(v.problems) == 0 {
		return nil
	}
	return &ValidationError{Problems: v.problems}
}

func (v *validator) llm(l LLM) {
	if l.Provider != config.ProviderAnthropic && l.Provider != config.ProviderOpenAI {
		v.fail("llm.provider", "must be %q or %q, got %q", config.ProviderAnthropic, config.ProviderOpenAI, truncate(l.Provider))
	}
	v.baseURL("llm.base_url", l.BaseURL)
	if !validModel(l.Model) {
		v.fail("llm.model", "must be empty (not configured) or 1 to %d visible ASCII characters without spaces, got %q",
			maxModelBytes, truncate(l.Model))
	}
	v.intRange("llm.max_tokens", l.MaxTokens, 1, MaxMaxTokens)
	if l.RequestsPerDay < 0 {
		v.fail("llm.requests_per_day", "must not be negative (0 means unlimited), got %d", l.RequestsPerDay)
	}
	if l.TokensPerDay < 0 {
		v.fail("llm.tokens_per_day", "must not be negative (0 means unlimited), got %d", l.TokensPerDay)
	}
	v.prices(l.Prices)
	switch {
	case math.IsNaN(l.MoneyPerDay) || l.MoneyPerDay < 0 || l.MoneyPerDay > MaxMoneyPerDay:
		v.fail("llm.money_per_day", "must be between 0 (unlimited) and %g, got %g", MaxMoneyPerDay, l.MoneyPerDay)
	case l.MoneyPerDay > 0 && l.Model != "":
		if p, ok := l.PriceOf(l.Model); !ok || p.Input == nil || p.Output == nil {
			v.fail("llm.money_per_day", "is set, but llm.prices has no input and output price for the model %q, so its calls could not be counted; add its prices (0 for a local model) or set 0 (unlimited)",
				truncate(l.Model))
		}
	}
}

// prices checks the price table: at most MaxListEntries entries, each
// with a model name given once and prices, where known, between 0 and
// MaxPrice.
func (v *validator) prices(ps []ModelPrice) {
	const field = "llm.prices"
	if len(ps) > MaxListEntries {
		v.fail(field, "has %d entries, at most %d are allowed", len(ps), MaxListEntries)
	}
	seen := map[string]bool{}
	for i, p := range ps {
		switch {
		case p.Model == "" || !validModel(p.Model):
			v.fail(field, "entry %d: model must be 1 to %d visible ASCII characters without spaces, got %q", i+1, maxModelBytes, truncate(p.Model))
		case seen[p.Model]:
			v.fail(field, "entry %d: model %q is listed twice", i+1, truncate(p.Model))
		}
		seen[p.Model] = true
		for _, c := range []struct {
			name string
			val  *float64
		}{{"input", p.Input}, {"output", p.Output}, {"cache_read", p.CacheRead}, {"cache_write", p.CacheWrite}} {
			if c.val != nil && (math.IsNaN(*c.val) || *c.val < 0 || *c.val > MaxPrice) {
				v.fail(field, "entry %d (model %q): %s must be empty (unknown) or between 0 and %g per million tokens, got %g",
					i+1, truncate(p.Model), c.name, MaxPrice, *c.val)
			}
		}
	}
}

func (v *validator) intRange(field string, n, lo, hi int) {
	if n < lo || n > hi {
		v.fail(field, "must be between %d and %d, got %d", lo, hi, n)
	}
}

// baseURL accepts "" or an absolute http(s) URL with a host and without
// credentials, query or fragment.
func (v *validator) baseURL(field, raw string) {
	if raw == "" {
		return
	}
	if len(raw) > maxURLBytes {
		v.fail(field, "must be at most %d bytes, got %d", maxURLBytes, len(raw))
		return
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || strings.ContainsAny(raw, " \t\r\n"):
		v.fail(field, "is not a valid URL")
	case u.User != nil:
		v.fail(field, "must not contain a user name or password")
	case (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "":
		v.fail(field, "must be an absolute http:// or https:// URL with a host, got %q", truncate(raw))
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(raw, "#"):
		v.fail(field, "must not have a query (?) or fragment (#)")
	}
}

func (v *validator) snowflakes(field string, ids []string) {
	v.listShape(field, ids, false)
	for i, id := range ids {
		if !validSnowflake(id) {
			v.fail(field, "entry %d %q is not a Discord id (%d to %d digits)", i, truncate(id), minSnowflakeBytes, maxSnowflakeBytes)
		}
	}
}

// hosts checks a list of DNS host names (letters, digits and hyphens in
// dot-separated labels; no wildcard, port, scheme or IP address).
func (v *validator) hosts(field string, list []string) {
	v.listShape(field, list, true)
	for i, h := range list {
		if !validHostname(h) {
			v.fail(field, "entry %d %q is not a host name such as www.youtube.com (no scheme, port, path or wildcard)", i, truncate(h))
		}
	}
}

// validHostname reports whether h is a DNS name of at least two labels,
// each 1 to 63 letters, digits or inner hyphens, the last not all digits.
func validHostname(h string) bool {
	if len(h) > 253 {
		return false
	}
	labels := strings.Split(h, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return strings.Trim(labels[len(labels)-1], "0123456789") != ""
}

func (v *validator) egress(list []string) {
	v.listShape("egress_allow", list, true)
	for i, e := range list {
		// The guard's own parser, so validation and use cannot disagree.
		if _, err := egress.ParseAllow([]string{e}); err != nil || strings.TrimSpace(e) != e {
			v.fail("egress_allow", "entry %d %q is not a hostname, IP address or CIDR", i, truncate(e))
		}
	}
}

// listShape checks the length of a list and that it has no empty or
// repeated entry.
func (v *validator) listShape(field string, l []string, fold bool) {
	if len(l) > MaxListEntries {
		v.fail(field, "has %d entries, at most %d are allowed", len(l), MaxListEntries)
	}
	seen := make(map[string]bool, len(l))
	for i, e := range l {
		k := e
		if fold {
			k = strings.ToLower(e)
		}
		switch {
		case strings.TrimSpace(e) == "":
			v.fail(field, "entry %d is empty", i)
		case seen[k]:
			v.fail(field, "entry %d %q is repeated", i, truncate(e))
		}
		seen[k] = true
	}
}

// validModel reports whether m is empty or 1 to maxModelBytes visible ASCII
// characters.
func validModel(m string) bool {
	if len(m) > maxModelBytes {
		return false
	}
	for i := 0; i < len(m); i++ {
		if m[i] <= ' ' || m[i] > '~' {
			return false
		}
	}
	return true
}

func validSnowflake(id string) bool {
	if len(id) < minSnowflakeBytes || len(id) > maxSnowflakeBytes {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return true
}

// truncate shortens s for an error message.
func truncate(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return utf8cut.Prefix(s, max) + "…"
}

func (v *validator) backup(b Backup) {
	if d := b.Interval; d != 0 && (d < MinBackupInterval || d > MaxBackupInterval) {
		v.fail("backup.interval", "must be 0 (off) or between %s and %s, got %s", MinBackupInterval, MaxBackupInterval, d)
	}
	v.intRange("backup.keep", b.Keep, 1, MaxBackupKeep)
}
