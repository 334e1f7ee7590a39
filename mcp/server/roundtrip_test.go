package server_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/airlockhq/airlock/mcp/client"
	"github.com/airlockhq/airlock/mcp/server"
)

func newClient(t *testing.T, path string) *client.Client {
	t.Helper()
	c := client.New(client.Options{SocketPath: path, ClientName: "test", MaxBackoff: 200 * time.Millisecond})
	t.Cleanup(func() { c.Close() })
	return c
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestRoundTrip(t *testing.T) {
	path := startServer(t, server.Config{WorkerUID: os.Getuid()}, "", 0o660, testTools()...)
	ctx := testCtx(t)
	c := newClient(t, path)
	if err := c.Connect(ctx); err != nil {
		t.Fatalf("Connect: %v", err)
	}

	tools, err := c.ListTools(ctx)
	if err != nil {
		t.Fatalf("ListTools: %v", err)
	}
	var names []string
	for _, tool := range tools {
		names = append(names, tool.Name)
	}
	slices.Sort(names)
	if want := []string{"boom", "echo", "fail", "goerr", "whoami"}; !slices.Equal(names, want) {
		t.Fatalf("tools = %v, want %v", names, want)
	}

	var echoed struct {
		Text string `json:"text"`
		N    int    `json:"n"`
	}
	in := struct {
		Text string `json:"text"`
		N    int    `json:"n"`
	}{"héllo \"world\"", 42}
	if err := c.Call(ctx, "echo", in, &echoed); err != nil {
		t.Fatalf("Call echo: %v", err)
	}
	if echoed != in {
		t.Fatalf("echo = %+v, want %+v", echoed, in)
	}

	text, isErr, err := c.CallText(ctx, "echo", map[string]any{"text": "hi"})
	if err != nil || isErr || text != `{"text":"hi"}` {
		t.Fatalf("CallText echo = %q, %v, %v", text, isErr, err)
	}
}

func TestToolErrorResult(t *testing.T) {
	path := startServer(t, server.Config{WorkerUID: os.Getuid()}, "", 0o660, testTools()...)
	ctx := testCtx(t)
	c := newClient(t, path)

	err := c.Call(ctx, "fail", nil, nil)
	var te *client.ToolError
	if !errors.As(err, &te) {
		t.Fatalf("Call fail error = %v, want *ToolError", err)
	}
	if te.Tool != "fail" || te.Text != "no such task" {
		t.Fatalf("ToolError = %+v", te)
	}
	text, isErr, err := c.CallText(ctx, "fail", nil)
	if err != nil || !isErr || text != "no such task" {
		t.Fatalf("CallText fail = %q, %v, %v", text, isErr, err)
	}
}

func TestHandlerFailuresDoNotLeak(t *testing.T) {
	path := startServer(t, server.Config{WorkerUID: os.Getuid()}, "", 0o660, testTools()...)
	ctx := testCtx(t)
	c := newClient(t, path)
	for _, tool := range []string{"boom", "goerr"} {
		t.Run(tool, func(t *testing.T) {
			err := c.Call(ctx, tool, nil, nil)
			var te *client.ToolError
			if !errors.As(err, &te) {
				t.Fatalf("Call %s error = %v, want *ToolError", tool, err)
			}
			if te.Text != "internal error" {
				t.Fatalf("tool error text = %q, want %q", te.Text, "internal error")
			}
			if strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "/data") {
				t.Fatalf("internal detail leaked: %v", err)
			}
		})
	}
	// The server survived the panic.
	if err := c.Call(ctx, "echo", nil, nil); err != nil {
		t.Fatalf("Call after panic: %v", err)
	}
}

func TestPeerCredInHandlerContext(t *testing.T) {
	path := startServer(t, server.Config{WorkerUID: os.Getuid()}, "", 0o660, testTools()...)
	ctx := testCtx(t)
	c := newClient(t, path)
	var who whoamiResult
	if err := c.Call(ctx, "whoami", nil, &who); err != nil {
		t.Fatalf("Call whoami: %v", err)
	}
	want := whoamiResult{PID: os.Getpid(), UID: os.Getuid(), GID: os.Getgid()}
	if who != want {
		t.Fatalf("whoami = %+v, want %+v", who, want)
	}
}
