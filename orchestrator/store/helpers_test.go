package store

import (
	"context"
	"database/sql"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// testClock is a settable clock for Store.now.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)}
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

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// openAt opens a Store on path and closes it at the end of the test.
func openAt(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, discardLogger())
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// newTestStore opens a fresh Store in a temp dir, driven by a test clock.
func newTestStore(t *testing.T) (*Store, *testClock, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "airlock.db")
	s := openAt(t, path)
	clk := newTestClock()
	s.now = clk.Now
	return s, clk, path
}

// rawDB opens a plain connection on path, bypassing Store, as an attacker
// or an operator with the file would.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// countRows returns SELECT COUNT(*) FROM table.
func countRows(t *testing.T, db *sql.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

func mustConversation(t *testing.T, s *Store) Conversation {
	t.Helper()
	c, err := s.CreateConversation(context.Background(), SourceWeb, "test")
	if err != nil {
		t.Fatalf("CreateConversation: %v", err)
	}
	return c
}
