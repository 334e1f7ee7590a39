package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	mcpserver "github.com/mark3labs/mcp-go/server"

	"github.com/airlockhq/airlock/mcp/server"
	"github.com/airlockhq/airlock/secure/peercred"
)

// helperEnv selects a helper mode when the test binary is re-executed as
// another user (see refuse_test.go).
const helperEnv = "AIRLOCK_MCP_TEST_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(runHelper(mode))
	}
	os.Exit(m.Run())
}

// socketDir returns a fresh 0750 directory for the socket.
func socketDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	if err := os.Mkdir(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	return dir
}

// startServer serves tools on a new socket in dir (a fresh 0750 dir when
// dir is "") and returns the socket path. The server is shut down at the
// end of the test.
func startServer(t testing.TB, cfg server.Config, dir string, mode os.FileMode, tools ...mcpserver.ServerTool) string {
	t.Helper()
	if dir == "" {
		dir = socketDir(t)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	path := filepath.Join(dir, "mcp.sock")
	ln, err := peercred.Listen(path, mode, -1)
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv := server.New(cfg, tools...)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return path
}

// testTools are the tools most tests serve.
func testTools() []mcpserver.ServerTool {
	return []mcpserver.ServerTool{
		{Tool: mcp.NewTool("echo", mcp.WithDescription("returns its arguments as JSON"),
			mcp.WithString("text")), Handler: echoTool},
		{Tool: mcp.NewTool("whoami", mcp.WithDescription("returns the caller's peer credentials")),
			Handler: whoamiTool},
		{Tool: mcp.NewTool("fail", mcp.WithDescription("always a tool error")),
			Handler: func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				return mcp.NewToolResultError("no such task"), nil
			}},
		{Tool: mcp.NewTool("boom", mcp.WithDescription("panics")),
			Handler: func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				panic("boom: secret internal detail /data/secure/master.key")
			}},
		{Tool: mcp.NewTool("goerr", mcp.WithDescription("returns a Go error")),
			Handler: func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				return nil, errors.New("store: open /data/secure/airlock.db: secret internal detail")
			}},
	}
}

func echoTool(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	b, err := json.Marshal(req.GetArguments())
	if err != nil {
		return nil, err
	}
	return mcp.NewToolResultText(string(b)), nil
}

// whoamiResult is what the whoami tool returns.
type whoamiResult struct {
	PID int `json:"pid"`
	UID int `json:"uid"`
	GID int `json:"gid"`
}

func whoamiTool(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	cred, ok := peercred.FromContext(ctx)
	if !ok {
		return mcp.NewToolResultError("no peer credentials in context"), nil
	}
	b, _ := json.Marshal(whoamiResult{PID: cred.PID, UID: cred.UID, GID: cred.GID})
	return mcp.NewToolResultText(string(b)), nil
}

// unixHTTPClient returns an HTTP client that dials path for every request.
func unixHTTPClient(path string) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
	}}
}

// readAll reads and closes a response body.
func readAll(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return string(b)
}
