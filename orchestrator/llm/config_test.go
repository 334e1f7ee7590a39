package llm

import (
	"errors"
	"testing"
	"time"
)

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"unknown provider", Config{Provider: "gemini", Model: "m"}},
		{"empty provider", Config{Model: "m"}},
		{"empty model", Config{Provider: ProviderOpenAI, Model: " "}},
		{"ftp base", Config{Provider: ProviderOpenAI, Model: "m", BaseURL: "ftp://x/v1"}},
		{"relative base", Config{Provider: ProviderOpenAI, Model: "m", BaseURL: "localhost:11434/v1"}},
		{"credentials in base", Config{Provider: ProviderAnthropic, Model: "m", BaseURL: "https://u:p@h"}},
		{"negative max tokens", Config{Provider: ProviderAnthropic, Model: "m", MaxTokens: -1}},
		{"max delay below base", Config{Provider: ProviderAnthropic, Model: "m", RetryBaseDelay: time.Minute, RetryMaxDelay: time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.cfg, nil, nil, nil); !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("err = %v, want ErrInvalidConfig", err)
			}
		})
	}
}

func TestNewDefaultsAndEndpoints(t *testing.T) {
	tests := []struct {
		provider, base, wantURL string
	}{
		{ProviderAnthropic, "", "https://api.anthropic.com/v1/messages"},
		{ProviderAnthropic, "https://proxy.example/anthropic/v1/", "https://proxy.example/anthropic/v1/messages"},
		{ProviderOpenAI, "", "https://api.openai.com/v1/chat/completions"},
		{ProviderOpenAI, "http://localhost:11434/v1/", "http://localhost:11434/v1/chat/completions"},
	}
	for _, tt := range tests {
		c, err := New(Config{Provider: tt.provider, BaseURL: tt.base, Model: "m"}, nil, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.url != tt.wantURL {
			t.Errorf("%s %q: url = %q, want %q", tt.provider, tt.base, c.url, tt.wantURL)
		}
		got := c.Config()
		if got.MaxTokens != 4096 || got.Timeout != 120*time.Second || got.MaxRetries != 3 ||
			got.RetryBaseDelay != 500*time.Millisecond || got.RetryMaxDelay != 30*time.Second {
			t.Errorf("defaults not applied: %v", got)
		}
		if c.Provider() != tt.provider || c.Model() != "m" {
			t.Errorf("accessors = %q %q", c.Provider(), c.Model())
		}
	}
}
