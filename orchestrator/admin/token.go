package admin

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// LoadOrCreateToken returns the API bearer token stored at path, creating
// it (32 random bytes, file mode 0600, written atomically) on first start.
// A token file readable by others is refused.
func LoadOrCreateToken(path string) (token string, created bool, err error) {
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		fi, err := os.Stat(path)
		if err != nil {
			return "", false, fmt.Errorf("admin: stat api token: %w", err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			return "", false, fmt.Errorf("admin: api token file %s is accessible by others (mode %v); chmod 600 it", path, fi.Mode().Perm())
		}
		t := strings.TrimSpace(string(b))
		if len(t) < 32 {
			return "", false, fmt.Errorf("admin: api token file %s is too short; delete it to make a new one", path)
		}
		return t, false, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", false, fmt.Errorf("admin: read api token: %w", err)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", false, fmt.Errorf("admin: make api token: %w", err)
	}
	t := base64.RawURLEncoding.EncodeToString(raw[:])
	if err := writeFileAtomic(path, []byte(t+"\n"), 0o600); err != nil {
		return "", false, fmt.Errorf("admin: write api token: %w", err)
	}
	return t, true, nil
}

// writeFileAtomic writes via a temp file in the same directory, fsync and
// rename, so a crash leaves either the old file or the new one.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
