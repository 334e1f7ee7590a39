package server_test

import (
	"context"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	mcpserver "github.com/mark3labs/mcp-go/server"

	"github.com/airlockhq/airlock/mcp/server"
)

// postMCP posts body to /mcp over the socket with the given headers and
// returns the status, the Content-Type and the body.
func postMCP(t *testing.T, path, body string, header map[string]string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://localhost/mcp", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json, text/event-stream")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := unixHTTPClient(path).Do(req)
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	text := readAll(t, resp)
	return resp.StatusCode, resp.Header.Get("Content-Type"), text
}

// TestFastToolCallMatchesStreamable checks that a tools/call answered by the
// fast path is byte for byte what mcp-go's streamable server answers to the
// same call (reached here with a Content-Type parameter, which the fast path
// leaves to mcp-go), for a result, a tool error, a handler failure, an
// unknown tool and malformed arguments; and that each call ran its tool
// exactly once.
func TestFastToolCallMatchesStreamable(t *testing.T) {
	var runs atomic.Int64
	counted := mcpserver.ServerTool{Tool: mcp.NewTool("count", mcp.WithString("text")),
		Handler: func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			runs.Add(1)
			return echoTool(ctx, req)
		}}
	path := startServer(t, server.Config{WorkerUID: os.Getuid()}, "", 0o660, append(testTools(), counted)...)
	version := mcp.LATEST_LEGACY_PROTOCOL_VERSION
	bodies := map[string]string{
		"result":     `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi \u00e9"}}}`,
		"string id":  `{"jsonrpc":"2.0","id":"a-1","method":"tools/call","params":{"name":"echo","arguments":{}}}`,
		"tool error": `{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"fail"}}`,
		"panic":      `{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"boom"}}`,
		"go error":   `{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"goerr"}}`,
		"unknown":    `{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"nope"}}`,
		"bad params": `{"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"name":["echo"]}}`,
		"counted":    `{"jsonrpc":"2.0","id":13,"method":"tools/call","params":{"name":"count","arguments":{"text":"x"}}}`,
		"meta":       `{"jsonrpc":"2.0","id":14,"method":"tools/call","params":{"name":"echo","_meta":{"progressToken":1},"arguments":{"text":"_meta"}}}`,
	}
	for name, body := range bodies {
		fastStatus, fastType, fast := postMCP(t, path, body,
			map[string]string{"Content-Type": "application/json", "Mcp-Protocol-Version": version})
		slowStatus, slowType, slow := postMCP(t, path, body,
			map[string]string{"Content-Type": "application/json; charset=utf-8", "Mcp-Protocol-Version": version})
		if fastStatus != slowStatus || fastType != slowType || fast != slow {
			t.Errorf("%s: fast path answered %d %q %q, mcp-go %d %q %q",
				name, fastStatus, fastType, fast, slowStatus, slowType, slow)
		}
		if fastStatus != http.StatusOK || !strings.Contains(fast, `"jsonrpc":"2.0"`) {
			t.Errorf("%s: answer %d %q, want a JSON-RPC response", name, fastStatus, fast)
		}
	}
	if got := runs.Load(); got != 2 {
		t.Errorf("the counted tool ran %d times for two calls, want 2", got)
	}
	if strings.Contains(bodies["panic"], "secret") {
		t.Fatal("test body must not carry the secret")
	}
	_, _, panicked := postMCP(t, path, bodies["panic"],
		map[string]string{"Content-Type": "application/json", "Mcp-Protocol-Version": version})
	if strings.Contains(panicked, "secret") || !strings.Contains(panicked, "internal error") {
		t.Errorf("panicking tool through the fast path answered %q", panicked)
	}
}

// TestFastPathLeavesOtherRequestsToMCPGo checks requests the fast path must
// not answer: they get mcp-go's own answers (an unsupported protocol
// version is refused, a notification is accepted without a body, a
// response without a method is accepted, a request without an id is a
// notification).
func TestFastPathLeavesOtherRequestsToMCPGo(t *testing.T) {
	var runs atomic.Int64
	counted := mcpserver.ServerTool{Tool: mcp.NewTool("count"),
		Handler: func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			runs.Add(1)
			return mcp.NewToolResultText("{}"), nil
		}}
	path := startServer(t, server.Config{WorkerUID: os.Getuid()}, "", 0o660, counted)
	json := map[string]string{"Content-Type": "application/json", "Mcp-Protocol-Version": mcp.LATEST_LEGACY_PROTOCOL_VERSION}

	status, _, body := postMCP(t, path,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"count"}}`,
		map[string]string{"Content-Type": "application/json", "Mcp-Protocol-Version": "1999-01-01"})
	if status != http.StatusBadRequest || !strings.Contains(body, "Unsupported protocol version") {
		t.Errorf("unsupported version: %d %q, want mcp-go's 400", status, body)
	}
	status, _, body = postMCP(t, path, `{"jsonrpc":"2.0","method":"tools/call","params":{"name":"count"}}`, json)
	if status != http.StatusAccepted || body != "" {
		t.Errorf("tools/call without id: %d %q, want 202 and no body", status, body)
	}
	status, _, body = postMCP(t, path, `{"jsonrpc":"2.0","id":null,"method":"tools/call","params":{"name":"count"}}`, json)
	if status == http.StatusOK && strings.Contains(body, `"result"`) {
		t.Errorf("tools/call with a null id was run: %d %q", status, body)
	}
	status, _, _ = postMCP(t, path, `{"jsonrpc":"2.0","id":3,"result":{}}`, json)
	if status != http.StatusAccepted {
		t.Errorf("a client response: %d, want 202", status)
	}
	status, _, body = postMCP(t, path, `{"jsonrpc":"2.0","id":4,"method":"tools/list"}`, json)
	if status != http.StatusOK || !strings.Contains(body, `"count"`) {
		t.Errorf("tools/list: %d %q", status, body)
	}
	if got := runs.Load(); got != 0 {
		t.Errorf("the tool ran %d times, want 0", got)
	}
}
