package orchestrator

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/approval"
	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/worker"
)

// maxScriptHTTPCalls caps the HTTP calls of one run on the orchestrator's
// side, whatever the worker's sandbox counts.
const maxScriptHTTPCalls = 20

// scriptRun is one run of an approved script version, opened by
// runtime_script_source and bound to its task.
type scriptRun struct {
	id, taskID, name, sha string
	grants                tools.Grants
	placeholder           string
	secretRE              *regexp.Regexp // placeholder + NAME + "__"
	calls                 int
	started               time.Time
}

// runs holds the open script runs.
type runs struct {
	mu sync.Mutex
	m  map[string]*scriptRun
}

func (r *runs) open(run *scriptRun) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = make(map[string]*scriptRun)
	}
	// Runs live as long as a task at most.
	for id, old := range r.m {
		if time.Since(old.started) > time.Hour {
			delete(r.m, id)
		}
	}
	r.m[run.id] = run
}

// call counts one HTTP call of a run and returns a copy of the run.
func (r *runs) call(id, taskID string) (scriptRun, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	run, ok := r.m[id]
	if !ok || run.taskID != taskID {
		return scriptRun{}, publicf("unknown script run")
	}
	run.calls++
	if run.calls > maxScriptHTTPCalls {
		return scriptRun{}, publicf("the script made more than %d HTTP calls", maxScriptHTTPCalls)
	}
	return *run, nil
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// scriptSource hands the worker the currently approved version of a script,
// fresh from the database, and opens a run for it.
func (c *Core) scriptSource(ctx context.Context, task tools.Task, args tools.ScriptSourceArgs) (tools.ScriptSource, error) {
	if c.Approval == nil {
		return tools.ScriptSource{}, publicf("scripts are not enabled")
	}
	if args.SHA256 != "" {
		return c.testSource(ctx, task, args)
	}
	v, err := c.Approval.Approved(ctx, args.Name)
	if errors.Is(err, approval.ErrNotApproved) || errors.Is(err, approval.ErrNotFound) {
		c.audit(ctx, audit.Event{Actor: "worker", Action: "script.run", Target: args.Name, Outcome: "denied",
			Details: map[string]any{"task_id": task.ID, "reason": "no approved version"}})
		return tools.ScriptSource{}, publicf("script %q has no approved version; it cannot run until an admin approves it", args.Name)
	}
	if err != nil {
		return tools.ScriptSource{}, err
	}
	src := c.openRun(task, v)
	c.audit(ctx, audit.Event{Actor: "worker", Action: "script.run", Target: v.Name, Outcome: "ok",
		Details: map[string]any{"task_id": task.ID, "sha256": v.SHA256, "run_id": src.RunID}})
	return src, nil
}

// openRun opens a run of version v for task, with its own placeholder
// prefix, and returns what the worker needs to run it.
func (c *Core) openRun(task tools.Task, v approval.Version) tools.ScriptSource {
	placeholder := "AIRLOCK_SECRET_" + randomToken(12) + "_"
	run := &scriptRun{id: "r_" + strings.ToLower(randomToken(20)), taskID: task.ID, name: v.Name, sha: v.SHA256,
		grants: v.Grants, placeholder: placeholder, started: time.Now(),
		secretRE: regexp.MustCompile(regexp.QuoteMeta(placeholder) + `([A-Z][A-Z0-9_]{0,63})__`)}
	c.runs.open(run)
	return tools.ScriptSource{Name: v.Name, SHA256: v.SHA256, Source: v.Source, Grants: v.Grants,
		RunID: run.id, Placeholder: run.placeholder}
}

// script tools for the model.

func (c *Core) scriptList(ctx context.Context, _ tools.Task, raw json.RawMessage) (string, error) {
	if err := strictArgs(raw, &struct{}{}); err != nil {
		return "", err
	}
	if c.Approval == nil {
		return "", publicf("scripts are not enabled")
	}
	list, err := c.Approval.List(ctx, true)
	if err != nil {
		return "", err
	}
	if len(list) == 0 {
		return "No approved scripts yet. Propose one with script_propose.", nil
	}
	b, err := json.Marshal(list)
	return untrusted("script_list", string(b)), err // descriptions: see scriptStatus
}

func (c *Core) scriptStatus(ctx context.Context, _ tools.Task, raw json.RawMessage) (string, error) {
	var a tools.ScriptNameArgs
	if err := strictArgs(raw, &a); err != nil {
		return "", err
	}
	if c.Approval == nil {
		return "", publicf("scripts are not enabled")
	}
	st, err := c.Approval.Status(ctx, a.Name)
	if errors.Is(err, approval.ErrNotFound) {
		return "", publicf("no script named %q", a.Name)
	}
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(st)
	// Descriptions and docstrings are model-written, maybe by a prompt-
	// injected task in another conversation: data, not instructions.
	return untrusted("script_status "+a.Name, string(b)), err
}

func (c *Core) scriptPropose(ctx context.Context, task tools.Task, raw json.RawMessage) (string, error) {
	var a tools.ScriptProposeArgs
	if err := strictArgs(raw, &a); err != nil {
		return "", err
	}
	if c.Approval == nil {
		return "", publicf("scripts are not enabled")
	}
	res, err := c.Approval.Propose(ctx, a.Name, a.Source, fmt.Sprintf("assistant (conversation %s, task %s)", task.ConversationID, task.ID))
	var pe *approval.ProposalError
	if errors.As(err, &pe) {
		return "", publicError{pe.Error()}
	}
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(struct {
		tools.ScriptProposeResult
		Note string `json:"note"`
	}{res, "An admin must review and approve this exact version (by its sha256) before it can run."})
	return string(b), err
}

// testSource hands out the version under test to an admin's test-run task,
// and only to it. HTTP stays refused unless that version is approved.
func (c *Core) testSource(ctx context.Context, task tools.Task, args tools.ScriptSourceArgs) (tools.ScriptSource, error) {
	st := task.ScriptTest
	if st == nil || st.Name != args.Name || st.SHA256 != args.SHA256 {
		return tools.ScriptSource{}, publicf("a specific version can only be run by an admin's test run")
	}
	v, err := c.Approval.Version(ctx, args.Name, args.SHA256)
	if err != nil {
		return tools.ScriptSource{}, err
	}
	return c.openRun(task, v), nil
}

// ScriptTestResult is the outcome of an admin's test run.
type ScriptTestResult struct {
	OK     bool   `json:"ok"`
	Output string `json:"output"` // the script's result and print output, or its error
}

// TestScript has the worker run one version of a script with arguments,
// for an admin reviewing it; an empty t.SHA256 means the approved version
// (approval.Resolve). A version that is not approved runs without network
// access: its HTTP calls are refused. With no worker connected it fails at
// once with ErrWorkerOffline.
func (c *Core) TestScript(ctx context.Context, admin string, t tools.ScriptTest) (ScriptTestResult, error) {
	if c.Approval == nil {
		return ScriptTestResult{}, publicf("scripts are not enabled")
	}
	v, err := c.Approval.Resolve(ctx, t.Name, t.SHA256)
	if err != nil {
		return ScriptTestResult{}, err
	}
	if !c.Queue.Status(worker.DefaultGrace).Connected {
		return ScriptTestResult{}, ErrWorkerOffline
	}
	t.SHA256 = v.SHA256
	timeout := time.Duration(v.Grants.TimeoutMS)*time.Millisecond + 15*time.Second
	task := tools.Task{ID: "t_test_" + strings.ToLower(randomToken(20)), ScriptTest: &t, BudgetMS: timeout.Milliseconds()}
	c.audit(ctx, audit.Event{Actor: admin, Action: "script.test", Target: t.Name, Outcome: "ok",
		Details: map[string]any{"sha256": t.SHA256, "task_id": task.ID}})
	deadline := c.Now().Add(timeout)
	r := c.await(c.Queue.Submit(task, deadline), deadline)
	if r.Failed {
		return ScriptTestResult{Output: c.Redact(strings.TrimPrefix(r.Reason, "worker: "))}, nil
	}
	return ScriptTestResult{OK: true, Output: c.Redact(r.Text)}, nil
}
