package workspace

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
)

// Write creates or replaces the text file rel with content, atomically.
// Missing parent folders are created (0700); the file is 0600. Reserved
// root files, symbolic links anywhere on the path, content over
// Limits.MaxFileBytes and writes that would push the workspace over
// Limits.MaxTotalBytes are refused, and nothing is written then.
func (w *Workspace) Write(ctx context.Context, rel, content string) error {
	const op = "write"
	if err := checkCtx(ctx); err != nil {
		return err
	}
	p, err := clean(op, rel, false)
	if err != nil {
		return err
	}
	if isReserved(p) {
		return fmt.Errorf("workspace: %s %q: %w: %s, %s and %s are managed by the system "+
			"(use memory_write for the memory; the persona and user files are read-only)",
			op, rel, ErrReserved, MemoryFile, SoulFile, UserFile)
	}
	if n := int64(len(content)); n > w.limits.MaxFileBytes {
		return fmt.Errorf("workspace: %s %q: %w: content is %d bytes, the file limit is %d bytes",
			op, rel, ErrTooLarge, n, w.limits.MaxFileBytes)
	}
	if !isText([]byte(content)) {
		return fmt.Errorf("workspace: %s %q: %w: content must be UTF-8 text without NUL bytes", op, rel, ErrBinary)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.writeLocked(op, rel, p, content)
}

// writeLocked writes content to the cleaned path p; w.mu must be held.
func (w *Workspace) writeLocked(op, rel, p, content string) error {
	oldSize, err := w.checkTarget(op, rel, p)
	if err != nil {
		return err
	}
	used, err := w.usage()
	if err != nil {
		return fmt.Errorf("workspace: %s %q: measure usage: %w", op, rel, err)
	}
	if after := used - oldSize + int64(len(content)); after > w.limits.MaxTotalBytes {
		return fmt.Errorf("workspace: %s %q: %w: the workspace would hold %d bytes, the limit is %d bytes; delete or shorten files first",
			op, rel, ErrQuotaExceeded, after, w.limits.MaxTotalBytes)
	}
	if dir := path.Dir(p); dir != "." {
		if err := w.root.MkdirAll(dir, 0o700); err != nil {
			return w.mapErr(op, rel, dir, err)
		}
	}
	return w.atomicWrite(op, rel, p, content)
}

// checkTarget refuses symbolic links and non-folders along p and a target
// that is not a regular file. It returns the size of the existing target
// (0 when it does not exist yet).
func (w *Workspace) checkTarget(op, rel, p string) (int64, error) {
	pres := prefixes(p)
	for i, pre := range pres {
		fi, err := w.root.Lstat(pre)
		if errors.Is(err, fs.ErrNotExist) {
			return 0, nil
		}
		if err != nil {
			return 0, w.mapErr(op, rel, pre, err)
		}
		last := i == len(pres)-1
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			return 0, invalid(op, rel, fmt.Sprintf("%q is a symbolic link; writing through links is not allowed", pre))
		case !last && !fi.IsDir():
			return 0, invalid(op, rel, fmt.Sprintf("%q is a file, not a folder", pre))
		case last && fi.IsDir():
			return 0, invalid(op, rel, "is a folder")
		case last && !fi.Mode().IsRegular():
			return 0, invalid(op, rel, "not a regular file")
		case last:
			return fi.Size(), nil
		}
	}
	return 0, nil
}

// usage sums the sizes of the regular files in the workspace. Symbolic
// links are not followed.
func (w *Workspace) usage() (int64, error) {
	var total int64
	err := fs.WalkDir(w.root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			if fi, err := w.root.Lstat(p); err == nil {
				total += fi.Size()
			}
		}
		return nil
	})
	if err != nil {
		return 0, w.scrub(err)
	}
	return total, nil
}

// atomicWrite writes content to a temporary file beside p and renames it
// over p, so readers see the old or the new content, never a mix.
func (w *Workspace) atomicWrite(op, rel, p, content string) error {
	tmp := path.Join(path.Dir(p), tempFilePrefix+rand.Text())
	f, err := w.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return w.mapErr(op, rel, p, err)
	}
	_, err = f.WriteString(content)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = w.root.Rename(tmp, p)
	}
	if err != nil {
		_ = w.root.Remove(tmp)
		return w.mapErr(op, rel, p, err)
	}
	return nil
}
