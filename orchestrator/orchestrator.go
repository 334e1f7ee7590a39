// Package orchestrator is the system side's core: it turns a chat message
// into a task for the AI worker, serves the MCP tools the worker may call,
// and stores what happened.
//
// Everything the worker says is untrusted input. Tools check that the task
// they act for is in flight and bound to the calling worker process (its PID
// comes from the kernel through SO_PEERCRED), results that carry content the
// AI or the web wrote are wrapped as data, and the user-facing text of a
// failure is chosen here, never by the worker.
package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/approval"
	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/live"
	"github.com/airlockhq/airlock/orchestrator/llm"
	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/orchestrator/worker"
	"github.com/airlockhq/airlock/orchestrator/workspace"
	"github.com/airlockhq/airlock/secure/egress"
	"github.com/airlockhq/airlock/secure/redact"
)

// MaxMessageBytes caps one user message.
const MaxMessageBytes = 32 << 10

// Errors for callers to branch on. Their text is safe to show a user.
var (
	ErrEmptyMessage    = errors.New("message text is empty")
	ErrMessageTooLarge = fmt.Errorf("message text is larger than %d bytes", MaxMessageBytes)
	ErrInvalidText     = errors.New("message text is not valid UTF-8")
)

// Config holds the core's limits.
type Config struct {
	MaxRounds    int           // LLM calls per task
	TaskTimeout  time.Duration // wall-clock budget per task
	HistoryLimit int           // earlier messages sent with a task
	// MemoryBytes caps the memory notes of one audience (0: the store's
	// default, 64 KiB).
	MemoryBytes int64
}

// Deps are the components the core works with. LLM may be nil while no
// model is configured.
type Deps struct {
	Store     *store.Store
	Audit     *audit.Log
	Queue     *worker.Queue
	Workspace *workspace.Workspace
	LLM       *llm.Gateway
	// Web makes the requests of web_fetch, through the egress guard; nil
	// disables the tool.
	Web    *egress.Client
	Logger *slog.Logger
	Now    func() time.Time
	// Redact scrubs secret values from text leaving the system side: tool
	// results, tasks, chat replies. Nil means none.
	Redact func(string) string
	// Approval holds the scripts and their reviews; nil disables scripts.
	Approval *approval.Service
	// Secret returns a secret's value, for substitution into the requests
	// of approved scripts that were granted it.
	Secret func(ctx context.Context, name string) (string, error)
	// Live receives the events web-chat viewers follow: a task started,
	// the partial reply text while the model writes, the reply stored, the
	// task failed. With a hub the model is always called streamed; nil
	// means no events and whole calls.
	Live *live.Hub
	// Redactor returns the current redaction engine. The partial text
	// published to Live passes its streaming Writer, whose hold-back never
	// lets a prefix of a secret through; Redact cannot do that. Nil with
	// Redact set: no partial text is published (task, done and failed
	// still are). Nil with Redact nil: the shape detectors only, for both.
	Redactor func() *redact.Redactor
}

// Core handles conversations.
type Core struct {
	Deps
	cfg Config

	mu    sync.Mutex
	convs map[string]chan struct{} // one task at a time per conversation
	runs  runs
}

