package llm

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

type fakeUsage struct {
	requests, tokens int
	err              error
	since            []time.Time
}

func (f *fakeUsage) UsageSince(_ context.Context, since time.Time) (int, int, error) {
	f.since = append(f.since, since)
	return f.requests, f.tokens, f.err
}

func TestGatewayBudget(t *testing.T) {
	// 23:30 at UTC-5 is 04:30 UTC the next day.
	now := time.Date(2026, 3, 4, 23, 30, 0, 0, time.FixedZone("EST", -5*3600))
	day := time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		budget    Budget
		usage     fakeUsage
		wantMsg   string // "" means the call goes through
		wantCount bool
	}{
		{name: "unlimited", budget: Budget{}, usage: fakeUsage{requests: 1e6, tokens: 1e9}},
		{name: "under limits", budget: Budget{RequestsPerDay: 200, TokensPerDay: 1000}, usage: fakeUsage{requests: 199, tokens: 999}, wantCount: true},
		{name: "requests used up", budget: Budget{RequestsPerDay: 200}, usage: fakeUsage{requests: 200}, wantCount: true,
			wantMsg: "The daily LLM request budget (200 requests) is used up; it resets at 00:00 UTC."},
		{name: "tokens used up", budget: Budget{RequestsPerDay: 200, TokensPerDay: 50000}, usage: fakeUsage{requests: 3, tokens: 50001}, wantCount: true,
			wantMsg: "The daily LLM token budget (50000 tokens) is used up; it resets at 00:00 UTC."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newFake(t)
			c, _ := newTestClient(t, ProviderOpenAI, s)
			u := tt.usage
			g := NewGateway(c, tt.budget, &u, func() time.Time { return now })
			_, err := g.Complete(context.Background(), conversation())
			if tt.wantMsg == "" {
				if err != nil || len(s.Requests()) != 1 {
					t.Fatalf("err = %v, requests = %d", err, len(s.Requests()))
				}
			} else {
				var be *BudgetError
				if !errors.Is(err, ErrBudgetExhausted) || !errors.As(err, &be) {
					t.Fatalf("err = %v, want budget error", err)
				}
				if be.UserMessage() != tt.wantMsg || !be.ResetAt.Equal(day.AddDate(0, 0, 1)) {
					t.Errorf("UserMessage = %q, ResetAt = %v", be.UserMessage(), be.ResetAt)
				}
				if n := len(s.Requests()); n != 0 {
					t.Errorf("%d requests reached the provider", n)
				}
			}
			if tt.wantCount && (len(u.since) != 1 || !u.since[0].Equal(day)) {
				t.Errorf("UsageSince called with %v, want [%v]", u.since, day)
			}
			if !tt.wantCount && len(u.since) != 0 {
				t.Error("usage read for an unlimited budget")
			}
		})
	}
}

func TestGatewayUsageErrorFailsClosed(t *testing.T) {
	s := newFake(t)
	c, _ := newTestClient(t, ProviderOpenAI, s)
	boom := errors.New("db locked")
	g := NewGateway(c, Budget{RequestsPerDay: 1}, &fakeUsage{err: boom}, nil)
	if _, err := g.Complete(context.Background(), conversation()); !errors.Is(err, boom) || len(s.Requests()) != 0 {
		t.Errorf("err = %v, requests = %d", err, len(s.Requests()))
	}
	g = NewGateway(c, Budget{TokensPerDay: 1}, nil, nil)
	if _, err := g.Complete(context.Background(), conversation()); err == nil || len(s.Requests()) != 0 {
		t.Errorf("budget without counter: err = %v", err)
	}
}

func TestGatewaySwapClient(t *testing.T) {
	s := newFake(t)
	g := NewGateway(nil, Budget{}, nil, nil)
	if _, err := g.Complete(context.Background(), conversation()); !errors.Is(err, ErrNotConfigured) {
		t.Fatalf("err = %v, want ErrNotConfigured", err)
	}
	if g.Model() != "" || g.Provider() != "" {
		t.Error("unconfigured gateway reports a model")
	}
	a, _ := newTestClient(t, ProviderOpenAI, s, func(c *Config) { c.Model = "model-a" })
	b, _ := newTestClient(t, ProviderAnthropic, s, func(c *Config) { c.Model = "model-b" })
	g.SetClient(a)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if i%2 == 0 {
				g.SetClient(b)
			}
			if _, err := g.Complete(context.Background(), conversation()); err != nil {
				t.Error(err)
			}
			g.SetBudget(Budget{})
		})
	}
	wg.Wait()
	g.SetClient(b)
	if g.Model() != "model-b" || g.Provider() != ProviderAnthropic || g.Client() != b {
		t.Errorf("after swap: %s %s", g.Provider(), g.Model())
	}
	s.Reset()
	if _, err := g.Complete(context.Background(), conversation()); err != nil {
		t.Fatal(err)
	}
	if rec := onlyRequest(t, s); rec.Model != "model-b" || rec.Provider != ProviderAnthropic {
		t.Errorf("request went to %s %s", rec.Provider, rec.Model)
	}
}
