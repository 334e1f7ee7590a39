package workspace

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestInvalidPaths(t *testing.T) {
	f := newFixture(t, Limits{})
	f.put(t, "a/keep.txt", "keep")
	ctx := context.Background()
	tests := []struct {
		name, path, reason string
	}{
		{"empty", "", "path is empty"},
		{"only dots", "./.", "path is empty"},
		{"parent", "../x", `".." is not allowed`},
		{"parent after dir", "a/../../x", `".." is not allowed`},
		{"parent inside", "a/../keep.txt", `".." is not allowed`},
		{"dot parent", "./../x", `".." is not allowed`},
		{"absolute", "/etc/passwd", "absolute paths are not allowed"},
		{"NUL", "a\x00b", "NUL byte"},
		{"backslash parent", "..\\x", "backslash"},
		{"backslash", "a\\b", "backslash"},
		{"newline", "a\nb", "control character"},
		{"escape char", "a\x1bb", "control character"},
		{"DEL", "a\x7fb", "control character"},
		{"C1 control", "a\u0085b", "control character"},
		{"invalid UTF-8", "a\xffb", "not valid UTF-8"},
		// Issue 11 item 14: characters that hide or reorder text.
		{"right-to-left override", "report\u202Etxt.exe", "U+202E"},
		{"bidi isolate in folder", "a\u2067b/c.txt", "U+2067"},
		{"left-to-right mark", "a\u200Eb", "U+200E"},
		{"zero-width space", "no\u200Btes.md", "U+200B"},
		{"zero-width joiner", "a\u200Db", "U+200D"},
		{"byte order mark", "\uFEFFnotes.md", "U+FEFF"},
		{"soft hyphen", "a\u00ADb", "U+00AD"},
		{"tag character", "a\U000E0041b", "U+E0041"},
		{"line separator", "a\u2028b", "U+2028"},
		{"hangul filler", "a\u3164b", "U+3164"},
		{"too deep", strings.Repeat("d/", MaxPathDepth) + "f", "deeper than 16 levels"},
		{"too long", strings.Repeat("x", MaxPathBytes+1), "longer than 512 bytes"},
		{"long element", strings.Repeat("x", 256), "longer than 255 bytes"},
	}
	// The model's own absolute input is echoed back; that is fine, but the
	// table above avoids host paths so wantErr can check none leaks.
	if _, err := f.ws.Read(ctx, f.secret); !errors.Is(err, ErrInvalidPath) {
		t.Fatalf("Read(absolute outside path) = %v, want ErrInvalidPath", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.ws.Read(ctx, tt.path)
			f.wantErr(t, err, ErrInvalidPath, tt.reason)
			err = f.ws.Write(ctx, tt.path, "pwned")
			f.wantErr(t, err, ErrInvalidPath, tt.reason)
			if tt.path != "" && tt.path != "./." {
				_, err = f.ws.List(ctx, tt.path)
				f.wantErr(t, err, ErrInvalidPath, tt.reason)
			}
			f.checkSecretIntact(t)
			if got, _ := f.get(t, "a/keep.txt"); got != "keep" {
				t.Fatalf("a/keep.txt changed to %q", got)
			}
		})
	}
}

func TestPathNormalisation(t *testing.T) {
	f := newFixture(t, Limits{})
	ctx := context.Background()
	tests := []struct{ write, stored string }{
		{"./notes/a.md", "notes/a.md"},
		{"notes//b.md", "notes/b.md"},
		{"notes/./c.md", "notes/c.md"},
		{strings.Repeat("d/", MaxPathDepth-1) + "f", strings.Repeat("d/", MaxPathDepth-1) + "f"},
		{"ünïcode név.txt", "ünïcode név.txt"},
	}
	for _, tt := range tests {
		if err := f.ws.Write(ctx, tt.write, "x"); err != nil {
			t.Fatalf("Write(%q): %v", tt.write, err)
		}
		if got, ok := f.get(t, tt.stored); !ok || got != "x" {
			t.Fatalf("Write(%q) did not store %q", tt.write, tt.stored)
		}
	}
}

func TestReservedNamesRefusedForWrite(t *testing.T) {
	f := newFixture(t, Limits{})
	f.put(t, "SOUL.md", "persona")
	ctx := context.Background()
	for _, p := range []string{"MEMORY.md", "memory.md", "Soul.md", "SOUL.md", "user.MD", "./MEMORY.md", "USER.md/"} {
		err := f.ws.Write(ctx, p, "injected")
		f.wantErr(t, err, ErrReserved, "managed by the system")
	}
	if got, _ := f.get(t, "SOUL.md"); got != "persona" {
		t.Fatalf("SOUL.md changed to %q", got)
	}
	for _, p := range []string{"memory.md", "user.md"} {
		if _, ok := f.get(t, p); ok {
			t.Fatalf("%s was created", p)
		}
	}
	// Reading them is allowed, and the same names in a sub-folder are ordinary.
	if got, err := f.ws.Read(ctx, "SOUL.md"); err != nil || got != "persona" {
		t.Fatalf("Read(SOUL.md) = %q, %v", got, err)
	}
	if err := f.ws.Write(ctx, "notes/memory.md", "ok"); err != nil {
		t.Fatalf("Write(notes/memory.md): %v", err)
	}
}
