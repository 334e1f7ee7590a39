package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ftsCounts returns how many messages wait in the index queue and how many
// rows of messages_fts match word (in the index itself, no catching up).
func ftsCounts(t *testing.T, s *Store, word string) (queued, indexed int) {
	t.Helper()
	if err := s.writer.QueryRow("SELECT count(*) FROM messages_fts_queue").Scan(&queued); err != nil {
		t.Fatal(err)
	}
	if err := s.writer.QueryRow("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH ?", "content : "+word).Scan(&indexed); err != nil {
		t.Fatal(err)
	}
	return queued, indexed
}

// waitIndexed waits until the queue is empty and word is indexed once,
// without searching (which would index the queue itself).
func waitIndexed(t *testing.T, s *Store, word string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		q, n := ftsCounts(t, s, word)
		if q == 0 && n == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%q not indexed in the background: %d queued, %d indexed", word, q, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func ftsIntegrity(t *testing.T, s *Store) {
	t.Helper()
	if _, err := s.writer.Exec("INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')"); err != nil {
		t.Errorf("messages_fts integrity check: %v", err)
	}
}

// TestMessagesIndexedFromQueue: a new user message or final answer is
// queued, not indexed in its own commit; a search indexes the queue first
// and finds it; without a search the store indexes it soon after. Tool
// messages are never indexed.
func TestMessagesIndexedFromQueue(t *testing.T) {
	s, _, _ := newTestStore(t)
	ctx := context.Background()
	c := mustConversation(t, s)
	if _, _, err := s.StartTask(ctx, c.ID, AudienceAdmin, "the zebra crossing"); err != nil {
		t.Fatal(err)
	}
	addMsg(t, s, c.ID, "t", RoleTool, "a zebra from a tool")
	if q, n := ftsCounts(t, s, "zebra"); q != 1 || n != 0 {
		t.Fatalf("after the write: %d queued, %d indexed; want 1 queued, none indexed yet", q, n)
	}
	if got := searchTexts(t, s, Search{Reader: AudienceAdmin, Query: "zebra"}); len(got) != 1 || !strings.Contains(got[0], "crossing") {
		t.Fatalf("search right after the write: %q", got)
	}
	if q, n := ftsCounts(t, s, "zebra"); q != 0 || n != 1 {
		t.Fatalf("after the search: %d queued, %d indexed", q, n)
	}

	// No search: the store indexes the queue on its own.
	addMsg(t, s, c.ID, "t", RoleAssistant, "an okapi answer")
	waitIndexed(t, s, "okapi")
	ftsIntegrity(t, s)
}

// TestIndexQueueDeletesAndEdits: deleting or editing a message, queued or
// indexed, leaves an index that is consistent and finds what is stored
// now. A queued message must not be deleted from the index it never
// reached (an external-content FTS5 index would be corrupted).
func TestIndexQueueDeletesAndEdits(t *testing.T) {
	s, _, _ := newTestStore(t)
	c := mustConversation(t, s)
	addMsg(t, s, c.ID, "t", RoleUser, "indexed walrus")
	searchTexts(t, s, Search{Reader: AudienceAdmin, Query: "walrus"}) // indexes it
	s.stopIndexing()                                                  // the rest stays queued
	addMsg(t, s, c.ID, "t", RoleUser, "queued walrus")
	addMsg(t, s, c.ID, "t", RoleUser, "queued narwhal")
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := s.writer.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec("DELETE FROM messages WHERE content = 'queued walrus'")
	exec("UPDATE messages SET content = 'edited beluga' WHERE content = 'indexed walrus'")
	exec("UPDATE messages SET content = 'edited orca' WHERE content = 'queued narwhal'")
	if q, _ := ftsCounts(t, s, "walrus"); q != 2 {
		t.Errorf("queue after the edits: %d, want the two edited messages", q)
	}
	ftsIntegrity(t, s)
	for word, want := range map[string]int{"walrus": 0, "narwhal": 0, "beluga": 1, "orca": 1} {
		if got := searchTexts(t, s, Search{Reader: AudienceAdmin, Query: word}); len(got) != want {
			t.Errorf("search %q: %q, want %d hits", word, got, want)
		}
	}
	exec("DELETE FROM messages WHERE content = 'edited beluga'")
	if got := searchTexts(t, s, Search{Reader: AudienceAdmin, Query: "beluga"}); len(got) != 0 {
		t.Errorf("a deleted indexed message is found: %q", got)
	}
	ftsIntegrity(t, s)
}

