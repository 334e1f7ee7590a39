package workspace

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestSymlinksOutsideRefused(t *testing.T) {
	f := newFixture(t, Limits{})
	ctx := context.Background()
	links := map[string]string{
		"abs":     f.secret,
		"rel":     filepath.Join("..", "outside", "secret"),
		"outdir":  f.outside,
		"dangle":  filepath.Join(f.outside, "nothing-yet"),
		"sub/lnk": filepath.Join("..", "..", "outside"),
	}
	for name, target := range links {
		p := filepath.Join(f.dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct{ path, link string }{
		{"abs", "abs"},
		{"rel", "rel"},
		{"outdir/secret", "outdir"},
		{"outdir/new.txt", "outdir"},
		{"dangle", "dangle"},
		{"sub/lnk/secret", "sub/lnk"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			_, err := f.ws.Read(ctx, tt.path)
			f.wantErr(t, err, ErrInvalidPath, `"`+tt.link+`" is a symbolic link that leads outside`)
			err = f.ws.Write(ctx, tt.path, "overwritten")
			f.wantErr(t, err, ErrInvalidPath, `"`+tt.link+`" is a symbolic link`)
			f.checkSecretIntact(t)
		})
	}
	for _, dir := range []string{"outdir", "sub/lnk"} {
		_, err := f.ws.List(ctx, dir)
		f.wantErr(t, err, ErrInvalidPath, "symbolic link")
	}
	// Escaping links are not shown in listings.
	ents, err := f.ws.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 || ents[0].Name != "sub" {
		t.Fatalf("List(root) = %+v, want only sub", ents)
	}
	if _, ok := f.get(t, "dangle"); ok {
		t.Fatal("write through a dangling link created its target")
	}
}

func TestSymlinkInsideReadableNotWritable(t *testing.T) {
	f := newFixture(t, Limits{})
	ctx := context.Background()
	f.put(t, "notes/a.md", "original")
	if err := os.Symlink("notes/a.md", filepath.Join(f.dir, "alias.md")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("notes", filepath.Join(f.dir, "n")); err != nil {
		t.Fatal(err)
	}
	if got, err := f.ws.Read(ctx, "alias.md"); err != nil || got != "original" {
		t.Fatalf("Read(alias.md) = %q, %v", got, err)
	}
	for _, p := range []string{"alias.md", "n/a.md", "n/new.md"} {
		err := f.ws.Write(ctx, p, "changed")
		f.wantErr(t, err, ErrInvalidPath, "writing through links is not allowed")
	}
	if got, _ := f.get(t, "notes/a.md"); got != "original" {
		t.Fatalf("link target changed to %q", got)
	}
	if fi, err := os.Lstat(filepath.Join(f.dir, "alias.md")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("alias.md is no longer a link: %v", err)
	}
}
