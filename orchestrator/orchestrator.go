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
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/approval"
	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/integration"
	"github.com/airlockhq/airlock/orchestrator/jobs"
	"github.com/airlockhq/airlock/orchestrator/live"
	"github.com/airlockhq/airlock/orchestrator/llm"
	"github.com/airlockhq/airlock/orchestrator/scriptbroker"
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
	// ErrReadOnly: the conversation is answered elsewhere (Discord) and
	// takes no message from this source.
	ErrReadOnly = errors.New("this conversation happens in Discord; its transcript is read-only here")
	// ErrBusy: a reply is still being written in the conversation
	// (StartMessage, which does not wait its turn).
	ErrBusy = errors.New("a reply is still being written in this conversation; send the next message when it is done")
	// ErrWorkerOffline: no worker is connected, so a test run cannot run.
	ErrWorkerOffline = errors.New("the worker is not connected, so nothing can run; start it and try again")
)

// Config holds the core's limits.
type Config struct {
	MaxRounds    int           // LLM calls per task
	TaskTimeout  time.Duration // wall-clock budget per task
	HistoryLimit int           // most messages of history sent with a task (0: 40)
	// HistoryTokens is the estimated token budget of that history
	// (store.EstimateTokens; 0: DefaultHistoryTokens).
	HistoryTokens int
	// MemoryBytes caps the memory notes of one audience (0: the store's
	// default, 64 KiB).
	MemoryBytes int64
}

// Deps are the components the core works with. Store, Audit, Queue,
// Workspace and Logger are required; New refuses a Deps without one.
type Deps struct {
	Store     *store.Store
	Audit     *audit.Log
	Queue     *worker.Queue
	Workspace *workspace.Workspace
	Logger    *slog.Logger
	// LLM is the model gateway; nil, or one without a client, while no
	// model is configured: the assistant then says so.
	LLM *llm.Gateway
	// Web makes the requests of web_fetch and of scripts, through the
	// egress guard; nil disables web_fetch. Scripts require it.
	Web *egress.Client
	Now func() time.Time // nil: time.Now
	// Redactor scrubs secret values from text leaving the system side:
	// tool results, tasks, chat replies, the partial text published to
	// Live (through its streaming Writer, whose hold-back never lets a
	// prefix of a secret through). Nil means the shape detectors only.
	Redactor *redact.Holder
	// Approval holds the scripts and their reviews; nil disables scripts.
	// With it, Web and Secret are required (see scriptbroker).
	Approval *approval.Service
	// Secret returns a secret's value, for substitution into the requests
	// of approved scripts that were granted it.
	Secret func(ctx context.Context, name string) (string, error)
	// Live receives the events web-chat viewers follow: a task started,
	// the partial reply text while the model writes, the reply stored, the
	// task failed. With a hub the model is always called streamed; nil
	// means no events and whole calls.
	Live *live.Hub
	// Remote holds the external MCP servers (issue 15): their approved
	// tools are offered to the model as <server>__<tool> and reached
	// through runtime_mcp_call. Nil: none.
	Remote *integration.Service
}

// Core handles conversations.
type Core struct {
	store     *store.Store
	log       *audit.Log
	queue     *worker.Queue
	workspace *workspace.Workspace
	logger    *slog.Logger
	llm       *llm.Gateway   // nil: no model
	web       *egress.Client // nil: no web_fetch
	now       func() time.Time
	redactor  *redact.Holder       // nil: shapes only
	approval  *approval.Service    // nil: no scripts
	scripts   *scriptbroker.Broker // set exactly when approval is
	live      *live.Hub            // nil: no events
	remote    *integration.Service // nil: no external MCP servers
	jobs      *jobs.Service        // nil: no job tools (SetJobs)
	cfg       Config
	// memoryApproval: memory_write waits for the admin (setting
	// memory.require_approval).
	memoryApproval atomic.Bool

	mu      sync.Mutex
	convs   map[string]*convLock // one task at a time per conversation
	waiting int                  // messages waiting in convs
}

