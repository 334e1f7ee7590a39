package orchestrator

import (
	"strings"
	"testing"
	"time"

	"github.com/airlockhq/airlock/orchestrator/store"
)

// TestFormatNotesKeepsTheNewest: past the byte cap the oldest notes are
// left out, and the reader is told; each note says who reads it.
func TestFormatNotesKeepsTheNewest(t *testing.T) {
	at := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	alice := store.DiscordUserAudience("1")
	var notes []store.MemoryNote
	for _, text := range []string{"oldest", "older", "newer\nsecond line", "newest"} {
		notes = append(notes, store.MemoryNote{Audience: alice, Text: text, CreatedAt: at})
	}
	notes[3].Audience = store.AudienceEveryone
	all := formatNotes(notes, alice, 1<<10)
	want := "- (2026-12-04; private to this Discord user's DMs) oldest\n" +
		"- (2026-12-04; private to this Discord user's DMs) older\n" +
		"- (2026-12-04; private to this Discord user's DMs) newer\n  second line\n" +
		"- (2026-12-04; shared with every conversation) newest\n"
	if all != want {
		t.Errorf("formatNotes =\n%s\nwant\n%s", all, want)
	}
	cut := formatNotes(notes, alice, 130)
	if !strings.HasPrefix(cut, "[... 2 older notes left out]\n") || !strings.Contains(cut, "newest") ||
		strings.Contains(cut, "older\n") {
		t.Errorf("cut to 130 bytes:\n%s", cut)
	}
	if got := formatNotes(notes[:1], store.AudienceAdmin, 1<<10); !strings.Contains(got, "private to Discord user 1; do not repeat it elsewhere") {
		t.Errorf("the admin's view of alice's note: %q", got)
	}
}
