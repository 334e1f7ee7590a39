package integration

import (
	"context"
	"encoding/json"
	"testing"

	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/airlockhq/airlock/orchestrator/integration/mcptest"
)

// BenchmarkRemoteCall compares one echo call to a loopback MCP server made
// directly with mcp-go's client (what an AI process holding the token
// would do) with the same call through the Service: the approved-tool
// lookup, the daily-cap count (a SQLite write), the credential transport,
// the caps, redaction and the audit event. The worker's hop over the Unix
// socket to the orchestrator is measured by mcp/server's
// BenchmarkToolRoundTrip.
func BenchmarkRemoteCall(b *testing.B) {
	ctx := context.Background()
	mark := mcptest.Mark(b, mcptest.Options{})
	b.Run("direct", func(b *testing.B) {
		c, err := mcpclient.NewStreamableHttpClient(mark.URL)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		if err := c.Start(ctx); err != nil {
			b.Fatal(err)
		}
		init := mcp.InitializeRequest{}
		init.Params.ProtocolVersion = mcp.LATEST_LEGACY_PROTOCOL_VERSION
		if _, err := c.Initialize(ctx, init); err != nil {
			b.Fatal(err)
		}
		req := mcp.CallToolRequest{}
		req.Params.Name = "echo"
		req.Params.Arguments = map[string]any{"text": "hello"}
		b.ResetTimer()
		for b.Loop() {
			if _, err := c.CallTool(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("proxied", func(b *testing.B) {
		r := newRig(b, nil, nil)
		if _, err := r.svc.Add(ctx, ServerInput{Name: "m", URL: mark.URL}, "admin:a"); err != nil {
			b.Fatal(err)
		}
		tl, _ := r.st.GetMCPTool(ctx, "m", "echo")
		if err := r.svc.Decide(ctx, "m", "echo", true, tl.SHA256, 0, "admin:a"); err != nil {
			b.Fatal(err)
		}
		args := json.RawMessage(`{"text":"hello"}`)
		b.ResetTimer()
		for b.Loop() {
			if _, err := r.svc.Call(ctx, "m__echo", args); err != nil {
				b.Fatal(err)
			}
		}
	})
}