// New returns a Core, or an error naming a missing dependency.
func New(cfg Config, d Deps) (*Core, error) {
	switch {
	case d.Store == nil:
		return nil, errors.New("orchestrator: no store")
	case d.Audit == nil:
		return nil, errors.New("orchestrator: no audit log")
	case d.Queue == nil:
		return nil, errors.New("orchestrator: no task queue")
	case d.Workspace == nil:
		return nil, errors.New("orchestrator: no workspace")
	case d.Logger == nil:
		return nil, errors.New("orchestrator: no logger")
	}
	if cfg.MaxRounds <= 0 {
		cfg.MaxRounds = tools.DefaultMaxRounds
	}
	if cfg.TaskTimeout <= 0 {
		cfg.TaskTimeout = tools.DefaultTaskTimeout
	}
	if cfg.HistoryLimit <= 0 {
		cfg.HistoryLimit = 40
	}
	if cfg.HistoryTokens <= 0 {
		cfg.HistoryTokens = DefaultHistoryTokens
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	c := &Core{store: d.Store, log: d.Audit, queue: d.Queue, workspace: d.Workspace, logger: d.Logger, llm: d.LLM,
		web: d.Web, now: d.Now, redactor: d.Redactor, approval: d.Approval, live: d.Live, cfg: cfg,
		convs: make(map[string]*convLock), remote: d.Remote}
	if d.Approval != nil {
		b, err := scriptbroker.New(scriptbroker.Deps{Approval: d.Approval, Web: d.Web, Secret: d.Secret,
			Audit: d.Audit, Logger: d.Logger})
		if err != nil {
			return nil, fmt.Errorf("orchestrator: scripts: %w", err)
		}
		c.scripts = b
	}
	return c, nil
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
// returns it. It waits its turn behind a task already running in the
// conversation, and waits for its own task even if ctx ends, so that the
// answer is stored for the user to read later; the task's deadline bounds
// the wait. A failed task is not an error: its Reply carries a short
// apology. Viewers of the conversation (Deps.Live) are told when the task
// starts and how it ended, with the text stored.
//
// The rules of a message hold here, for every source: its text passes
// CheckText; a Discord conversation takes messages from Discord only
// (ErrReadOnly: the reply would never reach its channel); an untitled
// conversation is titled with the start of its first message.
func (c *Core) HandleMessage(ctx context.Context, m Message) (Reply, error) {
	run, err := c.beginMessage(ctx, m, c.lockConversation)
	if err != nil {
		return Reply{}, err
	}
	return run(context.WithoutCancel(ctx))
}

// StartMessage is HandleMessage for a caller that answers before the reply
// is ready (the web chat, which follows the reply through Deps.Live). It
// does at once what can be refused: it checks m, claims the conversation
// (ErrBusy if a task is running there: it does not wait its turn), stores
// the message and creates the task. The caller must call run exactly once;
// run submits the task, waits for it and frees the conversation. When
// run's ctx ends first (the server shuts down), the task is cancelled and
// stored as failed.
func (c *Core) StartMessage(ctx context.Context, m Message) (run func(context.Context) (Reply, error), err error) {
	return c.beginMessage(ctx, m, c.tryLockConversation)
}

// beginMessage checks m, claims its conversation with lock, stores it and
// returns the function that runs its task.
func (c *Core) beginMessage(ctx context.Context, m Message,
	lock func(context.Context, string) (func(), error)) (func(context.Context) (Reply, error), error) {
	if err := CheckText(m.Text); err != nil {
		return nil, err
	}
	if m.Author == "" {
		m.Author = "unknown"
	}
	conv, err := c.store.GetConversation(ctx, m.ConversationID)
	if err != nil {
		return nil, err
	}
	if ReadOnly(conv, m.Source) {
		if conv.Source == store.SourceJob {
			return nil, errJobReadOnly{}
		}
		return nil, ErrReadOnly
	}
	if m.Audience, err = audienceOf(conv, m); err != nil {
		return nil, err
	}
	unlock, err := lock(ctx, conv.ID)
	if err != nil {
		return nil, err
	}
	if conv.Title == "" {
		if err := c.store.TitleIfEmpty(ctx, conv.ID, titleOf(m.Text)); err != nil {
			c.logger.Warn("titling a conversation failed", "conversation_id", conv.ID, "err", err)
		}
	}
	task, err := c.startTask(ctx, conv, m)
	if err != nil {
		unlock()
		return nil, err
	}
	return func(ctx context.Context) (Reply, error) {
		defer unlock()
		return c.runTask(ctx, m, task)
	}, nil
}

// runTask submits a started task, waits for it and stores its outcome. If
// ctx ends first, the task is cancelled.
func (c *Core) runTask(ctx context.Context, m Message, task tools.Task) (Reply, error) {
	c.publish(live.Event{Type: live.TypeTask, ConversationID: task.ConversationID, TaskID: task.ID})
	deadline := c.now().Add(time.Duration(task.BudgetMS) * time.Millisecond)
	ticket := c.queue.Submit(task, deadline)
	stop := context.AfterFunc(ctx, func() { c.queue.Cancel(task.ID, "cancelled: the orchestrator is shutting down") })
	res := c.await(ticket, deadline)
	stop()
	return c.finishTask(context.WithoutCancel(ctx), m, task.ID, res)
}

// ReadOnly reports whether conversation conv refuses a message from source:
// a Discord conversation is answered in its channel, so the web and the
// API show its transcript but do not post into it.
func ReadOnly(conv store.Conversation, source string) bool {
	// A scheduled job's conversation holds its runs only (issue 14).
	if conv.Source == store.SourceJob {
		return true
	}
	return conv.Source == store.SourceDiscord && source != store.SourceDiscord
}

// titleOf makes a conversation title of the start of its first message:
// one line, at most 60 characters.
func titleOf(text string) string {
	t := strings.Join(strings.Fields(text), " ")
	if r := []rune(t); len(r) > 60 {
		t = strings.TrimSpace(string(r[:59])) + "…"
	}
	return t
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
// the answer to the one before: it waits until no task runs in id. The
// messages waiting in one conversation take their turns in the order they
// came (first come, first served), and Waiting counts them.
func (c *Core) lockConversation(ctx context.Context, id string) (func(), error) {
	c.mu.Lock()
	l, busy := c.convs[id]
	if !busy {
		c.convs[id] = &convLock{}
		c.mu.Unlock()
		return c.unlocker(id), nil
	}
	turn := make(chan struct{})
	l.waiters = append(l.waiters, turn)
	c.waiting++
	c.mu.Unlock()
	select {
	case <-turn:
		return c.unlocker(id), nil
	case <-ctx.Done():
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if i := slices.Index(l.waiters, turn); i >= 0 {
		l.waiters = slices.Delete(l.waiters, i, i+1)
		c.waiting--
		return nil, ctx.Err()
	}
	// The turn came as ctx ended: pass it on.
	c.handOnLocked(id)
	return nil, ctx.Err()
}

// tryLockConversation is lockConversation without the wait: ErrBusy while
// a task runs in id.
func (c *Core) tryLockConversation(_ context.Context, id string) (func(), error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, busy := c.convs[id]; busy {
		return nil, ErrBusy
	}
	c.convs[id] = &convLock{}
	return c.unlocker(id), nil
}

// convLock is a conversation with a task running: the messages waiting
// their turn behind it, oldest first.
type convLock struct{ waiters []chan struct{} }

// unlocker returns the function that ends the turn in id, once.
func (c *Core) unlocker(id string) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.handOnLocked(id)
		})
	}
}

