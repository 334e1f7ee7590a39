package workspace

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

func TestOpenCreatesPrivateDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "workspace")
	ws, err := Open(dir, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("workspace dir: %v, %v; want mode 0700", fi.Mode(), err)
	}
	if got := ws.Limits(); got.MaxFileBytes != DefaultMaxFileBytes || got.MaxListEntries != DefaultMaxListEntries {
		t.Fatalf("defaults not applied: %+v", got)
	}
	if _, err := Open(dir, Limits{MaxFileBytes: -1}); err == nil {
		t.Fatal("negative limit accepted")
	}
}

func TestWriteReadRoundTrip(t *testing.T) {
	f := newFixture(t, Limits{})
	ctx := context.Background()
	if err := f.ws.Write(ctx, "notes/deep/today.md", "# Today\nhello\n"); err != nil {
		t.Fatal(err)
	}
	got, err := f.ws.Read(ctx, "notes/deep/today.md")
	if err != nil || got != "# Today\nhello\n" {
		t.Fatalf("Read = %q, %v", got, err)
	}
	if err := f.ws.Write(ctx, "notes/deep/today.md", "v2"); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.ws.Read(ctx, "notes/deep/today.md"); got != "v2" {
		t.Fatalf("overwrite: %q", got)
	}
	fi, _ := os.Stat(filepath.Join(f.dir, "notes", "deep", "today.md"))
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, want 0600", fi.Mode().Perm())
	}
	di, _ := os.Stat(filepath.Join(f.dir, "notes", "deep"))
	if di.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v, want 0700", di.Mode().Perm())
	}
	ents, _ := os.ReadDir(filepath.Join(f.dir, "notes", "deep"))
	if len(ents) != 1 {
		t.Errorf("temporary files left behind: %v", ents)
	}
}

func TestReadErrors(t *testing.T) {
	f := newFixture(t, Limits{MaxFileBytes: 100})
	ctx := context.Background()
	f.put(t, "bin.dat", "\xff\xfe\x00\x01")
	f.put(t, "nul.txt", "text\x00more")
	f.put(t, "big.txt", strings.Repeat("x", 101))
	f.put(t, "dir/x.txt", "x")
	tests := []struct {
		path   string
		target error
		substr string
	}{
		{"missing.txt", ErrNotFound, "not found"},
		{"nodir/missing.txt", ErrNotFound, "not found"},
		{"bin.dat", ErrBinary, "binary"},
		{"nul.txt", ErrBinary, "binary"},
		{"big.txt", ErrTooLarge, "read limit is 100 bytes"},
		{"dir", ErrInvalidPath, "is a folder"},
		{"dir/x.txt/y", ErrInvalidPath, "a folder on the path is a file"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			_, err := f.ws.Read(ctx, tt.path)
			f.wantErr(t, err, tt.target, tt.substr)
		})
	}
}

func TestWriteLimits(t *testing.T) {
	f := newFixture(t, Limits{MaxFileBytes: 100, MaxTotalBytes: 250})
	ctx := context.Background()
	if err := f.ws.Write(ctx, "a.txt", "previous"); err != nil {
		t.Fatal(err)
	}
	err := f.ws.Write(ctx, "a.txt", strings.Repeat("x", 101))
	f.wantErr(t, err, ErrTooLarge, "file limit is 100 bytes")
	if got, _ := f.get(t, "a.txt"); got != "previous" {
		t.Fatalf("oversize write changed the file to %q", got)
	}
	err = f.ws.Write(ctx, "new.txt", strings.Repeat("x", 101))
	f.wantErr(t, err, ErrTooLarge, "file limit")
	if _, ok := f.get(t, "new.txt"); ok {
		t.Fatal("oversize write created the file")
	}
	// Quota: 8 + 100 + 100 = 208 fits; one more 100 does not, but
	// replacing an existing file only counts the difference.
	for _, p := range []string{"b.txt", "c.txt"} {
		if err := f.ws.Write(ctx, p, strings.Repeat("y", 100)); err != nil {
			t.Fatal(err)
		}
	}
	err = f.ws.Write(ctx, "sub/d.txt", strings.Repeat("z", 50))
	f.wantErr(t, err, ErrQuotaExceeded, "limit is 250 bytes")
	if _, err := os.Stat(filepath.Join(f.dir, "sub")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("refused write created its folder")
	}
	if err := f.ws.Write(ctx, "b.txt", strings.Repeat("w", 95)); err != nil {
		t.Fatalf("replacement within quota refused: %v", err)
	}
	err = f.ws.Write(ctx, "bin.txt", "a\x00b")
	f.wantErr(t, err, ErrBinary, "UTF-8 text")
}

