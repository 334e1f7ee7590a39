package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/sandbox"
	"github.com/airlockhq/airlock/secure/redact"
)

// Sandbox runs scripts; *sandbox.Runner is the real one.
type Sandbox interface {
	Run(ctx context.Context, req sandbox.Request, http sandbox.HTTPFunc) (sandbox.Result, error)
}

// runScript executes script_run: it fetches the currently approved version
// from the orchestrator (never a cached copy, so a revoke or a new approval
// takes effect on the next run), runs exactly that source in the sandbox,
// and sends the script's HTTP requests back through the orchestrator.
func (a *Agent) runScript(ctx context.Context, taskID string, raw json.RawMessage) (string, bool) {
	if a.sandbox == nil {
		return "scripts are not available in this worker", true
	}
	var args tools.ScriptRunArgs
	if err := decodeStrict(raw, &args); err != nil {
		return "invalid arguments for script_run: " + err.Error(), true
	}
	return a.execScript(ctx, taskID, args, "")
}

// execScript runs a script version: the approved one, or for an admin's
// test run the version under test.
func (a *Agent) execScript(ctx context.Context, taskID string, args tools.ScriptRunArgs, sha string) (string, bool) {
	var src tools.ScriptSource
	err := a.conn.Call(ctx, tools.RuntimeScriptSource, tools.ScriptSourceArgs{TaskID: taskID, Name: args.Name, SHA256: sha}, &src)
	if err != nil {
		return toolErrorText(err, "the script could not be fetched"), true
	}
	req := sandbox.Request{Name: src.Name, Source: src.Source, Function: args.Function, Args: args.Args,
		Kwargs: args.Kwargs, Secrets: src.Grants.Secrets, Placeholder: src.Placeholder,
		Limits: sandbox.Limits{Timeout: time.Duration(src.Grants.TimeoutMS) * time.Millisecond}}
	http := func(ctx context.Context, r sandbox.HTTPRequest) (sandbox.HTTPResponse, error) {
		var res tools.ScriptHTTPResult
		err := a.conn.Call(ctx, tools.RuntimeScriptHTTP, tools.ScriptHTTPArgs{TaskID: taskID, RunID: src.RunID,
			Method: r.Method, URL: r.URL, Headers: r.Headers, Body: r.Body}, &res)
		if err != nil {
			return sandbox.HTTPResponse{}, errors.New(toolErrorText(err, "the request failed"))
		}
		return sandbox.HTTPResponse{Status: res.Status, Headers: res.Headers, Body: res.Body}, nil
	}
	// The worker knows no secret value (a script never holds one), so this
	// catches well-known credential shapes; the orchestrator redacts every
	// known value again before anything reaches the model.
	var shapes *redact.Redactor
	res, err := a.sandbox.Run(ctx, req, http)
	if err != nil {
		var se *sandbox.Error
		if errors.As(err, &se) {
			// The message can carry what the web returned (fail(r.body),
			// a bad literal quoted by int()), so it is data too.
			return fmt.Sprintf("script %s (sha256 %.12s) failed (%s); its error message follows.\n%s", src.Name, src.SHA256,
				se.Kind, untrusted("script "+src.Name+" error", shapes.String(se.Message))), true
		}
		a.logger.Warn("script run failed", "script", src.Name, "err", err)
		return "the script could not be run", true
	}
	out, _ := json.Marshal(struct {
		Result json.RawMessage `json:"result"`
		Output string          `json:"output,omitempty"`
	}{res.Value, res.Output})
	return untrusted("script "+src.Name+" output", shapes.String(string(out))), false
}

// toolErrorText shows the orchestrator's own error text (already meant for
// the model), or a generic message for anything else.
func toolErrorText(err error, generic string) string {
	var te interface{ ToolText() string }
	if errors.As(err, &te) {
		return te.ToolText()
	}
	return generic
}

func decodeStrict(raw json.RawMessage, v any) error {
	if len(raw) == 0 {
		raw = json.RawMessage("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// untrusted wraps script output and error messages, which carry what the
// web returned, as data for the model.
func untrusted(source, content string) string { return tools.WrapUntrusted(source, content) }