// handOnLocked gives id's turn to its oldest waiting message, or frees id.
// Callers hold c.mu.
func (c *Core) handOnLocked(id string) {
	l := c.convs[id]
	if len(l.waiters) == 0 {
		delete(c.convs, id)
		return
	}
	next := l.waiters[0]
	l.waiters = slices.Delete(l.waiters, 0, 1)
	c.waiting--
	close(next)
}

// Waiting returns how many messages wait behind a task already running in
// their conversation (they are not queued for the worker yet), and how
// many conversations have a task running or submitted.
func (c *Core) Waiting() (messages, conversations int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.waiting, len(c.convs)
}

// await waits for the task, failing it if even the reaper missed its deadline.
func (c *Core) await(t worker.Ticket, deadline time.Time) worker.Result {
	grace := time.NewTimer(time.Until(deadline) + 5*time.Second)
	defer grace.Stop()
	select {
	case r := <-t.Done:
		return r
	case <-grace.C:
		c.queue.Cancel(t.ID, "task ran past its deadline")
		return <-t.Done
	}
}

func (c *Core) startTask(ctx context.Context, conv store.Conversation, m Message) (tools.Task, error) {
	// memory_search finds this conversation only for its audience's
	// readers: the first message sets it, with the task.
	st, _, err := c.store.StartTask(ctx, conv.ID, m.Audience, m.Text)
	if err != nil {
		return tools.Task{}, err
	}
	system, history, err := c.taskContext(ctx, conv.ID, m.Audience)
	if err != nil {
		_ = c.store.SetTaskStatus(ctx, st.ID, store.TaskFailed, "building the context failed")
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
		c.logger.Warn("task failed", "task_id", taskID, "conversation_id", convID, "reason", r.Reason)
	} else if strings.TrimSpace(reply.Text) == "" {
		reply.Text = "(no answer)"
	}
	reply.Text = c.redact(reply.Text)
	answer := store.Message{ConversationID: convID, Role: tools.RoleAssistant, Content: reply.Text, IsError: r.Failed}
	// The task's end and its audit entry are one commit.
	if err := c.finishAudited(ctx, taskID, status, r.Reason, answer, audit.Event{Actor: author, Action: "task." + status,
		Target: convID, Outcome: outcome, Details: map[string]any{"task_id": taskID, "source": source, "reason": r.Reason}}); err != nil {
		c.publish(live.Event{Type: live.TypeFailed, ConversationID: convID, TaskID: taskID, Text: failNotice(taskID)})
		return Reply{}, err
	}
	ev := live.Event{Type: live.TypeDone, ConversationID: convID, TaskID: taskID, Text: reply.Text}
	if r.Failed {
		ev.Type = live.TypeFailed
	}
	c.publish(ev)
	return reply, nil
}

