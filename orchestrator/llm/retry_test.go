package llm

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/airlockhq/airlock/internal/backoff"
	"github.com/airlockhq/airlock/orchestrator/llm/llmtest"
)

func TestRetryAfterThenSuccess(t *testing.T) {
	for _, p := range []string{ProviderOpenAI, ProviderAnthropic} {
		t.Run(p, func(t *testing.T) {
			s := newFake(t)
			c, sl := newTestClient(t, p, s)
			s.Enqueue(llmtest.Reply{Status: 429, RetryAfter: "7"}, llmtest.Reply{Status: 529, RetryAfter: "120"},
				llmtest.Reply{Text: "finally"})
			resp, err := c.Complete(context.Background(), conversation())
			if err != nil {
				t.Fatal(err)
			}
			if resp.Message.Content != "finally" || len(s.Requests()) != 3 {
				t.Errorf("content %q after %d requests", resp.Message.Content, len(s.Requests()))
			}
			if want := []time.Duration{7 * time.Second, DefaultRetryMaxDelay}; !reflect.DeepEqual(sl.got(), want) {
				t.Errorf("waits = %v, want %v (Retry-After, capped)", sl.got(), want)
			}
		})
	}
}

func TestServerErrorsExhaustRetries(t *testing.T) {
	s := newFake(t)
	c, sl := newTestClient(t, ProviderOpenAI, s)
	for range 4 {
		s.Enqueue(llmtest.Reply{Status: 500, Text: "boom"})
	}
	s.Enqueue(llmtest.Reply{Text: "too late"})
	_, err := c.Complete(context.Background(), conversation())
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 500 || ae.Message != "boom" || ae.Type != "server_error" {
		t.Fatalf("err = %v, want APIError 500 boom", err)
	}
	if !strings.HasPrefix(err.Error(), "llm: ") || !strings.Contains(err.Error(), "after 4 attempts") {
		t.Errorf("error text = %q", err)
	}
	if n := len(s.Requests()); n != 4 {
		t.Errorf("requests = %d, want 4 (1 + 3 retries)", n)
	}
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second}
	if !reflect.DeepEqual(sl.got(), want) {
		t.Errorf("backoff ceilings = %v, want %v", sl.got(), want)
	}
}

func TestBackoffCappedAtMaxDelay(t *testing.T) {
	c, err := New(Config{Provider: ProviderOpenAI, Model: "m", RetryBaseDelay: time.Second, RetryMaxDelay: 5 * time.Second}, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.jitter = func(d time.Duration) time.Duration { return d }
	var got []time.Duration
	for attempt := range 5 {
		got = append(got, c.backoff(attempt, &attemptError{}))
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("backoff = %v, want %v", got, want)
	}
}

func TestClientErrorsNotRetried(t *testing.T) {
	tests := []struct {
		status int
		retry  bool
	}{{400, false}, {401, false}, {403, false}, {404, false}, {422, false}, {408, true}, {502, true}, {503, true}, {504, true}}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			s := newFake(t)
			c, _ := newTestClient(t, ProviderAnthropic, s, func(c *Config) { c.MaxRetries = 1 })
			s.Enqueue(llmtest.Reply{Status: tt.status}, llmtest.Reply{Status: tt.status})
			_, err := c.Complete(context.Background(), conversation())
			var ae *APIError
			if !errors.As(err, &ae) || ae.Status != tt.status || ae.Provider != ProviderAnthropic {
				t.Fatalf("err = %v", err)
			}
			want := 1
			if tt.retry {
				want = 2
			}
			if n := len(s.Requests()); n != want {
				t.Errorf("requests = %d, want %d", n, want)
			}
		})
	}
}

func TestNegativeMaxRetriesDisablesRetry(t *testing.T) {
	s := newFake(t)
	c, _ := newTestClient(t, ProviderOpenAI, s, func(c *Config) { c.MaxRetries = -1 })
	s.Enqueue(llmtest.Reply{Status: 503})
	if _, err := c.Complete(context.Background(), conversation()); err == nil || len(s.Requests()) != 1 {
		t.Errorf("err = %v after %d requests", err, len(s.Requests()))
	}
}

func TestCancelDuringBackoff(t *testing.T) {
	s := newFake(t)
	c, _ := newTestClient(t, ProviderOpenAI, s)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c.sleep = func(ctx context.Context, d time.Duration) error {
		cancel()
		return backoff.Sleep(ctx, time.Hour)
	}
	s.Enqueue(llmtest.Reply{Status: 503}, llmtest.Reply{Text: "never"})
	_, err := c.Complete(ctx, conversation())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if n := len(s.Requests()); n != 1 {
		t.Errorf("requests = %d, want 1", n)
	}
}

func TestPerAttemptTimeoutRetried(t *testing.T) {
	s := newFake(t)
	c, sl := newTestClient(t, ProviderAnthropic, s, func(c *Config) { c.Timeout = 500 * time.Millisecond })
	s.Enqueue(llmtest.Reply{Delay: time.Minute, Text: "slow"}, llmtest.Reply{Text: "fast"})
	resp, err := c.Complete(context.Background(), conversation())
	if err != nil {
		t.Fatal(err)
	}
	if resp.Message.Content != "fast" || len(sl.got()) != 1 {
		t.Errorf("content %q after %d retries", resp.Message.Content, len(sl.got()))
	}
}

func TestTransportErrorRetried(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, err := New(Config{Provider: ProviderOpenAI, Model: "m", BaseURL: "http://" + addr + "/v1", MaxRetries: 2}, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	sl := &sleeps{}
	c.sleep = sl.sleep
	_, err = c.Complete(context.Background(), conversation())
	if err == nil || !strings.HasPrefix(err.Error(), "llm: openai request: ") || len(sl.got()) != 2 {
		t.Errorf("err = %v after %d waits", err, len(sl.got()))
	}
}

func TestOversizedResponseRejected(t *testing.T) {
	big := strings.Repeat(" ", maxResponseBody+1)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(big))
	}))
	defer hs.Close()
	c, err := New(Config{Provider: ProviderAnthropic, Model: "m", BaseURL: hs.URL}, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Complete(context.Background(), conversation())
	if err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("err = %v, want size cap error", err)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"3", 3 * time.Second, true},
		{" 0 ", 0, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"", 0, false}, {"-1", 0, false}, {"soon", 0, false}, {"1.5", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
