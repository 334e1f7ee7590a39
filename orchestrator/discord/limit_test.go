package discord

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airlockhq/airlock/orchestrator"
	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/store"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestRateLimiterWindows(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := newRateLimiter(2, time.Minute, clk.Now)
	type res struct{ allowed, warn bool }
	steps := []struct {
		user    string
		advance time.Duration
		want    res
	}{
		{"a", 0, res{true, false}},
		{"a", 0, res{true, false}},
		{"b", 0, res{true, false}}, // users are counted apart
		{"a", 0, res{false, true}}, // first refusal: tell the user
		{"a", 0, res{false, false}},
		{"a", time.Minute, res{true, false}}, // a new window
	}
	for i, s := range steps {
		clk.Advance(s.advance)
		allowed, warn := l.allow(s.user)
		if (res{allowed, warn}) != s.want {
			t.Errorf("step %d (%s): allow = %v, %v; want %+v", i, s.user, allowed, warn, s.want)
		}
	}
}

func TestAuditThrottleOncePerUserPerInterval(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	a := newAuditThrottle(time.Hour, clk.Now)
	if !a.due("x") || a.due("x") || !a.due("y") {
		t.Fatal("want x once, then y")
	}
	clk.Advance(59 * time.Minute)
	if a.due("x") {
		t.Error("x audited again within the hour")
	}
	clk.Advance(time.Minute)
	if !a.due("x") {
		t.Error("x not audited after an hour")
	}
	for i := range maxTracked + 10 {
		a.due(fmt.Sprint("flood", i))
	}
	if len(a.last) > maxTracked {
		t.Errorf("throttle holds %d users, cap %d", len(a.last), maxTracked)
	}
}

func TestNewChecksConfig(t *testing.T) {
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "a.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	full := Deps{Handler: &stubHandler{}, Store: st, Audit: audit.New(st, nil, nil)}
	tests := []struct {
		name string
		cfg  Config
		deps Deps
		want string
	}{
		{"no token", Config{}, full, "no bot token"},
		{"relative review URL", Config{Token: testToken, ReviewBaseURL: "/admin"}, full, "review base URL"},
		{"javascript review URL", Config{Token: testToken, ReviewBaseURL: "javascript:alert(1)"}, full, "review base URL"},
		{"missing deps", Config{Token: testToken}, Deps{Handler: full.Handler}, "required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg, tt.deps)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New = %v, want error containing %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), testToken) {
				t.Error("error holds the token")
			}
		})
	}
}

var _ Handler = (*orchestrator.Core)(nil)

func TestRunTwiceRefused(t *testing.T) {
	e := newEnv(t, nil)
	if err := e.bot.Run(context.Background()); err != ErrRunning {
		t.Errorf("second Run = %v, want ErrRunning", err)
	}
}
