package orchestrator

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/approval"
	"github.com/airlockhq/airlock/orchestrator/jobs"
	"github.com/airlockhq/airlock/orchestrator/live"
	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/orchestrator/worker"
)

// RunJob runs one run of a scheduled job (jobs.Runner): a prompt as an
// agent task in the job's own conversation with fresh context (no
// history), or an approved script in the worker's sandbox with no model
// call, its result phrased by the model only if the job says so and the
// script returned something.
func (c *Core) RunJob(ctx context.Context, r jobs.RunRequest) (jobs.RunResult, error) {
	switch r.Kind {
	case store.JobPrompt:
		return c.runJobPrompt(ctx, r, r.Prompt)
	case store.JobScript:
		return c.runJobScript(ctx, r)
	}
	return jobs.RunResult{}, fmt.Errorf("orchestrator: job %s: unknown kind %q", r.Name, r.Kind)
}

// runJobPrompt runs text as a task in the job's conversation, claiming it
// (ErrBusy while another run or task is in it).
func (c *Core) runJobPrompt(ctx context.Context, r jobs.RunRequest, text string) (jobs.RunResult, error) {
	if len(text) > MaxMessageBytes {
		text = text[:MaxMessageBytes]
	}
	conv, err := c.store.GetConversation(ctx, r.ConversationID)
	if err != nil {
		return jobs.RunResult{}, err
	}
	unlock, err := c.tryLockConversation(ctx, conv.ID)
	if err != nil {
		return jobs.RunResult{}, err
	}
	defer unlock()
	st, _, err := c.store.StartTask(ctx, conv.ID, "", text)
	if err != nil {
		return jobs.RunResult{}, err
	}
	system, err := c.systemPrompt(ctx, store.AudienceAdmin)
	if err != nil {
		_ = c.store.SetTaskStatus(ctx, st.ID, store.TaskFailed, "building the context failed")
		return jobs.RunResult{}, err
	}
	_, timeout := c.limits()
	task := tools.Task{ID: st.ID, ConversationID: conv.ID, System: system,
		Messages:  []tools.Message{{Role: tools.RoleUser, Content: text}},
		MaxRounds: max(r.MaxCalls, 1), BudgetMS: timeout.Milliseconds(), Audience: store.AudienceAdmin,
		Job: r.Name, MaxTokens: r.MaxTokens}
	c.publish(live.Event{Type: live.TypeTask, ConversationID: conv.ID, TaskID: task.ID})
	deadline := c.now().Add(timeout)
	ticket := c.queue.Submit(task, deadline)
	stop := context.AfterFunc(ctx, func() { c.queue.Cancel(task.ID, "cancelled: the orchestrator is shutting down") })
	res := c.await(ticket, deadline)
	stop()
	if res.Failed && !res.Capped && res.LLMCalls >= task.MaxRounds {
		// The worker stopped at the round cap itself, before asking for
		// one call too many: the run used all its model calls.
		res.Capped, res.Notice = true, fmt.Sprintf("Job %s stopped at its cap of %d model calls per run.", r.Name, task.MaxRounds)
	}
	m := Message{ConversationID: conv.ID, Source: store.SourceJob, Author: "job:" + r.Name}
	reply, err := c.finishTask(context.WithoutCancel(ctx), m, task.ID, res)
	out := jobs.RunResult{Text: reply.Text, Failed: res.Failed && !res.Capped, Capped: res.Capped,
		Reason: res.Reason, InConversation: err == nil, Tokens: res.Tokens, Calls: res.LLMCalls, TaskID: task.ID}
	return out, err
}

