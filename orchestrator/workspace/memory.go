package workspace

import (
	"context"
	"fmt"
	"strings"
)

// Memory write modes.
const (
	ModeAppend  = "append"
	ModeReplace = "replace"
)

// ReadMemory returns the content of MEMORY.md; a missing file reads as "".
func (w *Workspace) ReadMemory(ctx context.Context) (string, error) {
	return w.ReadSystemFile(ctx, MemoryFile)
}

// WriteMemory appends content to MEMORY.md on a new line (mode "append" or
// "") or replaces it (mode "replace"). A result over Limits.MaxMemoryBytes
// is refused with ErrTooLarge and the memory is left unchanged.
func (w *Workspace) WriteMemory(ctx context.Context, content, mode string) error {
	const op = "memory write"
	if err := checkCtx(ctx); err != nil {
		return err
	}
	if mode != "" && mode != ModeAppend && mode != ModeReplace {
		return fmt.Errorf("workspace: %s: %w: mode %q: must be %q or %q", op, ErrInvalidArgument, mode, ModeAppend, ModeReplace)
	}
	if mode != ModeReplace && strings.TrimSpace(content) == "" {
		return fmt.Errorf("workspace: %s: %w: nothing to append", op, ErrInvalidArgument)
	}
	if !isText([]byte(content)) {
		return fmt.Errorf("workspace: %s: %w: content must be UTF-8 text without NUL bytes", op, ErrBinary)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	next := content
	if mode != ModeReplace {
		old, err := w.ReadSystemFile(ctx, MemoryFile)
		if err != nil {
			return err
		}
		next = appendLine(old, content)
	}
	if n := int64(len(next)); n > w.limits.MaxMemoryBytes {
		return fmt.Errorf("workspace: %s: %w: MEMORY.md would be %d bytes, the limit is %d bytes; "+
			"summarise the memory and write it back with mode %q", op, ErrTooLarge, n, w.limits.MaxMemoryBytes, ModeReplace)
	}
	return w.writeLocked(op, MemoryFile, MemoryFile, next)
}

// appendLine adds content to old on a line of its own.
func appendLine(old, content string) string {
	var b strings.Builder
	b.WriteString(old)
	if old != "" && !strings.HasSuffix(old, "\n") {
		b.WriteByte('\n')
	}
	b.WriteString(content)
	if !strings.HasSuffix(content, "\n") {
		b.WriteByte('\n')
	}
	return b.String()
}
