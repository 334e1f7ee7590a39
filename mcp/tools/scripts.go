package tools

// Script tool names. script_run is a model tool that the worker executes
// itself, in its sandbox, with the source it fetches fresh through
// runtime_script_source.
const (
	ScriptList    = "script_list"
	ScriptStatus  = "script_status"
	ScriptPropose = "script_propose"
	ScriptRun     = "script_run"

	RuntimeScriptSource = "runtime_script_source"
	RuntimeScriptHTTP   = "runtime_script_http"
)

// Script statuses.
const (
	ScriptPending    = "pending"
	ScriptApproved   = "approved"
	ScriptRejected   = "rejected"
	ScriptSuperseded = "superseded"
	ScriptRevoked    = "revoked"
)

// Grants are what approving a script version allows, parsed from its
// header (# @secrets:, # @hosts:, # @timeout:).
type Grants struct {
	Secrets   []string `json:"secrets"`
	Hosts     []string `json:"hosts"`
	TimeoutMS int64    `json:"timeout_ms"`
}

// Finding is one result of the static scan of a proposed script.
type Finding struct {
	Severity string `json:"severity"` // "info", "warning", "high"
	Line     int    `json:"line"`     // 1-based; 0 for the whole script
	Rule     string `json:"rule"`     // e.g. "undeclared-secret", "exfiltration-endpoint"
	Message  string `json:"message"`
}

// FunctionInfo describes a top-level function of a script.
type FunctionInfo struct {
	Name   string   `json:"name"`
	Params []string `json:"params"`
}

// ScriptInfo describes one script version.
type ScriptInfo struct {
	Name        string         `json:"name"`
	Description string         `json:"description"`
	SHA256      string         `json:"sha256"`
	Status      string         `json:"status"`
	Functions   []FunctionInfo `json:"functions,omitempty"`
	Grants      Grants         `json:"grants"`
}

// ScriptProposeArgs are the arguments of script_propose.
type ScriptProposeArgs struct {
	Name   string `json:"name"`
	Source string `json:"source"`
}

// ScriptProposeResult is the result of script_propose.
type ScriptProposeResult struct {
	Name     string    `json:"name"`
	SHA256   string    `json:"sha256"`
	Status   string    `json:"status"`
	Findings []Finding `json:"findings"`
}

// ScriptNameArgs are the arguments of script_status.
type ScriptNameArgs struct {
	Name string `json:"name"`
}

// ScriptRunArgs are the model-facing arguments of script_run. Function
// empty means: run the top level and return its `result` global, if any.
type ScriptRunArgs struct {
	Name     string         `json:"name"`
	Function string         `json:"function,omitempty"`
	Args     []any          `json:"args,omitempty"`
	Kwargs   map[string]any `json:"kwargs,omitempty"`
}

// ScriptSourceArgs are the arguments of runtime_script_source.
type ScriptSourceArgs struct {
	TaskID string `json:"task_id"`
	Name   string `json:"name"`
	// SHA256 is set only by a test-run task, for the version under test.
	SHA256 string `json:"sha256,omitempty"`
}

// ScriptSource is the result of runtime_script_source: the currently
// approved version, and nothing else. RunID identifies this run in
// runtime_script_http calls; Placeholder is the prefix of the opaque
// strings secret("NAME") returns in this run (Placeholder + NAME + "__").
type ScriptSource struct {
	Name        string `json:"name"`
	SHA256      string `json:"sha256"`
	Source      string `json:"source"`
	Grants      Grants `json:"grants"`
	RunID       string `json:"run_id"`
	Placeholder string `json:"placeholder"`
}

// ScriptHTTPArgs are the arguments of runtime_script_http: one HTTP request
// of a running approved script. URL, header values and body may hold
// secret placeholders; the orchestrator substitutes them for granted
// secrets on granted hosts only.
type ScriptHTTPArgs struct {
	TaskID  string            `json:"task_id"`
	RunID   string            `json:"run_id"`
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"`
}

// ScriptHTTPResult is the result of runtime_script_http, redacted.
type ScriptHTTPResult struct {
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}
