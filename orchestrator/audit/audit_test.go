package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/secure/redact"
)

// testClock hands out times one second apart.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

func openStore(t *testing.T, path string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), path, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newTestLog(t *testing.T) (*Log, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "airlock.db")
	clk := &testClock{t: time.Date(2026, 3, 1, 12, 0, 0, 987654321, time.FixedZone("X", 3600))}
	return New(openStore(t, path), clk.Now, nil), path
}

// rawDB opens the database file directly, as someone tampering with it
// would, with the append-only triggers dropped.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec("DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete"); err != nil {
		t.Fatal(err)
	}
	return db
}

func appendN(t *testing.T, l *Log, n int) []Entry {
	t.Helper()
	var out []Entry
	for i := range n {
		e, err := l.Append(context.Background(), Event{Actor: "admin:alice", Action: "script.approved",
			Target: fmt.Sprintf("script-%d", i), Outcome: OutcomeOK, Details: map[string]any{"n": i}})
		if err != nil {
			t.Fatalf("Append: %v", err)
		}
		out = append(out, e)
	}
	return out
}

func mustVerify(t *testing.T, l *Log) Report {
	t.Helper()
	rep, err := l.Verify(context.Background())
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return rep
}

func TestAppendBuildsChain(t *testing.T) {
	l, _ := newTestLog(t)
	if rep := mustVerify(t, l); !rep.OK || rep.Checked != 0 {
		t.Errorf("empty log: %+v", rep)
	}
	entries := appendN(t, l, 5)
	prev := GenesisHash
	for i, e := range entries {
		if e.ID != int64(i+1) || e.PrevHash != prev || len(e.Hash) != 64 {
			t.Errorf("entry %d: id %d prev %s hash %s", i, e.ID, e.PrevHash, e.Hash)
		}
		if e.Time.Location() != time.UTC || e.Time.Nanosecond() != 987654321 {
			t.Errorf("entry %d: time %v not UTC with nanoseconds", i, e.Time)
		}
		prev = e.Hash
	}
	if rep := mustVerify(t, l); !rep.OK || rep.Checked != 5 || rep.FirstBadID != 0 || rep.Reason != "" {
		t.Errorf("Verify = %+v, want OK over 5", rep)
	}
}

func TestListNewestFirst(t *testing.T) {
	l, _ := newTestLog(t)
	ctx := context.Background()
	appendN(t, l, 3)
	if _, err := l.Append(ctx, Event{Actor: "system", Action: "mcp.peer_refused", Target: "uid=0",
		Outcome: OutcomeDenied, Details: map[string]any{"uid": 0}}); err != nil {
		t.Fatal(err)
	}
	all, err := l.List(ctx, Filter{})
	if err != nil || len(all) != 4 || all[0].ID != 4 || all[3].ID != 1 {
		t.Fatalf("List = %d entries (%v), want 4 newest first", len(all), err)
	}
	if string(all[0].Details) != `{"uid":0}` || all[0].Outcome != OutcomeDenied {
		t.Errorf("newest entry = %+v", all[0])
	}
	got, err := l.List(ctx, Filter{Action: "script.approved", Since: all[2].Time, Limit: 1})
	if err != nil || len(got) != 1 || got[0].ID != 3 {
		t.Errorf("filtered List = %+v, %v; want entry 3", got, err)
	}
}

func TestAppendValidates(t *testing.T) {
	l, path := newTestLog(t)
	for _, ev := range []Event{
		{Action: "x", Outcome: OutcomeOK},
		{Actor: "system", Outcome: OutcomeOK},
		{Actor: "system", Action: "x", Outcome: "maybe"},
	} {
		if _, err := l.Append(context.Background(), ev); err == nil {
			t.Errorf("Append(%+v) succeeded", ev)
		}
	}
	var n int
	if err := rawDB(t, path).QueryRow("SELECT COUNT(*) FROM audit").Scan(&n); err != nil || n != 0 {
		t.Errorf("%d rows stored (%v), want 0", n, err)
	}
}

