package workspace

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/airlockhq/airlock/orchestrator/naming"
)

// Path limits.
const (
	MaxPathBytes   = 512
	MaxPathDepth   = 16
	maxElemBytes   = 255
	tempFilePrefix = ".airlock-tmp-"
)

// invalid builds an ErrInvalidPath error for op on rel.
func invalid(op, rel, reason string) error {
	return fmt.Errorf("workspace: %s %q: %w: %s", op, rel, ErrInvalidPath, reason)
}

// clean validates a model-supplied relative path and returns it normalised
// (no empty or "." elements). It returns "." for the root, which only
// callers with allowRoot accept.
func clean(op, rel string, allowRoot bool) (string, error) {
	if reason := badPath(rel); reason != "" {
		return "", invalid(op, rel, reason)
	}
	var elems []string
	for _, e := range strings.Split(rel, "/") {
		switch {
		case e == "" || e == ".":
			continue
		case e == "..":
			return "", invalid(op, rel, `".." is not allowed; paths stay inside the workspace`)
		case len(e) > maxElemBytes:
			return "", invalid(op, rel, fmt.Sprintf("a path element is longer than %d bytes", maxElemBytes))
		}
		elems = append(elems, e)
	}
	if len(elems) > MaxPathDepth {
		return "", invalid(op, rel, fmt.Sprintf("path is deeper than %d levels", MaxPathDepth))
	}
	if len(elems) == 0 {
		if !allowRoot {
			return "", invalid(op, rel, "path is empty; name a file relative to the workspace root")
		}
		return ".", nil
	}
	return strings.Join(elems, "/"), nil
}

// badPath reports what is wrong with the characters of rel, or "".
func badPath(rel string) string {
	switch {
	case len(rel) > MaxPathBytes:
		return fmt.Sprintf("path is longer than %d bytes", MaxPathBytes)
	case strings.ContainsRune(rel, 0):
		return "path contains a NUL byte"
	case strings.ContainsRune(rel, '\\'):
		return `path contains a backslash; use "/" between folders`
	case !utf8.ValidString(rel):
		return "path is not valid UTF-8"
	case naming.Check(rel) != "":
		return "path " + naming.Check(rel)
	case strings.HasPrefix(rel, "/"):
		return "absolute paths are not allowed; use a path relative to the workspace root"
	}
	return ""
}

// isReserved reports whether the cleaned path names a reserved root file,
// compared case-insensitively.
func isReserved(p string) bool {
	for _, r := range []string{MemoryFile, SoulFile, UserFile} {
		if strings.EqualFold(p, r) {
			return true
		}
	}
	return false
}

// prefixes returns "a", "a/b", "a/b/c" for "a/b/c".
func prefixes(p string) []string {
	var out []string
	for i := range len(p) {
		if p[i] == '/' {
			out = append(out, p[:i])
		}
	}
	return append(out, p)
}

// firstSymlink returns the first element of p (as a prefix path) that is a
// symbolic link, or "" if none is. Missing elements end the walk.
func (w *Workspace) firstSymlink(p string) string {
	for _, pre := range prefixes(p) {
		fi, err := w.root.Lstat(pre)
		if err != nil {
			return ""
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return pre
		}
	}
	return ""
}

// mapErr turns an error of a root operation on the cleaned path p into a
// model-safe error.
func (w *Workspace) mapErr(op, rel, p string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("workspace: %s %q: %w", op, rel, ErrNotFound)
	}
	if strings.Contains(err.Error(), "path escapes") || errors.Is(err, syscall.ELOOP) {
		if link := w.firstSymlink(p); link != "" {
			return invalid(op, rel, fmt.Sprintf("%q is a symbolic link that leads outside the workspace (or loops)", link))
		}
		return invalid(op, rel, "path leads outside the workspace")
	}
	if errors.Is(err, syscall.ENOTDIR) {
		return invalid(op, rel, "a folder on the path is a file")
	}
	return fmt.Errorf("workspace: %s %q: %w", op, rel, w.scrub(err))
}

// hidden reports whether a directory entry is internal bookkeeping.
func hidden(name string) bool {
	return strings.HasPrefix(name, tempFilePrefix)
}
