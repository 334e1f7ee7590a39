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
	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/worker"
)

// errScriptsOff answers every script tool while scripts are off.
var errScriptsOff = publicf("scripts are not enabled")

// scriptSource hands the worker the approved source of a script and opens
// a run of it (scriptbroker.Broker.Source).
func (c *Core) scriptSource(ctx context.Context, task tools.Task, args tools.ScriptSourceArgs) (tools.ScriptSource, error) {
	if c.scripts == nil {
		return tools.ScriptSource{}, errScriptsOff
	}
	return c.scripts.Source(ctx, task, args)
}

// scriptHTTP makes one HTTP request of a running script
// (scriptbroker.Broker.HTTP).
func (c *Core) scriptHTTP(ctx context.Context, task tools.Task, args tools.ScriptHTTPArgs) (tools.ScriptHTTPResult, error) {
	if c.scripts == nil {
		return tools.ScriptHTTPResult{}, errScriptsOff
	}
	return c.scripts.HTTP(ctx, task, args)
}

// script tools for the model.

func (c *Core) scriptList(ctx context.Context, _ tools.Task, raw json.RawMessage) (string, error) {
	if err := strictArgs(raw, &struct{}{}); err != nil {
		return "", err
	}
	if c.scripts == nil {
		return "", errScriptsOff
	}
	list, err := c.approval.List(ctx, true)
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
	if c.scripts == nil {
		return "", errScriptsOff
	}
	st, err := c.approval.Status(ctx, a.Name)
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
	if c.scripts == nil {
		return "", errScriptsOff
	}
	res, err := c.approval.Propose(ctx, a.Name, a.Source, fmt.Sprintf("assistant (conversation %s, task %s)", task.ConversationID, task.ID))
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
	if c.scripts == nil {
		return ScriptTestResult{}, errScriptsOff
	}
	v, err := c.approval.Resolve(ctx, t.Name, t.SHA256)
	if err != nil {
		return ScriptTestResult{}, err
	}
	if !c.queue.Status(worker.DefaultGrace).Connected {
		return ScriptTestResult{}, ErrWorkerOffline
	}
	t.SHA256 = v.SHA256
	timeout := time.Duration(v.Grants.TimeoutMS)*time.Millisecond + 15*time.Second
	task := tools.Task{ID: "t_test_" + strings.ToLower(rand.Text()), ScriptTest: &t, BudgetMS: timeout.Milliseconds()}
	c.audit(ctx, audit.Event{Actor: admin, Action: "script.test", Target: t.Name, Outcome: "ok",
		Details: map[string]any{"sha256": t.SHA256, "task_id": task.ID}})
	deadline := c.now().Add(timeout)
	r := c.await(c.queue.Submit(task, deadline), deadline)
	if r.Failed {
		return ScriptTestResult{Output: c.redact(strings.TrimPrefix(r.Reason, "worker: "))}, nil
	}
	return ScriptTestResult{OK: true, Output: c.redact(r.Text)}, nil
}
