package discord

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/discord/discordtest"
	"github.com/airlockhq/airlock/orchestrator/store"
)

// TestRunner: Refresh starts the bot once a token is set, keeps it while
// nothing changed, restarts it when the allowlist changes, keeps the old
// one when reading the configuration fails, and stops it when the token is
// removed; Status tells the dashboard each time.
func TestRunner(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	fake, err := discordtest.New(discordtest.Options{Token: testToken, HeartbeatInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "airlock.db"), logger)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	var mu sync.Mutex
	conf, readErr := Config{}, error(nil)
	current := func(context.Context) (Config, error) {
		mu.Lock()
		defer mu.Unlock()
		return conf, readErr
	}
	set := func(c Config, err error) {
		mu.Lock()
		conf, readErr = c, err
		mu.Unlock()
	}
	r := NewRunner(ctx, current, Deps{Handler: &stubHandler{}, Store: st, Audit: audit.New(st, nil, nil),
		Logger: logger, HTTPClient: fake.Client()})
	defer r.Close()
	bot := func() *Bot {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.bot
	}

	r.Refresh()
	if s := r.Status(); s.Enabled || bot() != nil {
		t.Fatalf("no token: status %+v, bot %v", s, bot())
	}
	set(Config{Token: testToken, AllowedUsers: []string{alice.ID}}, nil)
	r.Refresh()
	if err := fake.Wait(ctx, func() bool { return r.Status().Connected }); err != nil {
		t.Fatalf("the bot did not connect: %v (status %+v)", err, r.Status())
	}
	first := bot()
	r.Refresh()
	if bot() != first {
		t.Error("a refresh without a change restarted the bot")
	}
	set(Config{Token: testToken, AllowedUsers: []string{alice.ID}}, errors.New("vault locked"))
	r.Refresh()
	if bot() != first {
		t.Error("a failed read replaced the bot")
	}
	set(Config{Token: testToken, AllowedUsers: []string{alice.ID, adminID}}, nil)
	r.Refresh()
	if b := bot(); b == nil || b == first {
		t.Error("a new allowlist did not restart the bot")
	}
	set(Config{}, nil)
	r.Refresh()
	if s := r.Status(); s.Enabled || s.Connected || bot() != nil {
		t.Errorf("token removed: status %+v, bot %v", s, bot())
	}
}
