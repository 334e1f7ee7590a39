package orchestrator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/orchestrator/webfetch"
	"github.com/airlockhq/airlock/orchestrator/workspace"
	"github.com/airlockhq/airlock/secure/egress"
)

// maxChatSends caps chat_send per task, so a looping model cannot flood a chat.
const maxChatSends = 5

func (c *Core) modelHandlers() map[string]modelHandler {
	return map[string]modelHandler{
		tools.MemoryRead:     c.memoryRead,
		tools.MemoryWrite:    c.memoryWrite,
		tools.MemorySearch:   c.memorySearch,
		tools.WorkspaceList:  c.workspaceList,
		tools.WorkspaceRead:  c.workspaceRead,
		tools.WorkspaceWrite: c.workspaceWrite,
		tools.ChatSend:       c.chatSend,
		tools.WebFetch:       c.webFetch,
		tools.ScriptList:     c.scriptList,
		tools.ScriptStatus:   c.scriptStatus,
		tools.ScriptPropose:  c.scriptPropose,
		tools.JobPropose:     c.jobPropose, // scheduled jobs (issue 14)
		tools.JobList:        c.jobList,
	}
}

func strictArgs(raw json.RawMessage, v any) error {
	return decodeRaw(raw, v)
}

// workspaceError makes a workspace error readable by the model; the
// workspace package keeps host paths out of its messages.
func workspaceError(err error) error {
	for _, sentinel := range []error{workspace.ErrInvalidPath, workspace.ErrNotFound, workspace.ErrTooLarge,
		workspace.ErrReserved, workspace.ErrBinary, workspace.ErrQuotaExceeded, workspace.ErrTruncated,
		workspace.ErrInvalidArgument} {
		if errors.Is(err, sentinel) {
			return publicError{strings.TrimPrefix(err.Error(), "workspace: ")}
		}
	}
	return err
}

func (c *Core) workspaceList(ctx context.Context, _ tools.Task, raw json.RawMessage) (string, error) {
	var a tools.WorkspacePathArgs
	if err := strictArgs(raw, &a); err != nil {
		return "", err
	}
	entries, err := c.workspace.List(ctx, a.Path)
	var b strings.Builder
	switch {
	case errors.Is(err, workspace.ErrTruncated):
		fmt.Fprintf(&b, "(%s)\n", strings.TrimPrefix(err.Error(), "workspace: "))
	case err != nil:
		return "", workspaceError(err)
	case len(entries) == 0:
		return "The folder is empty.", nil
	}
	for _, e := range entries {
		if e.Dir {
			fmt.Fprintf(&b, "%s/\n", e.Name)
		} else {
			fmt.Fprintf(&b, "%s (%d bytes)\n", e.Name, e.Size)
		}
	}
	return untrusted("workspace listing: /"+a.Path, b.String()), nil
}

func (c *Core) workspaceRead(ctx context.Context, _ tools.Task, raw json.RawMessage) (string, error) {
	var a tools.WorkspacePathArgs
	if err := strictArgs(raw, &a); err != nil {
		return "", err
	}
	text, err := c.workspace.Read(ctx, a.Path)
	if err != nil {
		return "", workspaceError(err)
	}
	return untrusted("workspace file: "+a.Path, text), nil
}

func (c *Core) workspaceWrite(ctx context.Context, task tools.Task, raw json.RawMessage) (string, error) {
	var a tools.WorkspaceWriteArgs
	if err := strictArgs(raw, &a); err != nil {
		return "", err
	}
	if err := c.workspace.Write(ctx, a.Path, a.Content); err != nil {
		return "", workspaceError(err)
	}
	// The version (and the search index) of what the model wrote.
	if err := c.store.RecordFileVersion(ctx, workspaceKey(a.Path), a.Content, store.Change{Actor: store.ActorModel, Action: "write",
		ConversationID: task.ConversationID, TaskID: task.ID}); err != nil {
		c.logger.Error("recording a workspace file's version failed", "task_id", task.ID, "err", err)
	}
	c.audit(ctx, audit.Event{Actor: "worker", Action: "workspace.write", Target: a.Path, Outcome: "ok",
		Details: map[string]any{"task_id": task.ID, "bytes": len(a.Content)}})
	return fmt.Sprintf("Wrote %s (%d bytes).", a.Path, len(a.Content)), nil
}

func (c *Core) chatSend(ctx context.Context, task tools.Task, raw json.RawMessage) (string, error) {
	var a tools.ChatSendArgs
	if err := strictArgs(raw, &a); err != nil {
		return "", err
	}
	if err := CheckText(a.Text); err != nil {
		return "", publicError{err.Error()}
	}
	if !c.queue.CountChatSend(task.ID, maxChatSends) {
		return "", publicf("chat_send may be used at most %d times per task", maxChatSends)
	}
	// The conversation is the task's own: chat_send takes no destination.
	if _, err := c.store.AddMessage(ctx, store.Message{ConversationID: task.ConversationID, TaskID: task.ID,
		Role: tools.RoleAssistant, Content: c.redact(a.Text)}); err != nil {
		return "", err
	}
	return "Sent.", nil
}

func storeToolMessage(task tools.Task, name, text string, isErr bool) store.Message {
	return store.Message{ConversationID: task.ConversationID, TaskID: task.ID, Role: tools.RoleTool,
		ToolName: name, Content: text, IsError: isErr}
}

func (c *Core) webFetch(ctx context.Context, task tools.Task, raw json.RawMessage) (string, error) {
	var a tools.WebFetchArgs
	if err := strictArgs(raw, &a); err != nil {
		return "", err
	}
	if err := c.secretURL(ctx, task, a.URL); err != nil {
		return "", err
	}
	if c.web == nil {
		return "", publicf("web access is not enabled")
	}
	page, err := webfetch.Fetch(ctx, c.web, a.URL, webfetch.DefaultMaxTextBytes)
	host := audit.URLHost(a.URL)
	if err != nil {
		c.audit(ctx, audit.Event{Actor: "worker", Action: "web.fetch", Target: host, Outcome: fetchOutcome(err),
			Details: map[string]any{"task_id": task.ID, "error": err.Error()}})
		if errors.Is(err, egress.ErrRefused) || errors.Is(err, egress.ErrTooLarge) || errors.Is(err, egress.ErrTimeout) ||
			errors.Is(err, webfetch.ErrUnsupportedType) || errors.Is(err, webfetch.ErrHTTPStatus) {
			return "", publicError{err.Error()}
		}
		return "", publicf("fetching %s failed", host)
	}
	c.audit(ctx, audit.Event{Actor: "worker", Action: "web.fetch", Target: host, Outcome: "ok",
		Details: map[string]any{"task_id": task.ID, "bytes": len(page.Text), "truncated": page.Truncated}})
	var b strings.Builder
	fmt.Fprintf(&b, "URL: %s\n", page.URL)
	if page.Title != "" {
		fmt.Fprintf(&b, "Title: %s\n", page.Title)
	}
	b.WriteString("\n" + page.Text)
	if page.Truncated {
		b.WriteString("\n[... truncated]")
	}
	return untrusted("web page: "+page.URL, b.String()), nil
}

func fetchOutcome(err error) string {
	if errors.Is(err, egress.ErrRefused) {
		return "denied"
	}
	return "error"
}
