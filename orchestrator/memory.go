package orchestrator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/store"
)

// maxMemoryReadBytes caps what memory_read returns; the newest notes are
// kept.
const maxMemoryReadBytes = 64 << 10

// memoryRead returns the notes the task's audience may read. A task
// without an audience (not a conversation's) reads only the shared ones.
func (c *Core) memoryRead(ctx context.Context, task tools.Task, raw json.RawMessage) (string, error) {
	if err := strictArgs(raw, &struct{}{}); err != nil {
		return "", err
	}
	notes, err := c.store.MemoryNotes(ctx, task.Audience)
	if err != nil {
		return "", err
	}
	if len(notes) == 0 {
		return "The memory holds no notes this conversation may read.", nil
	}
	return untrusted("memory", formatNotes(notes, task.Audience, maxMemoryReadBytes)), nil
}

// memoryWrite stores a note with the audience of the task's conversation;
// the model cannot choose it.
func (c *Core) memoryWrite(ctx context.Context, task tools.Task, raw json.RawMessage) (string, error) {
	var a tools.MemoryWriteArgs
	if err := strictArgs(raw, &a); err != nil {
		return "", err
	}
	if a.Mode == "" {
		a.Mode = "append"
	}
	if a.Mode != "append" && a.Mode != "replace" {
		return "", publicf(`mode must be "append" or "replace"`)
	}
	if store.CheckAudience(task.Audience) != nil || task.Audience == store.AudienceEveryone {
		return "", publicf("this task belongs to no conversation that can keep notes")
	}
	if a.Mode == "append" && strings.TrimSpace(a.Content) == "" {
		return "", publicf("nothing to save: content is empty")
	}
	if c.memoryApproval.Load() {
		return c.pendingMemoryWrite(ctx, task, a)
	}
	n, deleted, err := c.store.WriteMemory(ctx, store.MemoryNote{Audience: task.Audience, Text: a.Content,
		ConversationID: task.ConversationID, TaskID: task.ID}, a.Mode == "replace", c.cfg.MemoryBytes)
	if errors.Is(err, store.ErrMemoryFull) {
		return "", publicError{strings.TrimPrefix(err.Error(), "store: write memory: ")}
	}
	if err != nil {
		return "", err
	}
	target := n.ID
	if target == "" {
		target = "memory" // a replace with nothing: only deletions
	}
	c.audit(ctx, audit.Event{Actor: "worker", Action: "memory.write", Target: target, Outcome: "ok",
		Details: map[string]any{"task_id": task.ID, "mode": a.Mode, "bytes": len(a.Content),
			"audience": task.Audience, "deleted": deleted}})
	if n.ID == "" {
		return fmt.Sprintf("Deleted this conversation's %d notes.", deleted), nil
	}
	return fmt.Sprintf("Saved (%s, %d bytes); %s.", a.Mode, len(a.Content), audienceLabel(task.Audience, task.Audience)), nil
}

// formatNotes lists notes for the model, oldest first, each with its date
// and who can read it; past max bytes the oldest are left out.
func formatNotes(notes []store.MemoryNote, reader string, max int) string {
	var lines []string
	size := 0
	for i := len(notes) - 1; i >= 0; i-- {
		n := notes[i]
		line := fmt.Sprintf("- (%s; %s) %s\n", n.CreatedAt.Format("2006-01-02"), audienceLabel(reader, n.Audience),
			strings.ReplaceAll(strings.TrimSpace(n.Text), "\n", "\n  "))
		if size+len(line) > max {
			lines = append(lines, fmt.Sprintf("[... %d older notes left out]\n", i+1))
			break
		}
		size += len(line)
		lines = append(lines, line)
	}
	slices.Reverse(lines)
	return strings.Join(lines, "")
}

// audienceLabel says who can read a note of audience, as the model in a
// conversation of reader should understand it.
func audienceLabel(reader, audience string) string {
	switch {
	case audience == store.AudienceEveryone:
		return "shared with every conversation"
	case audience == reader && strings.HasPrefix(audience, "discord-user:"):
		return "private to this Discord user's DMs"
	case audience == reader && strings.HasPrefix(audience, "discord-channel:"):
		return "only for this Discord channel"
	case audience == store.AudienceAdmin:
		return "private to the admin"
	case strings.HasPrefix(audience, "discord-user:"):
		return "private to Discord user " + strings.TrimPrefix(audience, "discord-user:") + "; do not repeat it elsewhere"
	case strings.HasPrefix(audience, "discord-channel:"):
		return "only for Discord channel " + strings.TrimPrefix(audience, "discord-channel:") + "; do not repeat it elsewhere"
	}
	return audience
}

// ImportLegacyMemory moves the text of MEMORY.md (the memory file of an
// earlier version) into the store as one admin-only note and empties the
// file, so that no conversation but the admin's reads what it held. The
// admin can share it on the Memory page. Run it at start, before tasks.
func (c *Core) ImportLegacyMemory(ctx context.Context) error {
	text, err := c.workspace.ReadMemory(ctx)
	if err != nil {
		return fmt.Errorf("orchestrator: import MEMORY.md: %w", err)
	}
	imported, err := c.store.ImportMemory(ctx, text)
	if err != nil {
		return fmt.Errorf("orchestrator: import MEMORY.md: %w", err)
	}
	if imported {
		c.audit(ctx, audit.Event{Actor: "system", Action: "memory.imported", Target: "MEMORY.md", Outcome: "ok",
			Details: map[string]any{"bytes": len(text), "audience": store.AudienceAdmin}})
	}
	if len(text) > store.MaxImportBytes {
		// The note holds only the start: the file stays (workspace_read
		// refuses it) so that nothing is lost.
		c.logger.Warn("MEMORY.md is longer than one import takes; its start is now an admin-only note and the file is kept",
			"bytes", len(text), "imported_bytes", store.MaxImportBytes)
		return nil
	}
	if text != "" {
		if err := c.workspace.WriteMemory(ctx, "", "replace"); err != nil {
			return fmt.Errorf("orchestrator: empty MEMORY.md after its import: %w", err)
		}
	}
	return nil
}
