package llm

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/airlockhq/airlock/secure/redact"
)

// Provider names.
const (
	ProviderAnthropic = "anthropic"
	ProviderOpenAI    = "openai"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultAnthropicBaseURL = "https://api.anthropic.com"
	DefaultOpenAIBaseURL    = "https://api.openai.com/v1"
	DefaultMaxTokens        = 4096
	DefaultTimeout          = 120 * time.Second
	DefaultMaxRetries       = 3
	DefaultRetryBaseDelay   = 500 * time.Millisecond
	DefaultRetryMaxDelay    = 30 * time.Second
)

// Config selects and tunes a provider. Zero fields get the defaults above.
//
// Config redacts APIKey in every rendering: fmt (all verbs, including %#v),
// slog and encoding/json.
type Config struct {
	Provider string // ProviderAnthropic or ProviderOpenAI
	// BaseURL is the API root: https://api.anthropic.com for Anthropic
	// (a trailing /v1 is tolerated), or the part before /chat/completions
	// for OpenAI-compatible servers (https://api.openai.com/v1,
	// http://localhost:11434/v1 for Ollama, ...).
	BaseURL string
	Model   string
	// APIKey may be empty for local OpenAI-compatible servers; no
	// Authorization header is sent then.
	APIKey    string
	MaxTokens int
	// Timeout bounds one HTTP attempt, body included.
	Timeout time.Duration
	// MaxRetries is the number of retries after the first attempt; a
	// negative value disables retries.
	MaxRetries     int
	RetryBaseDelay time.Duration
	RetryMaxDelay  time.Duration
	// NoPromptCache leaves out Anthropic's cache_control breakpoints
	// (prompt caching is on by default; OpenAI caches on its own).
	NoPromptCache bool
}

// String renders the config with the key redacted.
func (c Config) String() string {
	return fmt.Sprintf("llm.Config{Provider:%s BaseURL:%s Model:%s APIKey:%s MaxTokens:%d Timeout:%s MaxRetries:%d RetryBaseDelay:%s RetryMaxDelay:%s}",
		c.Provider, c.BaseURL, c.Model, c.keyState(), c.MaxTokens, c.Timeout, c.MaxRetries, c.RetryBaseDelay, c.RetryMaxDelay)
}

// GoString implements fmt.GoStringer with the key redacted.
func (c Config) GoString() string { return c.String() }

// Format implements fmt.Formatter so that no verb prints the key.
func (c Config) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// LogValue implements slog.LogValuer with the key redacted.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("provider", c.Provider), slog.String("base_url", c.BaseURL),
		slog.String("model", c.Model), slog.String("api_key", c.keyState()),
		slog.Int("max_tokens", c.MaxTokens), slog.Duration("timeout", c.Timeout),
		slog.Int("max_retries", c.MaxRetries))
}

// MarshalJSON renders the config with the key redacted.
func (c Config) MarshalJSON() ([]byte, error) {
	type plain Config // drops the methods, avoiding recursion
	p := plain(c)
	p.APIKey = c.keyState()
	return json.Marshal(p)
}

func (c Config) keyState() string {
	if c.APIKey == "" {
		return "[unset]"
	}
	return redact.Masked
}

// withDefaults fills zero fields and validates the result.
func (c Config) withDefaults() (Config, error) {
	switch c.Provider {
	case ProviderAnthropic:
		c.BaseURL = orDefault(c.BaseURL, DefaultAnthropicBaseURL)
	case ProviderOpenAI:
		c.BaseURL = orDefault(c.BaseURL, DefaultOpenAIBaseURL)
	default:
		return c, fmt.Errorf("llm: unknown provider %q (want %q or %q): %w", c.Provider, ProviderAnthropic, ProviderOpenAI, ErrInvalidConfig)
	}
	if strings.TrimSpace(c.Model) == "" {
		return c, fmt.Errorf("llm: model is empty: %w", ErrInvalidConfig)
	}
	c.MaxTokens = orDefault(c.MaxTokens, DefaultMaxTokens)
	c.Timeout = orDefault(c.Timeout, DefaultTimeout)
	c.MaxRetries = orDefault(c.MaxRetries, DefaultMaxRetries)
	c.MaxRetries = max(c.MaxRetries, 0)
	c.RetryBaseDelay = orDefault(c.RetryBaseDelay, DefaultRetryBaseDelay)
	c.RetryMaxDelay = orDefault(c.RetryMaxDelay, DefaultRetryMaxDelay)
	if c.MaxTokens < 0 || c.Timeout < 0 || c.RetryBaseDelay < 0 || c.RetryMaxDelay < c.RetryBaseDelay {
		return c, fmt.Errorf("llm: negative limit or retry max delay below base delay: %w", ErrInvalidConfig)
	}
	return c, nil
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// endpoint validates base and returns the full URL of the provider call.
func endpoint(provider, base string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(base))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
		return "", fmt.Errorf("llm: base URL must be an absolute http or https URL without fragment: %w", ErrInvalidConfig)
	}
	if u.User != nil {
		return "", fmt.Errorf("llm: base URL must not carry credentials: %w", ErrInvalidConfig)
	}
	if provider == ProviderAnthropic {
		u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/v1")
		return u.JoinPath("v1", "messages").String(), nil
	}
	return u.JoinPath("chat", "completions").String(), nil
}
