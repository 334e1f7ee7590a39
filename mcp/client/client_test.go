package client_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	mcpserver "github.com/mark3labs/mcp-go/server"

	"github.com/airlockhq/airlock/mcp/client"
	"github.com/airlockhq/airlock/mcp/server"
	"github.com/airlockhq/airlock/secure/peercred"
)

// harness is a socket path and the tools served on it, with call counters.
type harness struct {
	path    string
	calls   atomic.Int64 // runs of the "count" tool
	blocked chan struct{}
}

func newHarness(t *testing.T) *harness {
	dir := filepath.Join(t.TempDir(), "run")
	if err := os.Mkdir(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	return &harness{path: filepath.Join(dir, "mcp.sock"), blocked: make(chan struct{}, 1)}
}

func (h *harness) tools() []mcpserver.ServerTool {
	return []mcpserver.ServerTool{
		{Tool: mcp.NewTool("count"), Handler: func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			n := h.calls.Add(1)
			return mcp.NewToolResultText(`{"n":` + strconv.FormatInt(n, 10) + `}`), nil
		}},
		{Tool: mcp.NewTool("block"), Handler: func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			h.calls.Add(1)
			h.blocked <- struct{}{}
			<-ctx.Done()
			return mcp.NewToolResultError("cancelled"), nil
		}},
	}
}

// serve starts a server on h.path and returns a function that shuts it down
// (idempotent; also run at cleanup). It may be called from any goroutine.
func (h *harness) serve(t *testing.T) (stop func()) {
	ln, err := peercred.Listen(h.path, 0o660, -1)
	if err != nil {
		t.Errorf("listen: %v", err)
		return func() {}
	}
	srv := server.New(server.Config{WorkerUID: os.Getuid(), Logger: slog.New(slog.DiscardHandler)}, h.tools()...)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	var stopped atomic.Bool
	stop = func() {
		if stopped.Swap(true) {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}
	t.Cleanup(stop)
	return stop
}

func (h *harness) client(t *testing.T) *client.Client {
	c := client.New(client.Options{SocketPath: h.path, MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	t.Cleanup(func() { c.Close() })
	return c
}

func timeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

type countResult struct {
	N int `json:"n"`
}

func TestReconnectAfterRestart(t *testing.T) {
	h := newHarness(t)
	stop := h.serve(t)
	c := h.client(t)
	ctx := timeout(t, 10*time.Second)
	if err := c.Connect(ctx); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	var res countResult
	if err := c.Call(ctx, "count", nil, &res); err != nil || res.N != 1 {
		t.Fatalf("first call = %+v, %v", res, err)
	}

	stop()
	if err := os.Remove(h.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	restarted := make(chan struct{})
	go func() {
		time.Sleep(200 * time.Millisecond)
		h.serve(t)
		close(restarted)
	}()

	// No Connect: the call itself must find the new server.
	if err := c.Call(timeout(t, 5*time.Second), "count", nil, &res); err != nil {
		t.Fatalf("call after restart: %v", err)
	}
	<-restarted
	if res.N != 2 || h.calls.Load() != 2 {
		t.Fatalf("after restart: result %d, %d runs; want 2, 2 (no double run)", res.N, h.calls.Load())
	}
}

func TestConnectWaitsForServer(t *testing.T) {
	h := newHarness(t)
	c := h.client(t)
	started := make(chan struct{})
	go func() {
		time.Sleep(200 * time.Millisecond)
		h.serve(t)
		close(started)
	}()
	if err := c.Connect(timeout(t, 10*time.Second)); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	<-started
}

func TestConnectGivesUpWhenContextEnds(t *testing.T) {
	h := newHarness(t)
	c := h.client(t)
	err := c.Connect(timeout(t, 300*time.Millisecond))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Connect error = %v, want DeadlineExceeded", err)
	}
	if errors.Is(err, client.ErrConnectionLost) {
		t.Fatalf("dial failures reported as ErrConnectionLost: %v", err)
	}
}

func TestLostMidCallIsNotResent(t *testing.T) {
	h := newHarness(t)
	stop := h.serve(t)
	c := h.client(t)
	ctx := timeout(t, 10*time.Second)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		<-h.blocked // the call reached the handler: now kill the server under it
		stop()
	}()
	err := c.Call(ctx, "block", nil, nil)
	if !errors.Is(err, client.ErrConnectionLost) {
		t.Fatalf("Call error = %v, want ErrConnectionLost", err)
	}
	if n := h.calls.Load(); n != 1 {
		t.Fatalf("handler ran %d times, want 1 (a sent call must not be re-sent)", n)
	}

	// The next call reconnects to a new server.
	<-stopped
	h.serve(t)
	var res countResult
	if err := c.Call(ctx, "count", nil, &res); err != nil {
		t.Fatalf("call after loss: %v", err)
	}
}

func TestClosed(t *testing.T) {
	h := newHarness(t)
	h.serve(t)
	c := h.client(t)
	ctx := timeout(t, 10*time.Second)
	if err := c.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if err := c.Call(ctx, "count", nil, nil); !errors.Is(err, client.ErrClosed) {
		t.Fatalf("Call after Close = %v, want ErrClosed", err)
	}
	if h.calls.Load() != 0 {
		t.Fatal("a call went out after Close")
	}
}