// TestIndexQueueSurvivesRestart: messages queued when the process stops
// are indexed by the next one, without waiting for a search.
func TestIndexQueueSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "airlock.db")
	s := openAt(t, path)
	c := mustConversation(t, s)
	s.stopIndexing()
	addMsg(t, s, c.ID, "t", RoleUser, "a pangolin before the restart")
	if q, _ := ftsCounts(t, s, "pangolin"); q != 1 {
		t.Fatalf("queued before the restart: %d", q)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openAt(t, path)
	waitIndexed(t, s, "pangolin")
}

// TestIndexQueueInBatches: a queue longer than one batch is indexed whole,
// one transaction per batch.
func TestIndexQueueInBatches(t *testing.T) {
	s, _, _ := newTestStore(t)
	ctx := context.Background()
	c := mustConversation(t, s)
	s.stopIndexing()
	n := 2*ftsIndexBatch + 7
	if _, err := s.writer.Exec("WITH RECURSIVE i(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM i WHERE x < ?)"+
		" INSERT INTO messages ("+messageColumns+") SELECT 'm_' || x, ?, 't', 'user', 'capybara number ' || x,"+
		" NULL, '', '', 0, x FROM i", n, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.indexQueued(ctx); err != nil {
		t.Fatal(err)
	}
	if q, got := ftsCounts(t, s, "capybara"); q != 0 || got != n {
		t.Errorf("after indexing: %d queued, %d indexed, want 0 and %d", q, got, n)
	}
	ftsIntegrity(t, s)
}

// TestIndexQueueMigration: messages indexed before migration 0017 stay
// indexed (not queued), are found, and can be deleted from the index.
func TestIndexQueueMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "airlock.db")
	db := rawDB(t, path)
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms[:16] {
		if _, err := db.Exec(m.sql); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
	}
	for _, q := range []string{
		"PRAGMA user_version = 16",
		"INSERT INTO conversations (id, source, title, created_at, updated_at, audience) VALUES ('c_1', 'api', '', 1, 1, 'admin')",
		"INSERT INTO messages (" + messageColumns + ") VALUES ('m_1', 'c_1', 't', 'user', 'an old ibex', NULL, '', '', 0, 1)",
		"INSERT INTO messages (" + messageColumns + ") VALUES ('m_2', 'c_1', 't', 'user', 'an old yak', NULL, '', '', 0, 2)",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	s := openAt(t, path)
	if q, n := ftsCounts(t, s, "ibex"); q != 0 || n != 1 {
		t.Fatalf("after the migration: %d queued, %d indexed", q, n)
	}
	if _, err := s.writer.Exec("DELETE FROM messages WHERE id = 'm_2'"); err != nil {
		t.Fatal(err)
	}
	for word, want := range map[string]int{"ibex": 1, "yak": 0} {
		if got := searchTexts(t, s, Search{Reader: AudienceAdmin, Query: word}); len(got) != want {
			t.Errorf("search %q: %q, want %d hits", word, got, want)
		}
	}
	ftsIntegrity(t, s)
}

// TestSearchWhenIndexingFails: a search whose queued messages cannot be
// indexed (here a read-only store) still answers from the index.
func TestSearchWhenIndexingFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "airlock.db")
	s := openAt(t, path)
	ctx := context.Background()
	c := mustConversation(t, s)
	addMsg(t, s, c.ID, "t", RoleUser, "an indexed heron")
	searchTexts(t, s, Search{Reader: AudienceAdmin, Query: "heron"})
	s.stopIndexing()
	addMsg(t, s, c.ID, "t", RoleUser, "a queued heron")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := OpenReadOnly(ctx, path, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if got := searchTexts(t, ro, Search{Reader: AudienceAdmin, Query: "heron"}); len(got) != 1 || !strings.Contains(got[0], "indexed") {
		t.Errorf("search on a store that cannot index: %q", got)
	}
}
