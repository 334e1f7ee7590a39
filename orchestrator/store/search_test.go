package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func addMsg(t testing.TB, s *Store, conv, task, role, text string) {
	t.Helper()
	if _, err := s.AddMessage(context.Background(), Message{ConversationID: conv, TaskID: task, Role: role, Content: text}); err != nil {
		t.Fatal(err)
	}
}

func searchTexts(t *testing.T, s *Store, q Search) []string {
	t.Helper()
	hits, err := s.SearchMemory(context.Background(), q)
	if err != nil {
		t.Fatalf("SearchMemory(%+v): %v", q, err)
	}
	var out []string
	for _, h := range hits {
		out = append(out, h.Kind+":"+h.Snippet)
	}
	return out
}

// TestSearchMemoryObeysAudiences: a Discord DM's search finds its own
// conversations and notes and those shared with everyone, never another
// user's or the admin's; the admin finds all; the current conversation is
// always searchable; tool results and the asking task's messages are not.
func TestSearchMemoryObeysAudiences(t *testing.T) {
	s, _, _ := newTestStore(t)
	ctx := context.Background()
	alice, bob := DiscordUserAudience("1001"), DiscordUserAudience("1002")
	conv := func(src, aud string) string {
		c, err := s.CreateConversation(ctx, src, "")
		if err != nil {
			t.Fatal(err)
		}
		if aud != "" {
			if err := s.setConversationAudience(ctx, c.ID, aud); err != nil {
				t.Fatal(err)
			}
		}
		return c.ID
	}
	admin, ca, cb, cNew := conv(SourceAPI, AudienceAdmin), conv(SourceDiscord, alice), conv(SourceDiscord, bob), conv(SourceDiscord, "")
	addMsg(t, s, admin, "t1", RoleUser, "the admin's zebra plan")
	addMsg(t, s, ca, "t2", RoleUser, "alice's zebra is striped")
	addMsg(t, s, ca, "t2", RoleAssistant, "noted: alice keeps a zebra")
	addMsg(t, s, cb, "t3", RoleUser, "bob's zebra is secret")
	addMsg(t, s, cb, "t3", RoleTool, "tool output zebra")
	addMsg(t, s, cNew, "t4", RoleUser, "the new zebra conversation")
	addMsg(t, s, cNew, "t5", RoleUser, "where is my zebra now")
	for aud, text := range map[string]string{alice: "alice note zebra", bob: "bob note zebra", AudienceAdmin: "admin note zebra"} {
		if _, _, err := s.WriteMemory(ctx, MemoryNote{Audience: aud, Text: text}, false, 0); err != nil {
			t.Fatal(err)
		}
	}
	n, _, _ := s.WriteMemory(ctx, MemoryNote{Audience: AudienceAdmin, Text: "shared zebra fact"}, false, 0)
	if _, err := s.ShareMemoryNote(ctx, n.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.IndexWorkspaceText(ctx, "notes/zoo.md", "zebra feeding times"); err != nil {
		t.Fatal(err)
	}

	got := strings.Join(searchTexts(t, s, Search{Reader: alice, ConversationID: cNew, TaskID: "t5", Query: "zebra", Limit: 20}), "\n")
	for _, want := range []string{"alice's [zebra]", "alice keeps a [zebra]", "the new [zebra] conversation",
		"note:alice note [zebra]", "note:shared [zebra] fact", "file:[zebra] feeding"} {
		if !strings.Contains(got, want) {
			t.Errorf("alice's search lacks %q:\n%s", want, got)
		}
	}
	for _, not := range []string{"bob", "admin", "tool output", "where is my"} {
		if strings.Contains(got, not) {
			t.Errorf("alice's search found %q:\n%s", not, got)
		}
	}
	got = strings.Join(searchTexts(t, s, Search{Reader: AudienceAdmin, ConversationID: admin, Query: "zebra", Limit: 20}), "\n")
	for _, want := range []string{"bob's", "admin's", "bob note", "alice note", "new [zebra] conversation"} {
		if !strings.Contains(got, want) {
			t.Errorf("the admin's search lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "tool output") {
		t.Errorf("a tool result is indexed:\n%s", got)
	}
	// An invalid reader finds the current conversation and what is shared.
	got = strings.Join(searchTexts(t, s, Search{Reader: "", ConversationID: cb, Query: "zebra", Limit: 20}), "\n")
	if strings.Contains(got, "alice") || !strings.Contains(got, "bob's") || !strings.Contains(got, "shared") {
		t.Errorf("an invalid reader's search:\n%s", got)
	}
	// The conversation scope.
	got = strings.Join(searchTexts(t, s, Search{Reader: AudienceAdmin, ConversationID: ca, Query: "zebra", Scope: ScopeConversation, Limit: 20}), "\n")
	if !strings.Contains(got, "alice's") || strings.Contains(got, "bob") || strings.Contains(got, "note:") {
		t.Errorf("conversation scope:\n%s", got)
	}
	// A conversation whose audience is set after its messages (one from
	// before the migration) is indexed again under it.
	late, _ := s.CreateConversation(ctx, SourceDiscord, "")
	addMsg(t, s, late.ID, "t6", RoleUser, "a late walrus")
	if got := strings.Join(searchTexts(t, s, Search{Reader: alice, ConversationID: cNew, Query: "walrus"}), "\n"); got != "" {
		t.Errorf("alice finds a conversation of no audience: %q", got)
	}
	if err := s.setConversationAudience(ctx, late.ID, alice); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(searchTexts(t, s, Search{Reader: alice, ConversationID: cNew, Query: "walrus"}), "\n"); !strings.Contains(got, "a late [walrus]") {
		t.Errorf("alice does not find her late conversation: %q", got)
	}
	if got := strings.Join(searchTexts(t, s, Search{Reader: bob, ConversationID: cb, Query: "walrus"}), "\n"); strings.Contains(got, "walrus") {
		t.Errorf("bob finds alice's late conversation: %q", got)
	}
	// The words of a query match only the text, not the audience or
	// conversation columns.
	if got := searchTexts(t, s, Search{Reader: AudienceAdmin, Query: "discord user 1001", Scope: ScopeConversation, ConversationID: ca}); len(got) != 0 {
		t.Errorf("a query matched the audience column: %q", got)
	}
	// The index follows deletes and edits of notes.
	if _, err := s.DeleteMemoryNote(ctx, n.ID); err != nil {
		t.Fatal(err)
	}
	if got := searchTexts(t, s, Search{Reader: alice, Query: "shared fact"}); len(got) != 0 {
		t.Errorf("a deleted note is found: %q", got)
	}
	for _, table := range []string{"messages_fts", "memory_notes_fts", "workspace_texts_fts"} {
		if _, err := s.writer.Exec("INSERT INTO " + table + " (" + table + ") VALUES ('integrity-check')"); err != nil {
			t.Errorf("%s integrity check: %v", table, err)
		}
	}
}

// TestSearchMemoryRanksAndFallsBack: bm25 puts the message with more of
// the words first; a query whose words never occur together still finds
// each.
func TestSearchMemoryRanksAndFallsBack(t *testing.T) {
	s, _, _ := newTestStore(t)
	c, _ := s.CreateConversation(context.Background(), SourceAPI, "")
	addMsg(t, s, c.ID, "t", RoleUser, "the garage code is 2468, remember the garage code")
	addMsg(t, s, c.ID, "t", RoleUser, "the code of the bike lock")
	got := searchTexts(t, s, Search{Reader: AudienceAdmin, Query: "garage code"})
	if len(got) != 1 || !strings.Contains(got[0], "[garage] [code]") {
		t.Errorf("garage code: %q", got)
	}
	got = searchTexts(t, s, Search{Reader: AudienceAdmin, Query: "garage bike"})
	if len(got) != 2 {
		t.Errorf("garage OR bike: %q", got)
	}
	got = searchTexts(t, s, Search{Reader: AudienceAdmin, Query: "code", Limit: 1})
	if len(got) != 1 {
		t.Errorf("limit 1: %q", got)
	}
}

// TestSearchMemoryBadQueries: FTS syntax in a query is only text; an
// empty, wordless or oversized query, a bad scope or limit is a clear
// ErrBadQuery.
func TestSearchMemoryBadQueries(t *testing.T) {
	s, _, _ := newTestStore(t)
	c, _ := s.CreateConversation(context.Background(), SourceAPI, "")
	addMsg(t, s, c.ID, "t", RoleUser, "near the AND gate, column: value")
	for _, q := range []string{`"unbalanced`, `NEAR(gate`, `AND OR NOT`, `column: value`, `gate*`, `^gate`,
		`{content}: gate`, `gate" OR "x`, `-gate`, `ga'te`} {
		if _, err := s.SearchMemory(context.Background(), Search{Reader: AudienceAdmin, Query: q}); err != nil {
			t.Errorf("query %q: %v", q, err)
		}
	}
	if got := searchTexts(t, s, Search{Reader: AudienceAdmin, Query: `column: "value`}); len(got) != 1 {
		t.Errorf("column: value found %q", got)
	}
	for q, want := range map[string]string{
		"":                                  "at least one word",
		"  ?! ":                             "at least one word",
		strings.Repeat("a ", 300):           "the limit is 512 bytes",
		strings.Repeat("w ", 0) + manyWords: "the limit is 16",
		"\xff":                              "UTF-8",
	} {
		_, err := s.SearchMemory(context.Background(), Search{Reader: AudienceAdmin, Query: q})
		if !errors.Is(err, ErrBadQuery) || !strings.Contains(err.Error(), want) {
			t.Errorf("query %.20q: %v, want %q", q, err, want)
		}
	}
	for _, q := range []Search{{Query: "x", Scope: "everything"}, {Query: "x", Limit: -1}, {Query: "x", Limit: MaxSearchResults + 1}} {
		if _, err := s.SearchMemory(context.Background(), q); !errors.Is(err, ErrBadQuery) {
			t.Errorf("%+v: %v", q, err)
		}
	}
}

var manyWords = func() string {
	var w []string
	for i := range 17 {
		w = append(w, fmt.Sprintf("w%d", i))
	}
	return strings.Join(w, " ")
}()

// TestSearchMigrationBackfills: messages and notes stored before the
// search migration are found after it; a web conversation gets the
// admin's audience.
func TestSearchMigrationBackfills(t *testing.T) {
	path := filepath.Join(t.TempDir(), "airlock.db")
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	mine := slices.IndexFunc(ms, func(m migration) bool { return strings.HasSuffix(m.name, "_memory_search.sql") })
	if mine < 0 {
		t.Fatal("no memory_search migration")
	}
	db := rawDB(t, path)
	for _, m := range ms[:mine] {
		if _, err := db.Exec(m.sql); err != nil {
			t.Fatal(m.name, err)
		}
	}
	for _, q := range []string{
		fmt.Sprintf("PRAGMA user_version = %d", mine),
		"INSERT INTO conversations (id, source, title, created_at, updated_at) VALUES ('c1', 'web', 'old', 1, 1)",
		"INSERT INTO messages (id, conversation_id, task_id, role, content, tool_calls, tool_call_id, tool_name, is_error, created_at)" +
			" VALUES ('m1', 'c1', 't', 'user', 'an old walrus question', NULL, '', '', 0, 1)," +
			" ('m2', 'c1', 't', 'tool', 'walrus tool', NULL, 'x', 'y', 0, 2)",
		"INSERT INTO memory_notes (id, audience, text, conversation_id, task_id, created_at, updated_at)" +
			" VALUES ('n1', 'admin', 'walrus note', '', '', 1, 1)",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(q, err)
		}
	}
	db.Close()
	s := openAt(t, path)
	got := searchTexts(t, s, Search{Reader: AudienceAdmin, Query: "walrus"})
	slices.Sort(got)
	if !slices.Equal(got, []string{"message:an old [walrus] question", "note:[walrus] note"}) {
		t.Errorf("after the migration: %q", got)
	}
	var aud string
	if err := s.reader.QueryRow("SELECT audience FROM conversations WHERE id = 'c1'").Scan(&aud); err != nil || aud != AudienceAdmin {
		t.Errorf("audience = %q, %v", aud, err)
	}
	vs, err := s.MemoryVersions(context.Background(), AudienceAdmin, 10)
	if err != nil || len(vs) != 1 || !strings.Contains(vs[0].Text(), "walrus note") {
		t.Errorf("the initial version: %+v, %v", vs, err)
	}
}

// searchCorpus fills s with n messages over n/100 conversations (1% of
// them a Discord user's, the rest the admin's), of words
// drawn from a vocabulary of 5,000 with a skewed (Zipf) frequency, like
// real text.
func searchCorpus(tb testing.TB, s *Store, n int) (vocab []string, dm string) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	vocab = make([]string, 5000)
	for i := range vocab {
		vocab[i] = fmt.Sprintf("w%x%c", i, 'a'+i%26)
	}
	zipf := rand.NewZipf(rng, 1.1, 1, uint64(len(vocab)-1))
	convs := max(n/100, 1)
	ids := make([]string, convs)
	for i := range ids {
		c, err := s.CreateConversation(ctx, SourceAPI, fmt.Sprintf("conversation %d", i))
		if err != nil {
			tb.Fatal(err)
		}
		ids[i] = c.ID
		aud := AudienceAdmin
		if i%100 == 0 { // 1% of the conversations are one Discord user's DMs
			aud, dm = DiscordUserAudience("1001"), c.ID
		}
		if err := s.setConversationAudience(ctx, c.ID, aud); err != nil {
			tb.Fatal(err)
		}
	}
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		for i := range n {
			words := make([]string, 20+rng.IntN(40))
			for j := range words {
				words[j] = vocab[zipf.Uint64()]
			}
			role := RoleUser
			if i%2 == 1 {
				role = RoleAssistant
			}
			m, calls, err := s.newMessage(Message{ConversationID: ids[i%convs], TaskID: "t", Role: role, Content: strings.Join(words, " ")})
			if err != nil {
				return err
			}
			if err := s.insertMessage(ctx, tx, m, calls); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	// Indexed now, as the store does shortly after a write.
	if err := s.indexQueued(ctx); err != nil {
		tb.Fatal(err)
	}
	return vocab, dm
}

// BenchmarkSearchMemory: memory_search over 100,000 messages (in 1,000
// conversations, with a 5,000-word Zipf vocabulary), two-word queries of
// mid-frequency words, as the admin (every conversation is searched) and
// as a Discord user (1% of the conversations are theirs). Reports the
// p50 and p95 of the calls.
func BenchmarkSearchMemory(b *testing.B) {
	s := openAt(b, filepath.Join(b.TempDir(), "airlock.db"))
	vocab, dm := searchCorpus(b, s, 100_000)
	ctx := context.Background()
	for _, reader := range []string{AudienceAdmin, DiscordUserAudience("1001")} {
		b.Run("reader="+strings.Split(reader, ":")[0], func(b *testing.B) {
			var took []time.Duration
			i := 0
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				q := vocab[20+i%200] + " " + vocab[50+(i*7)%400]
				i++
				start := time.Now()
				hits, err := s.SearchMemory(ctx, Search{Reader: reader, ConversationID: dm, Query: q})
				took = append(took, time.Since(start))
				if err != nil || (reader == AudienceAdmin && len(hits) == 0) {
					b.Fatalf("%q: %d hits, %v", q, len(hits), err)
				}
			}
			// CPU time per search (user + system, this process): what a
			// search costs whatever else the shared machine runs.
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(len(took)), "cpu-ms/op")
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(took[len(took)*95/100].Microseconds())/1000, "p95-ms")
		})
	}
}

