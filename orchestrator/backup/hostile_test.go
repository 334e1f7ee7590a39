package backup

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"filippo.io/age"
)

// encryptTar makes an age-encrypted (test passphrase) tar of entries, as a
// hostile or foreign backup would be.
func encryptTar(t *testing.T, entries []*tar.Header, bodies []string) string {
	t.Helper()
	r, err := age.NewScryptRecipient(testPass)
	if err != nil {
		t.Fatal(err)
	}
	r.SetWorkFactor(testLogN)
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, r)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(w)
	for i, h := range entries {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if bodies[i] != "" {
			if _, err := tw.Write([]byte(bodies[i])); err != nil {
				t.Fatal(err)
			}
		}
	}
	tw.Close()
	w.Close()
	f := filepath.Join(t.TempDir(), "hostile.age")
	if err := os.WriteFile(f, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// A correctly encrypted archive whose entries leave the layout (a path
// escaping the data directory, a symbolic link, an unknown file) or that
// lacks the manifest is refused, and nothing is written anywhere.
func TestHostileArchiveRefused(t *testing.T) {
	reg := func(name, body string) *tar.Header {
		return &tar.Header{Name: name, Mode: 0o600, Size: int64(len(body)), Typeflag: tar.TypeReg}
	}
	tests := []struct {
		name    string
		entries []*tar.Header
		bodies  []string
	}{
		{"path escape", []*tar.Header{reg("../../escaped.txt", "x")}, []string{"x"}},
		{"escape inside workspace", []*tar.Header{reg("workspace/../../escaped.txt", "x")}, []string{"x"}},
		{"absolute path", []*tar.Header{reg("/tmp/escaped.txt", "x")}, []string{"x"}},
		{"symbolic link", []*tar.Header{{Name: "workspace/link", Linkname: "/etc/passwd", Typeflag: tar.TypeSymlink}}, []string{""}},
		{"unknown file", []*tar.Header{reg("secure/jwt.key", "x")}, []string{"x"}},
		{"no manifest", []*tar.Header{reg("secure/airlock.db", "not a db")}, []string{"not a db"}},
		{"manifest without the files", []*tar.Header{reg(manifestName, `{"format":1,"schema":1,"files":[{"path":"secure/airlock.db","size":1,"sha256":"00"}]}`)},
			[]string{`{"format":1,"schema":1,"files":[{"path":"secure/airlock.db","size":1,"sha256":"00"}]}`}},
		{"a file twice", []*tar.Header{reg("workspace/a", "x"), reg("workspace/a", "y")}, []string{"x", "y"}},
		{"future format", []*tar.Header{reg(manifestName, `{"format":2}`)}, []string{`{"format":2}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := encryptTar(t, tt.entries, tt.bodies)
			parent := t.TempDir()
			target := filepath.Join(parent, "a", "data")
			_, err := Restore(context.Background(), f, target, passDec(t, testPass), RestoreOptions{})
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("err = %v, want ErrCorrupt", err)
			}
			ents, _ := os.ReadDir(target)
			if len(ents) != 0 {
				t.Errorf("the data directory holds %d entries", len(ents))
			}
			for _, p := range []string{filepath.Join(parent, "escaped.txt"), filepath.Join(parent, "a", "escaped.txt"), "/tmp/escaped.txt"} {
				if _, err := os.Stat(p); err == nil {
					t.Errorf("%s was written", p)
				}
			}
		})
	}
}