// runJobScript runs the approved version of the job's script, as an
// admin's test run of it does, and reads its result.
func (c *Core) runJobScript(ctx context.Context, r jobs.RunRequest) (jobs.RunResult, error) {
	if c.scripts == nil {
		return jobs.RunResult{}, errScriptsOff
	}
	v, err := c.approval.Approved(ctx, r.Script)
	if errors.Is(err, approval.ErrNotApproved) || errors.Is(err, approval.ErrNotFound) {
		return jobs.RunResult{}, jobs.ErrScriptNotApproved
	}
	if err != nil {
		return jobs.RunResult{}, err
	}
	if !c.queue.Status(worker.DefaultGrace).Connected {
		return jobs.RunResult{}, ErrWorkerOffline
	}
	timeout := time.Duration(v.Grants.TimeoutMS)*time.Millisecond + 15*time.Second
	task := tools.Task{ID: "t_job_" + strings.ToLower(rand.Text()), BudgetMS: timeout.Milliseconds(), Job: r.Name,
		ScriptTest: &tools.ScriptTest{Name: v.Name, SHA256: v.SHA256}}
	deadline := c.now().Add(timeout)
	ticket := c.queue.Submit(task, deadline)
	stop := context.AfterFunc(ctx, func() { c.queue.Cancel(task.ID, "cancelled: the orchestrator is shutting down") })
	res := c.await(ticket, deadline)
	stop()
	if res.Failed {
		return jobs.RunResult{Failed: true, Reason: c.redact(strings.TrimPrefix(res.Reason, "worker: ")),
			Text: fmt.Sprintf("Job %s: the script %s failed.", r.Name, r.Script)}, nil
	}
	value, empty := scriptValue(res.Text)
	if empty {
		return jobs.RunResult{Empty: true}, nil
	}
	if !r.Phrase {
		return jobs.RunResult{Text: c.redact(value)}, nil
	}
	prompt := fmt.Sprintf("The scheduled job %q ran the script %q. Tell the user what its result says, briefly.\n%s",
		r.Name, r.Script, untrusted("script "+r.Script+" result", c.redact(value)))
	return c.runJobPrompt(ctx, r, prompt)
}

// scriptValue reads the result the worker reports for a script run (the
// untrusted block holding {"result": ..., "output": ...}) and reports
// whether it is empty: None, "", [] or {}. Print output alone is not a
// result. Text it cannot read is returned whole, as not empty.
func scriptValue(text string) (string, bool) {
	body := text
	if i := strings.Index(text, ">>>\n"); i >= 0 && strings.HasPrefix(text, "<<<UNTRUSTED DATA") {
		body = text[i+4:]
		if j := strings.LastIndex(body, "\n<<<END UNTRUSTED DATA"); j >= 0 {
			body = body[:j]
		}
	}
	var out struct {
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		return text, strings.TrimSpace(text) == ""
	}
	switch strings.TrimSpace(string(out.Result)) {
	case "", "null", `""`, "[]", "{}":
		return "", true
	}
	var s string
	if json.Unmarshal(out.Result, &s) == nil {
		return s, strings.TrimSpace(s) == ""
	}
	return string(out.Result), false
}

// PostToConversation stores text as the answer of a finished task in a
// job's conversation (jobs.Runner), for viewers of Chat.
func (c *Core) PostToConversation(ctx context.Context, conversationID, author, text string) error {
	st, _, err := c.store.StartTask(ctx, conversationID, "", "("+author+")")
	if err != nil {
		return err
	}
	text = c.redact(text)
	if _, err := c.store.FinishTask(ctx, st.ID, store.TaskDone, "", store.Message{ConversationID: conversationID,
		Role: tools.RoleAssistant, Content: text}, nil); err != nil {
		return err
	}
	c.publish(live.Event{Type: live.TypeDone, ConversationID: conversationID, TaskID: st.ID, Text: text})
	return nil
}

// errJobReadOnly refuses a message to a job's conversation; it matches
// ErrReadOnly.
type errJobReadOnly struct{}

func (errJobReadOnly) Error() string {
	return "this conversation holds a scheduled job's runs; it is read-only (edit the job on the Jobs page)"
}

func (errJobReadOnly) Is(target error) bool { return target == ErrReadOnly }