func TestWriteOverFolderOrThroughFile(t *testing.T) {
	f := newFixture(t, Limits{})
	ctx := context.Background()
	f.put(t, "dir/x.txt", "x")
	f.wantErr(t, f.ws.Write(ctx, "dir", "y"), ErrInvalidPath, "is a folder")
	f.wantErr(t, f.ws.Write(ctx, "dir/x.txt/y", "y"), ErrInvalidPath, `"dir/x.txt" is a file, not a folder`)
}

func TestList(t *testing.T) {
	f := newFixture(t, Limits{MaxListEntries: 3})
	ctx := context.Background()
	f.put(t, "b.txt", "bb")
	f.put(t, "a.txt", "a")
	f.put(t, "notes/x.md", "xyz")
	f.put(t, tempFilePrefix+"leftover", "tmp")
	got, err := f.ws.List(ctx, "")
	want := []Entry{{"a.txt", false, 1}, {"b.txt", false, 2}, {"notes", true, 0}}
	if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("List(root) = %+v, %v; want %+v", got, err, want)
	}
	if dot, _ := f.ws.List(ctx, "."); fmt.Sprint(dot) != fmt.Sprint(want) {
		t.Fatalf("List(.) = %+v", dot)
	}
	if got, err := f.ws.List(ctx, "notes/"); err != nil || fmt.Sprint(got) != fmt.Sprint([]Entry{{"x.md", false, 3}}) {
		t.Fatalf("List(notes) = %+v, %v", got, err)
	}
	f.put(t, "c.txt", "c")
	got, err = f.ws.List(ctx, "")
	f.wantErr(t, err, ErrTruncated, "first 3 of 4")
	if len(got) != 3 || got[2].Name != "c.txt" {
		t.Fatalf("truncated list = %+v", got)
	}
	_, err = f.ws.List(ctx, "a.txt")
	f.wantErr(t, err, ErrInvalidPath, "not a folder")
	_, err = f.ws.List(ctx, "nope")
	f.wantErr(t, err, ErrNotFound, "not found")
}

func TestReadSystemFile(t *testing.T) {
	f := newFixture(t, Limits{})
	ctx := context.Background()
	f.put(t, "USER.md", "likes tea")
	if got, err := f.ws.ReadSystemFile(ctx, UserFile); err != nil || got != "likes tea" {
		t.Fatalf("USER.md = %q, %v", got, err)
	}
	if got, err := f.ws.ReadSystemFile(ctx, SoulFile); err != nil || got != "" {
		t.Fatalf("missing SOUL.md = %q, %v", got, err)
	}
	_, err := f.ws.ReadSystemFile(ctx, "notes.md")
	f.wantErr(t, err, ErrInvalidPath, "not one of")
}

func TestConcurrentWrites(t *testing.T) {
	f := newFixture(t, Limits{})
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Go(func() {
			p := fmt.Sprintf("dir%d/file%d.txt", i%4, i)
			if err := f.ws.Write(ctx, p, p); err != nil {
				errs <- err
				return
			}
			if got, err := f.ws.Read(ctx, p); err != nil || got != p {
				errs <- fmt.Errorf("read back %q: %q, %v", p, got, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestCancelledContext(t *testing.T) {
	f := newFixture(t, Limits{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.ws.Write(ctx, "a.txt", "x"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Write with cancelled ctx = %v", err)
	}
	if _, ok := f.get(t, "a.txt"); ok {
		t.Fatal("cancelled write wrote")
	}
}

func TestSpecialFileRefusedWithoutBlocking(t *testing.T) {
	f := newFixture(t, Limits{})
	if err := syscall.Mkfifo(filepath.Join(f.dir, "pipe"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := f.ws.Read(context.Background(), "pipe")
	f.wantErr(t, err, ErrInvalidPath, "not a regular file")
	f.wantErr(t, f.ws.Write(context.Background(), "pipe", "x"), ErrInvalidPath, "not a regular file")
}

func TestScrubHidesHostPath(t *testing.T) {
	f := newFixture(t, Limits{})
	err := f.ws.scrub(fmt.Errorf("open %s/notes/x: %w", f.dir, os.ErrPermission))
	if strings.Contains(err.Error(), f.base) || !strings.Contains(err.Error(), "<workspace>/notes/x") {
		t.Fatalf("scrubbed error %q", err)
	}
	if !errors.Is(err, os.ErrPermission) {
		t.Fatal("scrub lost the wrapped error")
	}
}
