package workspace

import (
	"context"
	"strings"
	"testing"
)

func TestMemory(t *testing.T) {
	f := newFixture(t, Limits{MaxMemoryBytes: 40})
	ctx := context.Background()
	if got, err := f.ws.ReadMemory(ctx); err != nil || got != "" {
		t.Fatalf("missing memory = %q, %v", got, err)
	}
	steps := []struct {
		content, mode, want string
	}{
		{"likes tea", "", "likes tea\n"},
		{"lives in Oslo", "append", "likes tea\nlives in Oslo\n"},
		{"short\n", "replace", "short\n"},
		{"no newline", "replace", "no newline"},
		{"next", "", "no newline\nnext\n"},
	}
	for _, s := range steps {
		if err := f.ws.WriteMemory(ctx, s.content, s.mode); err != nil {
			t.Fatalf("WriteMemory(%q, %q): %v", s.content, s.mode, err)
		}
		if got, err := f.ws.ReadMemory(ctx); err != nil || got != s.want {
			t.Fatalf("after WriteMemory(%q, %q): %q, %v; want %q", s.content, s.mode, got, err, s.want)
		}
	}
	if got, _ := f.get(t, MemoryFile); got != "no newline\nnext\n" {
		t.Fatalf("MEMORY.md on disk = %q", got)
	}
}

func TestMemoryCapAndErrors(t *testing.T) {
	f := newFixture(t, Limits{MaxMemoryBytes: 40})
	ctx := context.Background()
	if err := f.ws.WriteMemory(ctx, strings.Repeat("a", 30), ""); err != nil {
		t.Fatal(err)
	}
	err := f.ws.WriteMemory(ctx, strings.Repeat("b", 10), "append")
	f.wantErr(t, err, ErrTooLarge, "limit is 40 bytes")
	f.wantErr(t, err, ErrTooLarge, `mode "replace"`)
	err = f.ws.WriteMemory(ctx, strings.Repeat("c", 41), "replace")
	f.wantErr(t, err, ErrTooLarge, "summarise")
	if got, _ := f.ws.ReadMemory(ctx); got != strings.Repeat("a", 30)+"\n" {
		t.Fatalf("refused write changed memory to %q", got)
	}
	f.wantErr(t, f.ws.WriteMemory(ctx, "x", "prepend"), ErrInvalidArgument, `mode "prepend"`)
	f.wantErr(t, f.ws.WriteMemory(ctx, "  ", ""), ErrInvalidArgument, "nothing to append")
	f.wantErr(t, f.ws.WriteMemory(ctx, "a\x00", "replace"), ErrBinary, "UTF-8")
	if err := f.ws.WriteMemory(ctx, "", "replace"); err != nil {
		t.Fatalf("clearing memory: %v", err)
	}
	if got, _ := f.ws.ReadMemory(ctx); got != "" {
		t.Fatalf("cleared memory = %q", got)
	}
}
