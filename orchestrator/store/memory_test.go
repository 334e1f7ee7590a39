package store

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func noteTexts(ns []MemoryNote) string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Text)
	}
	return strings.Join(out, "|")
}

// TestMemoryAudiences: each reader gets its own notes and the shared ones;
// the admin gets all; an unknown reader only the shared ones.
func TestMemoryAudiences(t *testing.T) {
	s, _, _ := newTestStore(t)
	ctx := context.Background()
	alice, bob := DiscordUserAudience("111"), DiscordUserAudience("222")
	general := DiscordChannelAudience("999")
	for _, n := range []MemoryNote{
		{Audience: alice, Text: "alice pin 4321", ConversationID: "c_a", TaskID: "t_a"},
		{Audience: bob, Text: "bob likes tea"},
		{Audience: general, Text: "standup at 9"},
		{Audience: AudienceAdmin, Text: "admin only"},
	} {
		if _, _, err := s.WriteMemory(ctx, n, false, 0); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.MemoryNotes(ctx, AudienceAdmin)
	if err != nil || len(all) != 4 {
		t.Fatalf("admin reads %d notes (%v)", len(all), err)
	}
	if all[0].ConversationID != "c_a" || all[0].TaskID != "t_a" || all[0].Audience != alice || !strings.HasPrefix(all[0].ID, "m_") {
		t.Errorf("first note = %+v", all[0])
	}
	if _, err := s.ShareMemoryNote(ctx, all[3].ID); err != nil {
		t.Fatal(err)
	}
	for reader, want := range map[string]string{
		alice:                       "alice pin 4321|admin only",
		bob:                         "bob likes tea|admin only",
		general:                     "standup at 9|admin only",
		DiscordChannelAudience("1"): "admin only",
		AudienceEveryone:            "admin only",
		"":                          "admin only",
		"discord-user:abc":          "admin only",
		AudienceAdmin:               "alice pin 4321|bob likes tea|standup at 9|admin only",
	} {
		got, err := s.MemoryNotes(ctx, reader)
		if err != nil || noteTexts(got) != want {
			t.Errorf("reader %q reads %q (%v); want %q", reader, noteTexts(got), err, want)
		}
		for _, n := range got {
			if !CanRead(reader, n.Audience) {
				t.Errorf("MemoryNotes(%q) gave %q, which CanRead refuses", reader, n.Audience)
			}
		}
	}
	if _, err := s.DeleteMemoryNote(ctx, all[0].ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.MemoryNotes(ctx, alice); noteTexts(got) != "admin only" {
		t.Errorf("after delete alice reads %q", noteTexts(got))
	}
	for _, f := range []func(context.Context, string) (MemoryNote, error){s.DeleteMemoryNote, s.ShareMemoryNote, s.MemoryNote} {
		if _, err := f(ctx, all[0].ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("a deleted note: %v; want ErrNotFound", err)
		}
	}
}

func TestMemoryWriteRules(t *testing.T) {
	s, _, path := newTestStore(t)
	ctx := context.Background()
	alice := DiscordUserAudience("111")
	for _, a := range []string{"", "everyone ", "discord-user:", "discord-user:12a", "discord-channel:" + strings.Repeat("1", 21), "web"} {
		if _, _, err := s.WriteMemory(ctx, MemoryNote{Audience: a, Text: "x"}, false, 0); !errors.Is(err, ErrInvalidAudience) {
			t.Errorf("audience %q: %v", a, err)
		}
	}
	if _, _, err := s.WriteMemory(ctx, MemoryNote{Audience: alice, Text: "  "}, false, 0); err == nil {
		t.Error("an empty append was stored")
	}
	if _, _, err := s.WriteMemory(ctx, MemoryNote{Audience: alice, Text: "a\x00"}, false, 0); err == nil {
		t.Error("a NUL byte was stored")
	}
	// Caps: bytes per audience, counted per audience.
	if _, _, err := s.WriteMemory(ctx, MemoryNote{Audience: alice, Text: strings.Repeat("a", 30)}, false, 40); err != nil {
		t.Fatal(err)
	}
	_, _, err := s.WriteMemory(ctx, MemoryNote{Audience: alice, Text: strings.Repeat("b", 11)}, false, 40)
	if !errors.Is(err, ErrMemoryFull) || !strings.Contains(err.Error(), "41 bytes, the limit is 40") {
		t.Errorf("over the cap: %v", err)
	}
	if _, _, err := s.WriteMemory(ctx, MemoryNote{Audience: AudienceAdmin, Text: strings.Repeat("c", 40)}, false, 40); err != nil {
		t.Errorf("another audience has its own cap: %v", err)
	}
	// Replace drops only the writer's own audience.
	if _, err := s.ShareMemoryNote(ctx, mustNotes(t, s, AudienceAdmin)[1].ID); err != nil {
		t.Fatal(err)
	}
	n, deleted, err := s.WriteMemory(ctx, MemoryNote{Audience: alice, Text: "summary"}, true, 40)
	if err != nil || deleted != 1 || n.Text != "summary" {
		t.Fatalf("replace: %+v %d %v", n, deleted, err)
	}
	if got := noteTexts(mustNotes(t, s, alice)); got != strings.Repeat("c", 40)+"|summary" {
		t.Errorf("after replace alice reads %q", got)
	}
	if _, deleted, err := s.WriteMemory(ctx, MemoryNote{Audience: alice}, true, 40); err != nil || deleted != 1 {
		t.Errorf("replace with nothing: %d %v", deleted, err)
	}
	// The count cap.
	bob := DiscordUserAudience("222")
	for i := range MaxNotesPerAudience {
		if _, _, err := s.WriteMemory(ctx, MemoryNote{Audience: bob, Text: "n"}, false, 0); err != nil {
			t.Fatalf("note %d: %v", i, err)
		}
	}
	if _, _, err := s.WriteMemory(ctx, MemoryNote{Audience: bob, Text: "n"}, false, 0); !errors.Is(err, ErrMemoryFull) {
		t.Errorf("note past the count cap: %v", err)
	}
	// The table refuses an audience the code would refuse.
	if _, err := rawDB(t, path).Exec("INSERT INTO memory_notes (id, audience, text, conversation_id, task_id, created_at, updated_at)" +
		" VALUES ('m_x', 'bob', 't', '', '', 0, 0)"); err == nil {
		t.Error("the table took audience 'bob'")
	}
}

func mustNotes(t *testing.T, s *Store, reader string) []MemoryNote {
	t.Helper()
	ns, err := s.MemoryNotes(context.Background(), reader)
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

// TestImportMemoryOnce: MEMORY.md's text becomes one admin-only note, not
// twice when the same text is imported again.
func TestImportMemoryOnce(t *testing.T) {
	s, _, _ := newTestStore(t)
	ctx := context.Background()
	if ok, err := s.ImportMemory(ctx, "  door PIN 4321\n"); !ok || err != nil {
		t.Fatalf("first import: %v %v", ok, err)
	}
	if ok, err := s.ImportMemory(ctx, "door PIN 4321"); ok || err != nil {
		t.Fatalf("second import: %v %v", ok, err)
	}
	if ok, err := s.ImportMemory(ctx, " \n"); ok || err != nil {
		t.Fatalf("blank import: %v %v", ok, err)
	}
	ns := mustNotes(t, s, AudienceAdmin)
	if len(ns) != 1 || ns[0].Audience != AudienceAdmin || ns[0].Text != "door PIN 4321" {
		t.Fatalf("imported %+v", ns)
	}
	if got := mustNotes(t, s, DiscordUserAudience("1")); len(got) != 0 {
		t.Errorf("a DM reads the imported note: %+v", got)
	}
}
