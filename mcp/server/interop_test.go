package server_test

import (
	"encoding/json"
	"os"
	"slices"
	"testing"

	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/airlockhq/airlock/mcp/server"
)

// TestInteropGoSDK connects with the official MCP Go SDK client over the
// socket, lists tools and calls one, both with the SDK's preferred protocol
// version and with the last session-based one.
func TestInteropGoSDK(t *testing.T) {
	path := startServer(t, server.Config{WorkerUID: os.Getuid()}, "", 0o660, testTools()...)
	tests := []struct {
		name    string
		version string
	}{
		{"sdk default", ""},
		{"2025-11-25", "2025-11-25"},
		{"2025-06-18", "2025-06-18"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testCtx(t)
			c := sdk.NewClient(&sdk.Implementation{Name: "interop", Version: "1"}, nil)
			tr := &sdk.StreamableClientTransport{Endpoint: "http://localhost/mcp", HTTPClient: unixHTTPClient(path)}
			session, err := c.Connect(ctx, tr, &sdk.ClientSessionOptions{ProtocolVersion: tt.version})
			if err != nil {
				t.Fatalf("Connect: %v", err)
			}
			defer session.Close()
			negotiated := session.InitializeResult().ProtocolVersion
			if tt.version != "" && negotiated != tt.version {
				t.Fatalf("negotiated protocol %q, want %q", negotiated, tt.version)
			}
			t.Logf("negotiated protocol %s", negotiated)

			list, err := session.ListTools(ctx, nil)
			if err != nil {
				t.Fatalf("ListTools: %v", err)
			}
			if !slices.ContainsFunc(list.Tools, func(tool *sdk.Tool) bool { return tool.Name == "echo" }) {
				t.Fatalf("echo not among %d tools", len(list.Tools))
			}

			res, err := session.CallTool(ctx, &sdk.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "interop"}})
			if err != nil {
				t.Fatalf("CallTool: %v", err)
			}
			if res.IsError || len(res.Content) != 1 {
				t.Fatalf("CallTool result: %+v", res)
			}
			text, ok := res.Content[0].(*sdk.TextContent)
			if !ok {
				t.Fatalf("content is %T, want text", res.Content[0])
			}
			var got map[string]string
			if err := json.Unmarshal([]byte(text.Text), &got); err != nil || got["text"] != "interop" {
				t.Fatalf("echo returned %q (%v)", text.Text, err)
			}

			res, err = session.CallTool(ctx, &sdk.CallToolParams{Name: "whoami"})
			if err != nil || res.IsError {
				t.Fatalf("CallTool whoami: %v %+v", err, res)
			}
			var who whoamiResult
			if err := json.Unmarshal([]byte(res.Content[0].(*sdk.TextContent).Text), &who); err != nil || who.PID != os.Getpid() {
				t.Fatalf("whoami = %+v (%v), want our pid", who, err)
			}
		})
	}
}

// TestMCPGoDefaultProtocol checks a plain mcp-go client, which prefers the
// stateless 2026-07-28 protocol (our client pins the previous one), against
// the stateless server.
func TestMCPGoDefaultProtocol(t *testing.T) {
	path := startServer(t, server.Config{WorkerUID: os.Getuid()}, "", 0o660, testTools()...)
	ctx := testCtx(t)
	c, err := mcpclient.NewStreamableHttpClient("http://localhost/mcp",
		transport.WithHTTPBasicClient(unixHTTPClient(path)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	initRes, err := c.Initialize(ctx, mcp.InitializeRequest{})
	if err != nil {
		t.Fatalf("Initialize: %v", err)
	}
	t.Logf("negotiated protocol %s", initRes.ProtocolVersion)
	if _, err := c.ListTools(ctx, mcp.ListToolsRequest{}); err != nil {
		t.Fatalf("ListTools: %v", err)
	}
	req := mcp.CallToolRequest{}
	req.Params.Name = "whoami"
	res, err := c.CallTool(ctx, req)
	if err != nil || res.IsError {
		t.Fatalf("CallTool: %v %+v", err, res)
	}
	var who whoamiResult
	if err := json.Unmarshal([]byte(res.Content[0].(mcp.TextContent).Text), &who); err != nil || who.PID != os.Getpid() {
		t.Fatalf("whoami = %+v (%v)", who, err)
	}
}
