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
// Limits.MaxFileBytes, writes that would push the workspace over
// Limits.MaxTotalBytes and writes that would add files or folders beyond
// Limits.MaxFiles are refused, and nothing is written then.
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

// target is what a write finds at its path before writing.
type target struct {
	size    int64 // of the existing file; 0 when it does not exist
	exists  bool
	newDirs int // missing folders the write creates
}

// added is the number of entries the write adds.
func (t target) added() int {
	if t.exists {
		return 0
	}
	return t.newDirs + 1
}

// writeLocked writes content to the cleaned path p and updates the running
// usage; w.mu must be held.
func (w *Workspace) writeLocked(op, rel, p, content string) error {
	t, err := w.checkTarget(op, rel, p)
	if err != nil {
		return err
	}
	if err := w.checkQuota(op, rel, t, int64(len(content))); err != nil {
		return err
	}
	if dir := path.Dir(p); dir != "." {
		if err := w.root.MkdirAll(dir, 0o700); err != nil {
			w.stale = true
			return w.mapErr(op, rel, dir, err)
		}
	}
	if err := w.atomicWrite(op, rel, p, content); err != nil {
		w.stale = true // the folders may exist now
		return err
	}
	w.used += int64(len(content)) - t.size
	w.count += t.added()
	return nil
}

// checkQuota refuses a write that would take the workspace over its byte
// or entry limits. The running totals decide, but a refusal is confirmed
// by a fresh measurement first, since an admin may have removed files on
// disk. w.mu must be held.
func (w *Workspace) checkQuota(op, rel string, t target, n int64) error {
	measured := false
	if w.stale {
		if err := w.measure(); err != nil {
			return fmt.Errorf("workspace: %s %q: measure usage: %w", op, rel, err)
		}
		measured = true
	}
	for {
		bytes := w.used - t.size + n
		entries := w.count + t.added()
		maxFiles := int(w.maxFiles.Load())
		overBytes := bytes > w.limits.MaxTotalBytes
		overFiles := t.added() > 0 && entries > maxFiles
		if !overBytes && !overFiles {
			return nil
		}
		if !measured {
			if err := w.measure(); err != nil {
				return fmt.Errorf("workspace: %s %q: measure usage: %w", op, rel, err)
			}
			measured = true
			continue
		}
		if overBytes {
			return fmt.Errorf("workspace: %s %q: %w: the workspace would hold %d bytes, the limit is %d bytes; delete or shorten files first",
				op, rel, ErrQuotaExceeded, bytes, w.limits.MaxTotalBytes)
		}
		return fmt.Errorf("workspace: %s %q: %w: the workspace holds %d files and folders and this write would add %d, "+
			"the limit is %d (empty files count too); write into an existing file instead, or ask the admin to remove files",
			op, rel, ErrQuotaExceeded, w.count, t.added(), maxFiles)
	}
}

// checkTarget refuses symbolic links and non-folders along p and a target
// that is not a regular file. It reports the existing target's size and
// how many folders on the way are missing.
func (w *Workspace) checkTarget(op, rel, p string) (target, error) {
	pres := prefixes(p)
	for i, pre := range pres {
		fi, err := w.root.Lstat(pre)
		if errors.Is(err, fs.ErrNotExist) {
			return target{newDirs: len(pres) - 1 - i}, nil
		}
		if err != nil {
			return target{}, w.mapErr(op, rel, pre, err)
		}
		last := i == len(pres)-1
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			return target{}, invalid(op, rel, fmt.Sprintf("%q is a symbolic link; writing through links is not allowed", pre))
		case !last && !fi.IsDir():
			return target{}, invalid(op, rel, fmt.Sprintf("%q is a file, not a folder", pre))
		case last && fi.IsDir():
			return target{}, invalid(op, rel, "is a folder")
		case last && !fi.Mode().IsRegular():
			return target{}, invalid(op, rel, "not a regular file")
		case last:
			return target{size: fi.Size(), exists: true}, nil
		}
	}
	return target{}, nil
}

// ensureMeasured measures the usage if it is stale; w.mu must be held.
func (w *Workspace) ensureMeasured() error {
	if !w.stale {
		return nil
	}
	return w.measure()
}

// measure walks the workspace and sets the running usage: the sizes of the
// regular files and the count of every entry below the root. Symbolic
// links are counted, not followed. w.mu must be held.
func (w *Workspace) measure() error {
	var total int64
	var entries int
	err := fs.WalkDir(w.root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if p == "." {
			return nil
		}
		entries++
		if d.Type().IsRegular() {
			if fi, err := w.root.Lstat(p); err == nil {
				total += fi.Size()
			}
		}
		return nil
	})
	if err != nil {
		w.stale = true
		return w.scrub(err)
	}
	w.used, w.count, w.stale = total, entries, false
	return nil
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
