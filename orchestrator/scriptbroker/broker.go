// Package scriptbroker is the orchestrator's side of running approved
// scripts, the most sensitive path of the system: it hands the worker the
// approved source of a script and opens a run bound to the worker's task
// (Source), and it makes that run's HTTP requests with the secret values
// the script was granted substituted in (HTTP).
//
// Invariant: a secret value leaves the system side only in a request of a
// run of a version that is approved at the moment of the request, to a
// host granted to that version, and only when the secret is granted to it;
// every hop of a redirect is held to the same grant (redirectAllowed). The
// worker only ever sees a run's placeholders (a random prefix per run),
// never a value; the response goes back through the caller's redactor.
//
// Every other check follows from that: a run belongs to one task and is
// refused to any other, it makes at most maxHTTPCalls requests, methods,
// headers and body size are limited, and the request goes out through the
// egress guard. Each request and each refusal is audited.
package scriptbroker

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/approval"
	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/secure/egress"
)

// maxHTTPCalls caps the HTTP calls of one run on the orchestrator's side,
// whatever the worker's sandbox counts.
const maxHTTPCalls = 20

// PublicError is an error whose text may be shown to the model.
type PublicError struct{ Msg string }

func (e PublicError) Error() string { return e.Msg }

func publicf(format string, args ...any) error { return PublicError{fmt.Sprintf(format, args...)} }

// Deps are what a Broker needs; every one is required.
type Deps struct {
	Approval *approval.Service
	// Web sends the scripts' requests, through the egress guard.
	Web *egress.Client
	// Secret returns a secret's value, for substitution into the requests
	// of approved scripts that were granted it.
	Secret func(ctx context.Context, name string) (string, error)
	Audit  *audit.Log
	Logger *slog.Logger
}

// Broker runs the orchestrator's side of approved scripts.
type Broker struct {
	approval *approval.Service
	web      *egress.Client
	secret   func(ctx context.Context, name string) (string, error)
	log      *audit.Log
	logger   *slog.Logger
	runs     runs
}

// New returns a Broker, or an error naming the first missing dependency.
func New(d Deps) (*Broker, error) {
	switch {
	case d.Approval == nil:
		return nil, errors.New("scriptbroker: no approval service")
	case d.Web == nil:
		return nil, errors.New("scriptbroker: no egress client")
	case d.Secret == nil:
		return nil, errors.New("scriptbroker: no secret source")
	case d.Audit == nil:
		return nil, errors.New("scriptbroker: no audit log")
	case d.Logger == nil:
		return nil, errors.New("scriptbroker: no logger")
	}
	return &Broker{approval: d.Approval, web: d.Web, secret: d.Secret, log: d.Audit, logger: d.Logger}, nil
}

// run is one run of an approved script version, opened by Source and
// bound to its task.
type run struct {
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
	m  map[string]*run
}

func (r *runs) open(rn *run) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = make(map[string]*run)
	}
	// Runs live as long as a task at most.
	for id, old := range r.m {
		if time.Since(old.started) > time.Hour {
			delete(r.m, id)
		}
	}
	r.m[rn.id] = rn
}

// call counts one HTTP call of a run and returns a copy of the run.
func (r *runs) call(id, taskID string) (run, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rn, ok := r.m[id]
	if !ok || rn.taskID != taskID {
		return run{}, publicf("unknown script run")
	}
	rn.calls++
	if rn.calls > maxHTTPCalls {
		return run{}, publicf("the script made more than %d HTTP calls", maxHTTPCalls)
	}
	return *rn, nil
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

// Source hands the worker the currently approved version of a script,
// fresh from the database, and opens a run for it. With a sha256 it hands
// out that version, to an admin's test run of it only.
func (b *Broker) Source(ctx context.Context, task tools.Task, args tools.ScriptSourceArgs) (tools.ScriptSource, error) {
	if args.SHA256 != "" {
		return b.testSource(ctx, task, args)
	}
	v, err := b.approval.Approved(ctx, args.Name)
	if errors.Is(err, approval.ErrNotApproved) || errors.Is(err, approval.ErrNotFound) {
		b.audit(ctx, audit.Event{Actor: "worker", Action: "script.run", Target: args.Name, Outcome: "denied",
			Details: map[string]any{"task_id": task.ID, "reason": "no approved version"}})
		return tools.ScriptSource{}, publicf("script %q has no approved version; it cannot run until an admin approves it", args.Name)
	}
	if err != nil {
		return tools.ScriptSource{}, err
	}
	src := b.openRun(task, v)
	b.audit(ctx, audit.Event{Actor: "worker", Action: "script.run", Target: v.Name, Outcome: "ok",
		Details: map[string]any{"task_id": task.ID, "sha256": v.SHA256, "run_id": src.RunID}})
	return src, nil
}

// testSource hands out the version under test to an admin's test-run task,
// and only to it. HTTP stays refused unless that version is approved.
func (b *Broker) testSource(ctx context.Context, task tools.Task, args tools.ScriptSourceArgs) (tools.ScriptSource, error) {
	st := task.ScriptTest
	if st == nil || st.Name != args.Name || st.SHA256 != args.SHA256 {
		return tools.ScriptSource{}, publicf("a specific version can only be run by an admin's test run")
	}
	v, err := b.approval.Version(ctx, args.Name, args.SHA256)
	if err != nil {
		return tools.ScriptSource{}, err
	}
	return b.openRun(task, v), nil
}

// openRun opens a run of version v for task, with its own placeholder
// prefix, and returns what the worker needs to run it.
func (b *Broker) openRun(task tools.Task, v approval.Version) tools.ScriptSource {
	placeholder := "AIRLOCK_SECRET_" + randomToken(12) + "_"
	rn := &run{id: "r_" + strings.ToLower(randomToken(20)), taskID: task.ID, name: v.Name, sha: v.SHA256,
		grants: v.Grants, placeholder: placeholder, started: time.Now(),
		secretRE: regexp.MustCompile(regexp.QuoteMeta(placeholder) + `([A-Z][A-Z0-9_]{0,63})__`)}
	b.runs.open(rn)
	return tools.ScriptSource{Name: v.Name, SHA256: v.SHA256, Source: v.Source, Grants: v.Grants,
		RunID: rn.id, Placeholder: rn.placeholder}
}

// audit appends an event; a failure to audit is logged loudly.
func (b *Broker) audit(ctx context.Context, e audit.Event) {
	if _, err := b.log.Append(ctx, e); err != nil {
		b.logger.Error("audit append failed", "action", e.Action, "err", err)
	}
}
