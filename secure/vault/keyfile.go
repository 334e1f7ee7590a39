package vault

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// LoadKey reads a master key file: exactly 32 raw bytes in a regular file
// that neither group nor others may access. Errors name the path and the
// problem, never the content.
func LoadKey(path string) (Key, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return Key{}, fmt.Errorf("vault: key file %s: %w", path, err)
	}
	if err := checkKeyFileInfo(path, fi); err != nil {
		return Key{}, err
	}
	f, err := os.Open(path)
	if err != nil {
		return Key{}, fmt.Errorf("vault: key file %s: %w", path, err)
	}
	defer f.Close()
	// Check again what was actually opened: the path may have changed.
	if fi, err = f.Stat(); err != nil {
		return Key{}, fmt.Errorf("vault: key file %s: %w", path, err)
	}
	if err := checkKeyFileInfo(path, fi); err != nil {
		return Key{}, err
	}
	buf := make([]byte, KeySize+1)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return Key{}, fmt.Errorf("vault: key file %s: read: %w", path, err)
	}
	var k Key
	copy(k[:], buf)
	clear(buf)
	if n != KeySize {
		return Key{}, fmt.Errorf("vault: key file %s: wrong size: want exactly %d raw bytes, not hex or base64 text", path, KeySize)
	}
	if k.isZero() {
		return Key{}, fmt.Errorf("vault: key file %s: all bytes are zero; it is damaged", path)
	}
	return k, nil
}

// checkKeyFileInfo refuses anything but a regular file of mode 0600 or
// stricter and of the right size.
func checkKeyFileInfo(path string, fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("vault: key file %s: not a regular file (%s)", path, fi.Mode().Type())
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("vault: key file %s: mode %04o lets group or others access it; it must be 0600 (chmod 600 %s)",
			path, perm, path)
	}
	if fi.Size() != KeySize {
		return fmt.Errorf("vault: key file %s: wrong size (%d bytes): want exactly %d raw bytes, not hex or base64 text",
			path, fi.Size(), KeySize)
	}
	return nil
}

// LoadOrCreateKey loads the key at path or, when no file exists there,
// creates one with a new random key and reports created. The parent
// directory must exist.
func LoadOrCreateKey(path string) (k Key, created bool, err error) {
	k, err = LoadKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return k, false, err
	}
	if k, err = GenerateKey(); err != nil {
		return Key{}, false, err
	}
	err = WriteKeyFile(path, k)
	if errors.Is(err, ErrKeyExists) {
		// Someone else created it meanwhile: use theirs.
		k, err = LoadKey(path)
		return k, false, err
	}
	if err != nil {
		return Key{}, false, err
	}
	return k, true, nil
}

// WriteKeyFile writes k to a new file at path with mode 0600, atomically:
// a temporary file in the same directory is written and synced, then
// linked (or, where hard links are unsupported, renamed) into place, and
// the directory is synced. It never replaces an existing file
// (ErrKeyExists); see PromoteKeyFile for that.
func WriteKeyFile(path string, k Key) error {
	tmp, err := writeTemp(path, k)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("vault: write key file %s: %w", path, ErrKeyExists)
		}
		// Some filesystems have no hard links; fall back to a checked rename.
		if _, serr := os.Lstat(path); serr == nil {
			return fmt.Errorf("vault: write key file %s: %w", path, ErrKeyExists)
		}
		if err := os.Rename(tmp, path); err != nil {
			return fmt.Errorf("vault: write key file %s: %w", path, err)
		}
	}
	return syncDir(filepath.Dir(path))
}

// writeTemp writes k to a new 0600 temporary file next to path, synced and
// closed, and returns its name.
func writeTemp(path string, k Key) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("vault: write key file %s: %w", path, err)
	}
	name := f.Name()
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(k[:])
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return "", fmt.Errorf("vault: write key file %s: %w", path, err)
	}
	return name, nil
}

// PromoteKeyFile moves path+".new" over path, as the last step of a key
// rotation. The current key is kept as path+".old" until the rename is
// durable, then removed. Returns an error matching fs.ErrNotExist when
// there is no path+".new".
func PromoteKeyFile(path string) error {
	pending, old := path+".new", path+".old"
	if _, err := os.Lstat(pending); err != nil {
		return fmt.Errorf("vault: promote key file %s: %w", pending, err)
	}
	dir := filepath.Dir(path)
	_ = os.Remove(old)
	if err := os.Link(path, old); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("vault: promote key file: keep old key: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	if err := os.Rename(pending, path); err != nil {
		return fmt.Errorf("vault: promote key file %s: %w", pending, err)
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	if err := os.Remove(old); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("vault: promote key file: remove old key %s: %w", old, err)
	}
	return syncDir(dir)
}

// syncDir fsyncs a directory, so that a rename or link in it is durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("vault: sync directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("vault: sync directory %s: %w", dir, err)
	}
	return nil
}