// TestMemoryVersionCaps: versions of a large file are dropped oldest
// first past the per-subject byte cap, the newest always kept; a restored
// note keeps the conversation that wrote it.
func TestMemoryVersionCaps(t *testing.T) {
	s, _, _ := newTestStore(t)
	ctx := context.Background()
	big := strings.Repeat("x", 1<<20)
	for i := range 6 {
		if err := s.RecordFileVersion(ctx, "big.txt", fmt.Sprint(i)+big, Change{Actor: ActorModel, Action: "write"}); err != nil {
			t.Fatal(err)
		}
	}
	vs, err := s.MemoryVersions(ctx, WorkspaceSubject+"big.txt", 0)
	if err != nil || len(vs) != 3 || !strings.HasPrefix(vs[0].FileText, "5") {
		t.Errorf("%d versions kept (%v); want the newest 3 within %d bytes", len(vs), err, MaxVersionBytesPerSubject)
	}
	huge := strings.Repeat("y", MaxVersionBytesPerSubject+10)
	if err := s.RecordFileVersion(ctx, "big.txt", huge, Change{Actor: ActorModel, Action: "write"}); err != nil {
		t.Fatal(err)
	}
	if vs, _ := s.MemoryVersions(ctx, WorkspaceSubject+"big.txt", 0); len(vs) != 1 || vs[0].FileText != huge {
		t.Errorf("the newest version alone over the cap: %d kept", len(vs))
	}

	c, _ := s.CreateConversation(ctx, SourceAPI, "")
	n, _, _ := s.WriteMemory(ctx, MemoryNote{Audience: AudienceAdmin, Text: "kept", ConversationID: c.ID}, false, 0)
	v, _ := s.MemoryVersions(ctx, AudienceAdmin, 1)
	if _, err := s.DeleteMemoryNote(ctx, n.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RestoreMemoryVersion(ctx, v[0].ID, Change{Actor: "admin:alice"}); err != nil {
		t.Fatal(err)
	}
	notes, _ := s.MemoryNotes(ctx, AudienceAdmin)
	if len(notes) != 1 || notes[0].ID != n.ID || notes[0].ConversationID != c.ID {
		t.Errorf("restored: %+v", notes)
	}
	if _, err := s.RestoreMemoryVersion(ctx, "v_nope", Change{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown version: %v", err)
	}
}

// cpuTime is the CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestStartTaskSetsAudienceOnce: a turn's first message fixes its
// conversation's audience in the task's own transaction; a later one, or
// one with another audience, changes nothing; an invalid audience stores
// nothing at all.
func TestStartTaskSetsAudienceOnce(t *testing.T) {
	s, _, _ := newTestStore(t)
	ctx := context.Background()
	alice, bob := DiscordUserAudience("1001"), DiscordUserAudience("1002")
	c, err := s.CreateConversation(ctx, SourceDiscord, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.StartTask(ctx, c.ID, "", "no audience yet, a quokka"); err != nil {
		t.Fatal(err)
	}
	if got := searchTexts(t, s, Search{Reader: alice, Query: "quokka"}); len(got) != 0 {
		t.Errorf("a conversation of no audience is found by alice: %q", got)
	}
	if _, _, err := s.StartTask(ctx, c.ID, alice, "first with an audience"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.StartTask(ctx, c.ID, bob, "bob's attempt to take it over"); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(searchTexts(t, s, Search{Reader: alice, Query: "quokka"}), "\n"); !strings.Contains(got, "quokka") {
		t.Errorf("alice does not find her conversation: %q", got)
	}
	if got := searchTexts(t, s, Search{Reader: bob, Query: "quokka"}); len(got) != 0 {
		t.Errorf("the audience changed to bob's: %q", got)
	}
	before, err := s.Messages(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{AudienceEveryone, "nobody:x"} {
		if _, _, err := s.StartTask(ctx, c.ID, bad, "never stored"); !errors.Is(err, ErrInvalidAudience) {
			t.Errorf("audience %q: %v, want ErrInvalidAudience", bad, err)
		}
	}
	after, err := s.Messages(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Errorf("a refused start stored a message: %d messages, had %d", len(after), len(before))
	}
}

// setConversationAudience gives a conversation an audience once, as
// StartTask does with a turn's first message, for tests that add messages
// on their own.
func (s *Store) setConversationAudience(ctx context.Context, id, audience string) error {
	if err := CheckAudience(audience); err != nil || audience == AudienceEveryone {
		return fmt.Errorf("store: conversation audience: %w", ErrInvalidAudience)
	}
	var cur string
	if err := s.reader.QueryRowContext(ctx, "SELECT audience FROM conversations WHERE id = ?", id).Scan(&cur); err != nil {
		return fmt.Errorf("store: conversation audience: %w", errNoRows(err))
	}
	if cur != "" {
		return nil
	}
	return s.WriteTx(ctx, func(tx *sql.Tx) error {
		_, err := s.exec(ctx, tx, "UPDATE conversations SET audience = ? WHERE id = ? AND audience = ''", audience, id)
		return err
	})
}