// finishAudited ends a task with its answer and appends ev to the audit log
// in the same commit. An entry the log cannot take (a broken chain) is
// logged, as c.audit does, and the task still ends.
func (c *Core) finishAudited(ctx context.Context, taskID, status, reason string, answer store.Message, ev audit.Event) error {
	build, err := c.log.Entry(ev)
	if err != nil {
		c.logger.Error("audit append failed", "action", ev.Action, "err", err)
	}
	_, err = c.store.FinishTask(ctx, taskID, status, reason, answer, build)
	if errors.Is(err, store.ErrAuditAppend) {
		c.logger.Error("audit append failed", "action", ev.Action, "err", err)
		_, err = c.store.FinishTask(ctx, taskID, status, reason, answer, nil)
	}
	return err
}

// failNotice is what the user reads when a task failed and nobody chose a
// better notice.
func failNotice(taskID string) string {
	return fmt.Sprintf("Sorry, I couldn't finish that. Please try again. (reference %s)", taskID)
}

// redact scrubs secret values, and credentials of a known shape, from s.
func (c *Core) redact(s string) string { return c.redactor.Load().String(s) }

// audit appends an event; a failure to audit is logged loudly.
func (c *Core) audit(ctx context.Context, e audit.Event) {
	if _, err := c.log.Append(ctx, e); err != nil {
		c.logger.Error("audit append failed", "action", e.Action, "err", err)
	}
}
