package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/secure/vault"
)

// cheapParams make hashing fast in tests; the production parameters are
// exercised in TestDefaultParamsRoundTrip.
var cheapParams = Params{Time: 1, MemoryKiB: 64, Threads: 1, SaltLen: 16, KeyLen: 32}

const (
	goodPassword = "correct horse battery staple"
	adminName    = "alice"
)

// testClock is a settable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// countingHasher is an Argon2id hasher that counts its work and records
// the parameters of every hash it verified against.
type countingHasher struct {
	inner Argon2id
	mu    sync.Mutex
	hashN int
	verN  int
	ver   []Params
}

func (h *countingHasher) Hash(pw string) (string, error) {
	h.mu.Lock()
	h.hashN++
	h.mu.Unlock()
	return h.inner.Hash(pw)
}

func (h *countingHasher) Verify(pw, encoded string) (bool, error) {
	p, _, _, err := decodeHash(encoded)
	h.mu.Lock()
	h.verN++
	h.ver = append(h.ver, p)
	h.mu.Unlock()
	if err != nil {
		return false, err
	}
	return h.inner.Verify(pw, encoded)
}

// take returns and resets the counts and the recorded parameters.
func (h *countingHasher) take() (hashN, verN int, ver []Params) {
	h.mu.Lock()
	defer h.mu.Unlock()
	hashN, verN, ver = h.hashN, h.verN, h.ver
	h.hashN, h.verN, h.ver = 0, 0, nil
	return hashN, verN, ver
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// env is a Service on a fresh store, with a real audit log, a test clock,
// a counting hasher and a captured log.
type env struct {
	svc    *Service
	st     *store.Store
	clock  *testClock
	hasher *countingHasher
	logs   *syncBuffer
	dir    string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(context.Background(), filepath.Join(dir, "airlock.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{st: st, dir: dir, clock: &testClock{t: time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)},
		hasher: &countingHasher{inner: Argon2id{Params: cheapParams}}, logs: &syncBuffer{}}
	log := audit.New(st, e.clock.Now, nil)
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	key, err := vault.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	e.svc, err = New(Config{Store: st, ServerKey: key, Logger: logger, Hasher: e.hasher, Now: e.clock.Now,
		Audit: func(ctx context.Context, ev audit.Event) {
			if _, err := log.Append(ctx, ev); err != nil {
				t.Errorf("audit append: %v", err)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	e.hasher.take() // the dummy hash
	return e
}

// withAdmin runs setup with a fresh code and returns the admin.
func (e *env) withAdmin(t *testing.T) Admin {
	t.Helper()
	ctx := context.Background()
	code, err := e.svc.StartSetup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.svc.CompleteSetup(ctx, code, adminName, goodPassword, "192.0.2.1")
	if err != nil {
		t.Fatalf("CompleteSetup: %v", err)
	}
	e.hasher.take()
	return a
}

// login logs in as the admin with the good password.
func (e *env) login(t *testing.T, typ string) (string, Session) {
	t.Helper()
	tok, s, err := e.svc.Login(context.Background(), adminName, goodPassword, "192.0.2.1", "test-agent", typ)
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	return tok, s
}

// auditRows returns every audit row.
func (e *env) auditRows(t *testing.T) []store.AuditRow {
	t.Helper()
	var rows []store.AuditRow
	if _, err := e.st.ScanAudit(context.Background(), func(r store.AuditRow) error {
		rows = append(rows, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return rows
}

// countAudit counts rows of action and outcome whose details contain
// every one of substrs.
func (e *env) countAudit(t *testing.T, action, outcome string, substrs ...string) int {
	t.Helper()
	n := 0
rows:
	for _, r := range e.auditRows(t) {
		if r.Action != action || r.Outcome != outcome {
			continue
		}
		for _, s := range substrs {
			if !strings.Contains(r.Details, s) {
				continue rows
			}
		}
		n++
	}
	return n
}

// flush ends the current failure window and writes its summaries.
func (e *env) flush(t *testing.T) {
	t.Helper()
	e.clock.Advance(failureWindow)
	e.svc.FlushFailures(context.Background())
}

// failureCount sums the failures of action that the audit log records with
// reason (for ActionLockout: scope), "" for any: 1 for an entry of its
// own, the count of a summary.
func (e *env) failureCount(t *testing.T, action, reason string) int {
	t.Helper()
	by, one := "reasons", "reason"
	if action == ActionLockout {
		by, one = "scopes", "scope"
	}
	n := 0
	for _, r := range e.auditRows(t) {
		if r.Action != action || r.Outcome != "denied" {
			continue
		}
		var d map[string]any
		if err := json.Unmarshal([]byte(r.Details), &d); err != nil {
			t.Fatal(err)
		}
		switch {
		case d["aggregated"] == true && reason == "":
			n += int(d["count"].(float64))
		case d["aggregated"] == true:
			if c, ok := d[by].(map[string]any)[reason].(float64); ok {
				n += int(c)
			}
		case reason == "" || d[one] == reason:
			n++
		}
	}
	return n
}
