package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// BenchmarkMemoryNotes reads one Discord DM's notes (the system prompt of
// every task does) from a memory near its caps: 500 notes of that user,
// 9,000 of other audiences.
func BenchmarkMemoryNotes(b *testing.B) {
	s := openAt(b, b.TempDir()+"/airlock.db")
	ctx := context.Background()
	mine := DiscordUserAudience("100000000000000001")
	text := strings.Repeat("a note of about a hundred bytes, ", 3)
	for i := range 9500 {
		a := mine
		if i%19 != 0 {
			a = DiscordChannelAudience(fmt.Sprint(500000000000000000 + i%40))
		}
		if _, _, err := s.WriteMemory(ctx, MemoryNote{Audience: a, Text: text}, false, 1<<20); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		ns, err := s.MemoryNotes(ctx, mine)
		if err != nil || len(ns) != 500 {
			b.Fatalf("%d notes, %v", len(ns), err)
		}
	}
}
