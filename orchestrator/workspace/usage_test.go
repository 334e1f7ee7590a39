package workspace

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// diskUsage walks dir with the os package: the truth the running totals
// must match.
func diskUsage(t *testing.T, dir string) (int64, int) {
	t.Helper()
	var bytes int64
	var entries int
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		entries++
		if d.Type().IsRegular() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			bytes += fi.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return bytes, entries
}

func (f *fixture) checkUsage(t *testing.T, when string) {
	t.Helper()
	gotBytes, gotEntries, err := f.ws.Usage()
	if err != nil {
		t.Fatalf("%s: Usage: %v", when, err)
	}
	wantBytes, wantEntries := diskUsage(t, f.dir)
	if gotBytes != wantBytes || gotEntries != wantEntries {
		t.Fatalf("%s: Usage = %d bytes, %d entries; the disk holds %d bytes, %d entries",
			when, gotBytes, gotEntries, wantBytes, wantEntries)
	}
}

// TestUsageIsIncremental (issue 11 item 11): the running usage starts from
// what is on disk at Open and follows every write, overwrite and refused
// write exactly, without walking the tree again.
func TestUsageIsIncremental(t *testing.T) {
	f := newFixture(t, Limits{MaxFileBytes: 100, MaxTotalBytes: 1000})
	ctx := context.Background()
	f.put(t, "old/notes.md", "twelve bytes")
	f.put(t, "SOUL.md", "persona")
	// A workspace opened on existing files counts them with one walk.
	ws, err := Open(f.dir, Limits{MaxFileBytes: 100, MaxTotalBytes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	f.ws = ws
	f.checkUsage(t, "after Open")

	steps := []struct {
		name string
		do   func() error
		ok   bool
	}{
		{"new file", func() error { return ws.Write(ctx, "a.txt", "hello") }, true},
		{"empty file", func() error { return ws.Write(ctx, "empty.txt", "") }, true},
		{"new nested folders", func() error { return ws.Write(ctx, "x/y/z/deep.md", strings.Repeat("d", 40)) }, true},
		{"into an existing folder", func() error { return ws.Write(ctx, "x/y/other.md", "o") }, true},
		{"overwrite larger", func() error { return ws.Write(ctx, "a.txt", strings.Repeat("a", 90)) }, true},
		{"overwrite smaller", func() error { return ws.Write(ctx, "x/y/z/deep.md", "s") }, true},
		{"overwrite with empty", func() error { return ws.Write(ctx, "old/notes.md", "") }, true},
		{"memory created", func() error { return ws.WriteMemory(ctx, "likes tea", ModeAppend) }, true},
		{"memory appended", func() error { return ws.WriteMemory(ctx, "and cake", ModeAppend) }, true},
		{"memory replaced", func() error { return ws.WriteMemory(ctx, "short", ModeReplace) }, true},
		{"too large", func() error { return ws.Write(ctx, "big.txt", strings.Repeat("b", 101)) }, false},
		{"binary", func() error { return ws.Write(ctx, "n/bin.txt", "a\x00b") }, false},
		{"over a folder", func() error { return ws.Write(ctx, "x/y", "f") }, false},
		{"through a file", func() error { return ws.Write(ctx, "a.txt/sub/f", "f") }, false},
		{"reserved", func() error { return ws.Write(ctx, "SOUL.md", "new persona") }, false},
		{"invalid name", func() error { return ws.Write(ctx, "q/r\u202Es.txt", "f") }, false},
	}
	for i := range 9 { // fills the byte quota: 9 x 100 bytes would pass 1000
		steps = append(steps, struct {
			name string
			do   func() error
			ok   bool
		}{fmt.Sprintf("fill %d", i), func() error { return ws.Write(ctx, fmt.Sprintf("fill/%d.txt", i), strings.Repeat("f", 100)) }, i < 8})
	}
	for _, s := range steps {
		err := s.do()
		if (err == nil) != s.ok {
			t.Fatalf("%s: err = %v, want ok=%v", s.name, err, s.ok)
		}
		f.checkUsage(t, s.name)
	}
	if ws.stale {
		t.Error("the totals went stale without a failure on disk")
	}
}

// TestFileCountCap (issue 11 item 11): the (cap+1)th file is refused even
// when every file is empty; folders count; overwriting stays possible; an
// admin's removal on disk or a raised cap lets writes through again.
func TestFileCountCap(t *testing.T) {
	const limit = 5
	f := newFixture(t, Limits{MaxFiles: limit})
	ctx := context.Background()
	if got := f.ws.Limits().MaxFiles; got != limit {
		t.Fatalf("Limits().MaxFiles = %d", got)
	}
	for i := range limit {
		if err := f.ws.Write(ctx, fmt.Sprintf("e%d.txt", i), ""); err != nil {
			t.Fatalf("empty file %d: %v", i, err)
		}
	}
	err := f.ws.Write(ctx, "one-more.txt", "")
	f.wantErr(t, err, ErrQuotaExceeded, "holds 5 files and folders and this write would add 1, the limit is 5 (empty files count too)")
	if _, ok := f.get(t, "one-more.txt"); ok {
		t.Fatal("the refused file was created")
	}
	if err := f.ws.Write(ctx, "e0.txt", "overwriting adds nothing"); err != nil {
		t.Fatalf("overwrite at the cap: %v", err)
	}
	// Memory is a file like any other.
	f.wantErr(t, f.ws.WriteMemory(ctx, "note", ModeAppend), ErrQuotaExceeded, "the limit is 5")

	// Folders count: with one entry free, a file in a new folder needs two.
	if err := os.Remove(filepath.Join(f.dir, "e4.txt")); err != nil { // the admin removes a file on disk
		t.Fatal(err)
	}
	f.wantErr(t, f.ws.Write(ctx, "dir/f.txt", ""), ErrQuotaExceeded, "holds 4 files and folders and this write would add 2")
	if _, err := os.Stat(filepath.Join(f.dir, "dir")); !os.IsNotExist(err) {
		t.Fatal("the refused write created its folder")
	}
	if err := f.ws.Write(ctx, "f.txt", ""); err != nil {
		t.Fatalf("after the admin freed an entry: %v", err)
	}
	f.checkUsage(t, "at the cap")

	// Raising the cap at run time applies to the next write.
	if err := f.ws.SetMaxFiles(7); err != nil {
		t.Fatal(err)
	}
	if err := f.ws.Write(ctx, "dir/f.txt", ""); err != nil {
		t.Fatalf("after raising the cap: %v", err)
	}
	f.wantErr(t, f.ws.Write(ctx, "g.txt", ""), ErrQuotaExceeded, "the limit is 7")
	// Lowering it below the present count keeps the files, refuses new ones.
	if err := f.ws.SetMaxFiles(3); err != nil {
		t.Fatal(err)
	}
	f.wantErr(t, f.ws.Write(ctx, "h.txt", ""), ErrQuotaExceeded, "holds 7 files and folders")
	if err := f.ws.Write(ctx, "dir/f.txt", "still writable"); err != nil {
		t.Fatalf("overwrite over a lowered cap: %v", err)
	}
	if err := f.ws.SetMaxFiles(-1); err == nil {
		t.Error("SetMaxFiles(-1) accepted")
	}
	f.checkUsage(t, "end")
}
