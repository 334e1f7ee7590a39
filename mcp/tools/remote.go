package tools

import (
	"encoding/json"
	"regexp"
	"strings"
)

// RuntimeMCPCall is the one runtime tool through which the worker reaches
// the tools of external MCP servers (SPEC 11). The model never sees it: it
// sees each approved external tool as <server>__<tool>, and the worker's
// dispatcher maps such a name to this tool. The orchestrator holds the
// server's credentials and makes the call.
const RuntimeMCPCall = "runtime_mcp_call"

// RemoteSeparator joins a server's name and its tool's in the name the
// model sees.
const RemoteSeparator = "__"

// MaxRemoteArgBytes caps the arguments of one external tool call.
const MaxRemoteArgBytes = 64 << 10

// remoteName is the shape of an external tool's name as the model sees it:
// a server name (lower case, digits and '-', no '_'), "__", and the tool's
// name made to fit ^[a-zA-Z0-9_-]{1,64}$, which both providers accept.
var remoteName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,23}__[a-zA-Z0-9_-]+$`)

// IsRemoteTool reports whether name has the shape of an external MCP
// server's tool (<server>__<tool>, at most 64 characters). Whether such a
// tool exists and is approved only the orchestrator knows.
func IsRemoteTool(name string) bool {
	return len(name) <= 64 && remoteName.MatchString(name) && !IsModelTool(name)
}

// RemoteName returns the name the model sees for a server's tool, or ""
// when it cannot fit the providers' limits (64 characters of
// [a-zA-Z0-9_-]). Other characters of the tool's name become '_'.
func RemoteName(server, tool string) string {
	if tool == "" {
		return ""
	}
	var b strings.Builder
	b.WriteString(server)
	b.WriteString(RemoteSeparator)
	for _, r := range tool {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	if n := b.String(); IsRemoteTool(n) {
		return n
	}
	return ""
}

// MCPCallArgs are the arguments of runtime_mcp_call.
type MCPCallArgs struct {
	TaskID string `json:"task_id"`
	// Tool is the name the model used: <server>__<tool>.
	Tool string `json:"tool"`
	// Arguments is the JSON object the model gave.
	Arguments json.RawMessage `json:"arguments,omitempty"`
}

// MCPCallResult is the result of runtime_mcp_call: the text for the model
// (already redacted and wrapped as untrusted data), or an error it may read.
type MCPCallResult struct {
	Text    string `json:"text"`
	IsError bool   `json:"is_error,omitempty"`
}