func TestConcurrentAppendsKeepChain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "airlock.db")
	// Two Stores stand for two processes sharing the file.
	logs := []*Log{New(openStore(t, path), nil, nil), New(openStore(t, path), nil, nil)}
	ctx := context.Background()
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n+1)
	for i := range n {
		wg.Go(func() {
			_, err := logs[i%2].Append(ctx, Event{Actor: "worker", Action: "task.completed",
				Target: fmt.Sprint(i), Outcome: OutcomeOK})
			errs <- err
		})
	}
	// Verifying while appends run must never report tampering.
	wg.Go(func() {
		for range 10 {
			rep, err := logs[1].Verify(ctx)
			if err == nil && !rep.OK {
				err = fmt.Errorf("verify during appends: %+v", rep)
			}
			if err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if rep := mustVerify(t, logs[0]); !rep.OK || rep.Checked != n {
		t.Errorf("Verify = %+v, want OK over %d", rep, n)
	}
}

func TestDetailsCanonicalCappedAndRedacted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "airlock.db")
	l := New(openStore(t, path), nil, holderOf(t, redact.Secret{Name: "KEY", Value: "s3cr3t-value"}))
	ctx := context.Background()
	tests := []struct {
		name    string
		target  string
		details map[string]any
		check   func(string) bool
	}{
		{"nil", "", nil, func(d string) bool { return d == "{}" }},
		{"sorted keys", "", map[string]any{"b": 1, "a": map[string]any{"z": true, "y": nil}},
			func(d string) bool { return d == `{"a":{"y":null,"z":true},"b":1}` }},
		{"redacted", "https://x/?key=s3cr3t-value", map[string]any{"key": "s3cr3t-value"},
			func(d string) bool { return d == `{"key":"[REDACTED:KEY]"}` }},
		{"too big", "", map[string]any{"blob": strings.Repeat("<é>", 10000)},
			func(d string) bool { return len(d) <= MaxDetailsBytes && strings.Contains(d, `"_truncated":true`) }},
		{"unencodable", "", map[string]any{"ch": make(chan int)},
			func(d string) bool { return strings.Contains(d, `"_error"`) }},
	}
	for _, tt := range tests {
		e, err := l.Append(ctx, Event{Actor: "system", Action: "test", Target: tt.target, Outcome: OutcomeOK,
			Details: tt.details})
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if !tt.check(string(e.Details)) || !json.Valid(e.Details) {
			t.Errorf("%s: details = %.200s", tt.name, e.Details)
		}
	}
	var leaked int
	err := rawDB(t, path).QueryRow(
		"SELECT COUNT(*) FROM audit WHERE target LIKE '%s3cr3t%' OR details LIKE '%s3cr3t%'").Scan(&leaked)
	if err != nil || leaked != 0 {
		t.Errorf("%d rows hold the secret (%v)", leaked, err)
	}
	if rep := mustVerify(t, l); !rep.OK {
		t.Errorf("Verify = %+v", rep)
	}
}

func TestRedactThatBreaksJSONKeepsObject(t *testing.T) {
	// A secret that ends in JSON punctuation swallows the string's end.
	l := New(openStore(t, filepath.Join(t.TempDir(), "airlock.db")), nil,
		holderOf(t, redact.Secret{Name: "KEY", Value: `bbbbbbbb"}`}))
	e, err := l.Append(context.Background(), Event{Actor: "system", Action: "test", Outcome: OutcomeOK,
		Details: map[string]any{"a": "bbbbbbbb"}})
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]string
	if err := json.Unmarshal(e.Details, &obj); err != nil || obj["_redacted"] != `{"a":"[REDACTED:KEY]` {
		t.Errorf("details = %s (%v)", e.Details, err)
	}
}

// holderOf returns a redactor holder that knows secrets.
func holderOf(t *testing.T, secrets ...redact.Secret) *redact.Holder {
	t.Helper()
	r, err := redact.New(secrets)
	if err != nil {
		t.Fatal(err)
	}
	var h redact.Holder
	h.Store(r)
	return &h
}

// TestNoRedactorStillRedactsShapes: a Log built without a redactor applies
// the shape detectors, never nothing.
func TestNoRedactorStillRedactsShapes(t *testing.T) {
	l, _ := newTestLog(t)
	key := "ghp_" + strings.Repeat("a1B2", 9)
	e, err := l.Append(context.Background(), Event{Actor: "system", Action: "test", Target: "t " + key,
		Outcome: OutcomeOK, Details: map[string]any{"token": key}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(e.Details), key) || strings.Contains(e.Target, key) {
		t.Errorf("a GitHub token was stored: target %q, details %s", e.Target, e.Details)
	}
}
