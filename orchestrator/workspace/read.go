package workspace

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"unicode/utf8"
)

// List returns the entries of the directory rel ("" or "." for the root),
// sorted by name. When the directory holds more than Limits.MaxListEntries
// entries, List returns the first ones together with an error wrapping
// ErrTruncated; the entries are valid in that case.
func (w *Workspace) List(ctx context.Context, rel string) ([]Entry, error) {
	const op = "list"
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	p, err := clean(op, rel, true)
	if err != nil {
		return nil, err
	}
	f, err := w.root.Open(p)
	if err != nil {
		return nil, w.mapErr(op, rel, p, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, w.mapErr(op, rel, p, err)
	}
	if !fi.IsDir() {
		return nil, invalid(op, rel, "not a folder; use workspace_read for files")
	}
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, w.mapErr(op, rel, p, err)
	}
	names = slices.DeleteFunc(names, hidden)
	slices.Sort(names)
	return w.entries(ctx, op, rel, p, names)
}

// entries stats names inside the cleaned directory p, stopping at the cap.
func (w *Workspace) entries(ctx context.Context, op, rel, p string, names []string) ([]Entry, error) {
	out := make([]Entry, 0, min(len(names), w.limits.MaxListEntries))
	for _, name := range names {
		if len(out) == w.limits.MaxListEntries {
			return out, fmt.Errorf("workspace: %s %q: %w: showing the first %d of %d entries",
				op, rel, ErrTruncated, len(out), len(names))
		}
		if err := checkCtx(ctx); err != nil {
			return nil, err
		}
		fi, err := w.root.Lstat(path.Join(p, name))
		if err != nil {
			continue // removed meanwhile
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			if fi, err = w.root.Stat(path.Join(p, name)); err != nil {
				continue // leads outside or dangles: not shown
			}
		}
		e := Entry{Name: name, Dir: fi.IsDir()}
		if fi.Mode().IsRegular() {
			e.Size = fi.Size()
		}
		out = append(out, e)
	}
	return out, nil
}

// Read returns the text content of the file rel. Files over
// Limits.MaxFileBytes are refused with ErrTooLarge, non-UTF-8 or NUL-bearing
// content with ErrBinary, missing files with ErrNotFound.
func (w *Workspace) Read(ctx context.Context, rel string) (string, error) {
	const op = "read"
	if err := checkCtx(ctx); err != nil {
		return "", err
	}
	p, err := clean(op, rel, false)
	if err != nil {
		return "", err
	}
	// The memory has audiences (memory_read obeys them); the file of an
	// earlier version must not be a way around them.
	if strings.EqualFold(p, MemoryFile) {
		return "", fmt.Errorf("workspace: %s %q: %w: the memory is read with memory_read", op, rel, ErrReserved)
	}
	return w.readText(op, rel, p, w.limits.MaxFileBytes)
}

// ReadSystemFile returns the content of one of the reserved root files
// (SOUL.md, USER.md, MEMORY.md); a missing file reads as "".
func (w *Workspace) ReadSystemFile(ctx context.Context, name string) (string, error) {
	const op = "read system file"
	if err := checkCtx(ctx); err != nil {
		return "", err
	}
	if name != SoulFile && name != UserFile && name != MemoryFile {
		return "", invalid(op, name, "not one of SOUL.md, USER.md, MEMORY.md")
	}
	s, err := w.readText(op, name, name, max(w.limits.MaxFileBytes, w.limits.MaxMemoryBytes))
	if errors.Is(err, ErrNotFound) {
		return "", nil
	}
	return s, err
}

// readText reads the regular file at the cleaned path p, capped at limit.
func (w *Workspace) readText(op, rel, p string, limit int64) (string, error) {
	// Stat before opening so a FIFO or device is refused without blocking.
	if fi, err := w.root.Stat(p); err != nil {
		return "", w.mapErr(op, rel, p, err)
	} else if !fi.IsDir() && !fi.Mode().IsRegular() {
		return "", invalid(op, rel, "not a regular file")
	}
	f, err := w.root.Open(p)
	if err != nil {
		return "", w.mapErr(op, rel, p, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", w.mapErr(op, rel, p, err)
	}
	switch {
	case fi.IsDir():
		return "", invalid(op, rel, "is a folder; use workspace_list")
	case !fi.Mode().IsRegular():
		return "", invalid(op, rel, "not a regular file")
	case fi.Size() > limit:
		return "", fmt.Errorf("workspace: %s %q: %w: the file is %d bytes, the read limit is %d bytes",
			op, rel, ErrTooLarge, fi.Size(), limit)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return "", w.mapErr(op, rel, p, err)
	}
	if int64(len(data)) > limit {
		return "", fmt.Errorf("workspace: %s %q: %w: the read limit is %d bytes", op, rel, ErrTooLarge, limit)
	}
	if !isText(data) {
		return "", fmt.Errorf("workspace: %s %q: %w: binary content (not UTF-8 text) is not returned", op, rel, ErrBinary)
	}
	return string(data), nil
}

// isText reports whether data is UTF-8 text without NUL bytes.
func isText(data []byte) bool {
	return utf8.Valid(data) && bytes.IndexByte(data, 0) < 0
}
