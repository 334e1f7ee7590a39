// Package workspace is the assistant's confined file area (/data/workspace)
// behind the model tools memory_read, memory_write, workspace_list,
// workspace_read and workspace_write.
//
// The paths come from the model, which may be prompt-injected, so the
// package keeps these invariants:
//
//   - Every file operation goes through an os.Root opened on the workspace
//     directory: the kernel-level resolution refuses "..", absolute symlinks
//     and symlinks that lead outside the root, whatever the name says.
//   - Names are also validated up front (no absolute paths, no "..", no NUL
//     or backslash, no control, format, bidirectional or other invisible
//     character as package naming defines them, bounded length and depth)
//     so the model gets a precise error and an admin reading a name sees
//     what it is.
//   - Writes never follow a symbolic link: any link on the path is refused.
//     They are atomic (temporary file in the same directory, then rename),
//     files are 0600 and directories 0700, and size caps (per file, memory,
//     whole workspace) and the cap on the number of files and folders
//     (empty ones count) are checked before anything is written.
//   - The workspace's usage (bytes and entries) is a running total: one
//     walk at Open, then updated by each write under the write lock, so a
//     write costs the same with 10 files present as with 10,000. A write
//     that fails half-way marks the totals stale (the next write walks
//     again), and a write the totals would refuse walks once more before
//     refusing, so files an admin removed on disk are taken into account.
//   - MEMORY.md is written only through the memory methods and read only
//     through ReadMemory (Read refuses it): the memory now lives in the
//     store with audiences, and the orchestrator reads this file once, to
//     import an earlier version's memory. SOUL.md and USER.md are read-only
//     for the AI.
//   - Error messages carry the relative path only, never the host path of
//     the workspace, because the model reads them.
package workspace

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
)

// Reserved file names at the workspace root.
const (
	MemoryFile = "MEMORY.md"
	SoulFile   = "SOUL.md"
	UserFile   = "USER.md"
)

// Sentinel errors, for errors.Is.
var (
	ErrInvalidPath     = errors.New("invalid path")
	ErrNotFound        = errors.New("not found")
	ErrReserved        = errors.New("reserved file")
	ErrTooLarge        = errors.New("too large")
	ErrQuotaExceeded   = errors.New("workspace quota exceeded")
	ErrBinary          = errors.New("not a text file")
	ErrTruncated       = errors.New("listing truncated")
	ErrInvalidArgument = errors.New("invalid argument")
)

// Limits caps what the assistant may store. Zero fields take the defaults.
type Limits struct {
	MaxFileBytes   int64 // one file, read or written; default 256 KiB
	MaxMemoryBytes int64 // MEMORY.md; default 64 KiB
	MaxListEntries int   // entries returned by List; default 500
	MaxTotalBytes  int64 // all regular files together; default 50 MiB
	// MaxFiles caps the files and folders below the root, whatever their
	// size (an empty file counts); default 2,000. SetMaxFiles changes it
	// while the workspace is open.
	MaxFiles int
}

// Default limits.
const (
	DefaultMaxFileBytes   = 256 << 10
	DefaultMaxMemoryBytes = 64 << 10
	DefaultMaxListEntries = 500
	DefaultMaxTotalBytes  = 50 << 20
	DefaultMaxFiles       = 2000
)

func (l Limits) withDefaults() (Limits, error) {
	if l.MaxFileBytes < 0 || l.MaxMemoryBytes < 0 || l.MaxListEntries < 0 || l.MaxTotalBytes < 0 || l.MaxFiles < 0 {
		return l, fmt.Errorf("workspace: negative limit in %+v", l)
	}
	if l.MaxFiles == 0 {
		l.MaxFiles = DefaultMaxFiles
	}
	if l.MaxFileBytes == 0 {
		l.MaxFileBytes = DefaultMaxFileBytes
	}
	if l.MaxMemoryBytes == 0 {
		l.MaxMemoryBytes = DefaultMaxMemoryBytes
	}
	if l.MaxListEntries == 0 {
		l.MaxListEntries = DefaultMaxListEntries
	}
	if l.MaxTotalBytes == 0 {
		l.MaxTotalBytes = DefaultMaxTotalBytes
	}
	return l, nil
}

// Entry is one item of a directory listing.
type Entry struct {
	Name string
	Dir  bool
	Size int64
}

// Workspace is an open workspace directory. It is safe for concurrent use.
type Workspace struct {
	root     *os.Root
	dirs     []string // host spellings of the directory, scrubbed from errors
	limits   Limits   // MaxFiles is in maxFiles
	maxFiles atomic.Int64

	mu sync.Mutex // serialises writes so quota and memory appends stay consistent
	// The running usage, guarded by mu: bytes of the regular files and
	// entries (files, folders, anything) below the root. stale means they
	// may be wrong and must be measured before they are used.
	used  int64
	count int
	stale bool
}

// Open opens (creating it with mode 0700 if missing) the workspace at dir.
func Open(dir string, l Limits) (*Workspace, error) {
	l, err := l.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("workspace: create %s: %w", dir, err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("workspace: open %s: %w", dir, err)
	}
	dirs := []string{dir}
	if abs, err := filepath.Abs(dir); err == nil && abs != dir {
		dirs = append(dirs, abs)
	}
	w := &Workspace{root: root, dirs: dirs, limits: l}
	w.maxFiles.Store(int64(l.MaxFiles))
	// A failed walk is not fatal here: the totals stay stale and the
	// first write measures again (and reports the error if it persists).
	w.mu.Lock()
	_ = w.measure()
	w.mu.Unlock()
	return w, nil
}

// Close releases the workspace directory handle.
func (w *Workspace) Close() error {
	return w.root.Close()
}

// Limits returns the effective limits (defaults filled in).
func (w *Workspace) Limits() Limits {
	l := w.limits
	l.MaxFiles = int(w.maxFiles.Load())
	return l
}

// SetMaxFiles changes Limits.MaxFiles (0 means the default) from the next
// write on. Files and folders already present stay, even over the new cap;
// only new ones are refused.
func (w *Workspace) SetMaxFiles(n int) error {
	if n < 0 {
		return fmt.Errorf("workspace: negative file limit %d", n)
	}
	if n == 0 {
		n = DefaultMaxFiles
	}
	w.maxFiles.Store(int64(n))
	return nil
}

// Usage returns the bytes of the regular files in the workspace and the
// number of its files and folders, as the quota checks see them.
func (w *Workspace) Usage() (bytes int64, entries int, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.ensureMeasured(); err != nil {
		return 0, 0, err
	}
	return w.used, w.count, nil
}

// hostError hides the host path of the workspace in an unexpected error
// while keeping it available to errors.Is/As.
type hostError struct {
	msg string
	err error
}

func (e *hostError) Error() string { return e.msg }
func (e *hostError) Unwrap() error { return e.err }

// scrub returns err with every spelling of the workspace directory removed
// from its text.
func (w *Workspace) scrub(err error) error {
	msg := err.Error()
	for _, d := range w.dirs {
		msg = strings.ReplaceAll(msg, d, "<workspace>")
	}
	return &hostError{msg: msg, err: err}
}

func checkCtx(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("workspace: %w", err)
	}
	return nil
}