// New returns a Core.
func New(cfg Config, d Deps) *Core {
	if cfg.MaxRounds <= 0 {
		cfg.MaxRounds = 8
	}
	if cfg.TaskTimeout <= 0 {
		cfg.TaskTimeout = 3 * time.Minute
	}
	if cfg.HistoryLimit <= 0 {
		cfg.HistoryLimit = 40
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	switch {
	case d.Redact == nil && d.Redactor != nil:
		engine := d.Redactor
		d.Redact = func(s string) string { return engine().String(s) }
	case d.Redact == nil:
		d.Redact = func(s string) string { return s }
		d.Redactor = func() *redact.Redactor { return nil }
	}
	return &Core{Deps: d, cfg: cfg, convs: make(map[string]chan struct{})}
}

// Message is an incoming chat message.
type Message struct {
	ConversationID string
	Source         string // "api", "web", "discord"
	Author         string // who sent it, for the audit log
	Text           string
	// Audience is the memory audience of a Discord message: the sender's
	// DMs (store.DiscordUserAudience) or the channel
	// (store.DiscordChannelAudience). A Discord message without one is
	// refused. Web and API messages are the admin's: their audience is
	// always store.AudienceAdmin, whatever this says.
	Audience string
}

// Reply is the assistant's answer to a Message.
type Reply struct {
	ConversationID string `json:"conversation_id"`
	TaskID         string `json:"task_id"`
	Text           string `json:"reply"`
	Failed         bool   `json:"failed"`
}

// HandleMessage stores m, has the worker answer it, stores the answer and
// returns it. It waits for the task even if ctx ends, so that the answer is
// stored for the user to read later; the task's deadline bounds the wait.
// A failed task is not an error: its Reply carries a short apology. Viewers
// of the conversation (Deps.Live) are told when the task starts and how it
// ended, with the text stored.
func (c *Core) HandleMessage(ctx context.Context, m Message) (Reply, error) {
	if err := CheckText(m.Text); err != nil {
		return Reply{}, err
	}
	if m.Author == "" {
		m.Author = "unknown"
	}
	conv, err := c.Store.GetConversation(ctx, m.ConversationID)
	if err != nil {
		return Reply{}, err
	}
	if m.Audience, err = audienceOf(conv, m); err != nil {
		return Reply{}, err
	}
	unlock, err := c.lockConversation(ctx, conv.ID)
	if err != nil {
		return Reply{}, err
	}
	defer unlock()

	task, err := c.startTask(ctx, conv, m)
	if err != nil {
		return Reply{}, err
	}
	c.publish(live.Event{Type: live.TypeTask, ConversationID: conv.ID, TaskID: task.ID})
	deadline := c.Now().Add(time.Duration(task.BudgetMS) * time.Millisecond)
	ticket := c.Queue.Submit(task, deadline)
	res := c.await(ticket, deadline)
	return c.finishTask(context.WithoutCancel(ctx), m, task.ID, res)
}

// CheckText returns the error HandleMessage gives for a message text
// (ErrEmptyMessage, ErrMessageTooLarge or ErrInvalidText), or nil, so that
// callers can refuse a bad message before starting work for it.
func CheckText(s string) error {
	switch {
	case strings.TrimSpace(s) == "":
		return ErrEmptyMessage
	case len(s) > MaxMessageBytes:
		return ErrMessageTooLarge
	case !utf8.ValidString(s):
		return ErrInvalidText
	}
	return nil
}

// lockConversation serialises tasks within one conversation, so each sees
// the answer to the one before.
func (c *Core) lockConversation(ctx context.Context, id string) (func(), error) {
	for {
		c.mu.Lock()
		busy, ok := c.convs[id]
		if !ok {
			done := make(chan struct{})
			c.convs[id] = done
			c.mu.Unlock()
			return func() {
				c.mu.Lock()
				delete(c.convs, id)
				c.mu.Unlock()
				close(done)
			}, nil
		}
		c.mu.Unlock()
		select {
		case <-busy:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// await waits for the task, failing it if even the reaper missed its deadline.
func (c *Core) await(t worker.Ticket, deadline time.Time) worker.Result {
	grace := time.NewTimer(time.Until(deadline) + 5*time.Second)
	defer grace.Stop()
	select {
	case r := <-t.Done:
		return r
	case <-grace.C:
		c.Queue.Cancel(t.ID, "task ran past its deadline")
		return <-t.Done
	}
}

func (c *Core) startTask(ctx context.Context, conv store.Conversation, m Message) (tools.Task, error) {
	st, _, err := c.Store.StartTask(ctx, conv.ID, m.Text)
	if err != nil {
		return tools.Task{}, err
	}
	system, history, err := c.taskContext(ctx, conv.ID, m.Audience)
	if err != nil {
		_ = c.Store.SetTaskStatus(ctx, st.ID, store.TaskFailed, "building the context failed")
		return tools.Task{}, err
	}
	rounds, timeout := c.limits()
	return tools.Task{
		ID: st.ID, ConversationID: conv.ID, System: system, Messages: history,
		MaxRounds: rounds, BudgetMS: timeout.Milliseconds(), Audience: m.Audience,
	}, nil
}

// audienceOf returns the memory audience of a message: the admin's for
// the web chat and the API, the one the Discord adapter set (a DM's user
// or a channel) for Discord.
func audienceOf(conv store.Conversation, m Message) (string, error) {
	switch conv.Source {
	case store.SourceWeb, store.SourceAPI:
		return store.AudienceAdmin, nil
	case store.SourceDiscord:
		if strings.HasPrefix(m.Audience, "discord-") && store.CheckAudience(m.Audience) == nil {
			return m.Audience, nil
		}
	}
	return "", fmt.Errorf("orchestrator: conversation %s (source %q): the message has no valid memory audience",
		conv.ID, conv.Source)
}

func (c *Core) finishTask(ctx context.Context, m Message, taskID string, r worker.Result) (Reply, error) {
	convID, author, source := m.ConversationID, m.Author, m.Source
	reply := Reply{ConversationID: convID, TaskID: taskID, Text: r.Text, Failed: r.Failed}
	status, outcome := store.TaskDone, "ok"
	if r.Failed {
		status, outcome = store.TaskFailed, "error"
		reply.Text = r.Notice
		if reply.Text == "" {
			reply.Text = failNotice(taskID)
		}
		c.Logger.Warn("task failed", "task_id", taskID, "conversation_id", convID, "reason", r.Reason)
	} else if strings.TrimSpace(reply.Text) == "" {
		reply.Text = "(no answer)"
	}
	reply.Text = c.Redact(reply.Text)
	if _, err := c.Store.FinishTask(ctx, taskID, status, r.Reason, store.Message{
		ConversationID: convID, Role: tools.RoleAssistant, Content: reply.Text, IsError: r.Failed,
	}); err != nil {
		c.publish(live.Event{Type: live.TypeFailed, ConversationID: convID, TaskID: taskID, Text: failNotice(taskID)})
		return Reply{}, err
	}
	ev := live.Event{Type: live.TypeDone, ConversationID: convID, TaskID: taskID, Text: reply.Text}
	if r.Failed {
		ev.Type = live.TypeFailed
	}
	c.publish(ev)
	c.audit(ctx, audit.Event{Actor: author, Action: "task." + status, Target: convID, Outcome: outcome,
		Details: map[string]any{"task_id": taskID, "source": source, "reason": r.Reason}})
	return reply, nil
}

// failNotice is what the user reads when a task failed and nobody chose a
// better notice.
func failNotice(taskID string) string {
	return fmt.Sprintf("Sorry, I couldn't finish that. Please try again. (reference %s)", taskID)
}

// audit appends an event; a failure to audit is logged loudly.
func (c *Core) audit(ctx context.Context, e audit.Event) {
	if _, err := c.Audit.Append(ctx, e); err != nil {
		c.Logger.Error("audit append failed", "action", e.Action, "err", err)
	}
}
