package orchestrator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/store"
)

// memorySearch is the memory_search model tool: full-text search over what
// the task's audience may read (store.SearchMemory obeys CanRead). The
// results are data the model did not write now: they come back wrapped.
func (c *Core) memorySearch(ctx context.Context, task tools.Task, raw json.RawMessage) (string, error) {
	var a tools.MemorySearchArgs
	if err := strictArgs(raw, &a); err != nil {
		return "", err
	}
	hits, err := c.store.SearchMemory(ctx, store.Search{Reader: task.Audience, ConversationID: task.ConversationID,
		TaskID: task.ID, Query: a.Query, Scope: a.Scope, Limit: a.Limit})
	if errors.Is(err, store.ErrBadQuery) {
		return "", publicError{err.Error()}
	}
	if err != nil {
		return "", err
	}
	if len(hits) == 0 {
		return "Nothing found. Try other or fewer words, or scope \"all\".", nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d results, best first:\n", len(hits))
	for i, h := range hits {
		date := h.Date.UTC().Format("2006-01-02 15:04")
		switch h.Kind {
		case "message":
			where := "this conversation"
			if h.ConversationID != task.ConversationID {
				title := h.ConversationTitle
				if title == "" {
					title = "untitled"
				}
				where = fmt.Sprintf("conversation %q (%s)", title, h.ConversationID)
			}
			who := "the user"
			if h.Role == tools.RoleAssistant {
				who = "you (assistant)"
			}
			fmt.Fprintf(&b, "%d. %s, %s, %s wrote: %s\n", i+1, where, date, who, oneLine(h.Snippet))
		case "note":
			fmt.Fprintf(&b, "%d. memory note %s, %s (%s): %s\n", i+1, h.NoteID, date,
				audienceLabel(task.Audience, h.Audience), oneLine(h.Snippet))
		default:
			fmt.Fprintf(&b, "%d. workspace file %s, %s: %s\n", i+1, h.Path, date, oneLine(h.Snippet))
		}
	}
	return untrusted("memory search", b.String()), nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// promptMemory renders the notes a task's system prompt carries within
// max bytes: the pinned notes first, then the newest; the rest is left out
// and counted. A newest note too long to fit whole keeps its end (the
// latest part of a long note, such as an imported MEMORY.md).
func promptMemory(notes []store.MemoryNote, reader string, max int) (text string, left int) {
	type line struct {
		i    int
		text string
	}
	var kept []line
	size := 0
	line1 := func(n store.MemoryNote, body string) string {
		pin := ""
		if n.Pinned {
			pin = "pinned; "
		}
		return fmt.Sprintf("- (%s%s; %s) %s\n", pin, n.CreatedAt.Format("2006-01-02"), audienceLabel(reader, n.Audience),
			strings.ReplaceAll(strings.TrimSpace(body), "\n", "\n  "))
	}
	order := make([]int, 0, len(notes))
	for i := len(notes) - 1; i >= 0; i-- {
		if notes[i].Pinned {
			order = append(order, i)
		}
	}
	for i := len(notes) - 1; i >= 0; i-- {
		if !notes[i].Pinned {
			order = append(order, i)
		}
	}
	for _, i := range order {
		l := line1(notes[i], notes[i].Text)
		if size+len(l) > max {
			room := max - size - 200
			if room < 1024 {
				left++
				continue
			}
			body := notes[i].Text
			cut := len(body) - room
			for cut < len(body) && !utf8.RuneStart(body[cut]) {
				cut++
			}
			l = line1(notes[i], "[... the start of this note is left out]\n"+body[cut:])
			left++ // in part
		}
		size += len(l)
		kept = append(kept, line{i, l})
	}
	slices.SortFunc(kept, func(a, b line) int { return a.i - b.i })
	var b strings.Builder
	for _, l := range kept {
		b.WriteString(l.text)
	}
	return b.String(), left
}

// memoryPrompt is the memory section of a task's system prompt.
func memoryPrompt(notes []store.MemoryNote, audience string, max int) string {
	text, left := promptMemory(notes, audience, max)
	var b strings.Builder
	b.WriteString("\n\n## Your memory (notes saved with memory_write that this conversation may read)\n")
	if left > 0 {
		fmt.Fprintf(&b, "Your memory holds more than fits here: %d of its %d notes are left out or cut "+
			"(what is here is the pinned notes and the newest). Before you answer from memory, or say you do "+
			"not remember, use memory_search to look up the rest.\n", left, len(notes))
	}
	b.WriteString(untrusted("memory", text))
	return b.String()
}

// SetMemoryApproval makes memory_write wait for the admin's approval
// (setting memory.require_approval) from now on.
func (c *Core) SetMemoryApproval(on bool) { c.memoryApproval.Store(on) }

// pendingMemoryWrite stores a memory_write for the admin to approve.
func (c *Core) pendingMemoryWrite(ctx context.Context, task tools.Task, a tools.MemoryWriteArgs) (string, error) {
	limit := c.cfg.MemoryBytes
	if limit <= 0 {
		limit = store.DefaultMemoryAudienceBytes
	}
	if int64(len(a.Content)) > limit {
		return "", publicf("the note is %d bytes, the limit is %d bytes", len(a.Content), limit)
	}
	p, err := c.store.AddPendingMemory(ctx, store.PendingMemory{Audience: task.Audience, Mode: a.Mode, Text: a.Content,
		ConversationID: task.ConversationID, TaskID: task.ID})
	if errors.Is(err, store.ErrMemoryFull) {
		return "", publicError{strings.TrimPrefix(err.Error(), "store: pending memory: ")}
	}
	if err != nil {
		return "", err
	}
	c.audit(ctx, audit.Event{Actor: "worker", Action: "memory.proposed", Target: p.ID, Outcome: audit.OutcomeOK,
		Details: map[string]any{"task_id": task.ID, "mode": a.Mode, "bytes": len(a.Content), "audience": task.Audience}})
	return fmt.Sprintf("Awaiting the admin's approval (%s): memory writes take effect only once the admin approves them "+
		"on the Memory page. Do not tell the user it is saved yet.", p.ID), nil
}

// RestoreFileVersion writes back a workspace file's version (the admin's
// restore on the Memory page) and records it as a new version.
func (c *Core) RestoreFileVersion(ctx context.Context, v store.MemoryVersion, actor string) error {
	if !v.IsFile() {
		return fmt.Errorf("orchestrator: version %s is not a workspace file's", v.ID)
	}
	if err := c.workspace.Write(ctx, v.Path(), v.FileText); err != nil {
		return workspaceError(err)
	}
	return c.store.RecordFileVersion(ctx, v.Path(), v.FileText, store.Change{Actor: actor, Action: "restore"})
}

// MemoryBytes is the cap of one audience's notes (0: the store's
// default), which an approved memory write must fit too.
func (c *Core) MemoryBytes() int64 { return c.cfg.MemoryBytes }

// maxIndexedFiles caps the workspace files IndexWorkspace reads.
const maxIndexedFiles = 5000

// IndexWorkspace indexes the workspace's text files for memory_search, as
// they are on disk (run at start: files the admin wrote, or deleted, while
// the orchestrator was stopped). Files workspace_read refuses (binary, too
// large, MEMORY.md) are left out.
func (c *Core) IndexWorkspace(ctx context.Context) error {
	files := map[string]string{}
	dirs := []string{""}
	for len(dirs) > 0 && len(files) < maxIndexedFiles {
		dir := dirs[0]
		dirs = dirs[1:]
		entries, err := c.workspace.List(ctx, dir)
		if err != nil && len(entries) == 0 {
			continue
		}
		for _, e := range entries {
			p := path.Join(dir, e.Name)
			if e.Dir {
				dirs = append(dirs, p)
				continue
			}
			if text, err := c.workspace.Read(ctx, p); err == nil && len(files) < maxIndexedFiles {
				files[p] = text
			}
		}
	}
	if err := c.store.SyncWorkspaceTexts(ctx, files); err != nil {
		return fmt.Errorf("orchestrator: index the workspace: %w", err)
	}
	return nil
}

// workspaceKey is the path a workspace file is indexed and versioned
// under, whatever way the model spelled it ("./notes/a.md" is
// "notes/a.md").
func workspaceKey(p string) string { return path.Clean(strings.TrimPrefix(p, "/")) }
