package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	mcpserver "github.com/mark3labs/mcp-go/server"

	mcpsrv "github.com/airlockhq/airlock/mcp/server"
	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/sandbox"
)

// workerProbeEnv makes the test binary a worker: it confines itself as
// run does, tries a TCP dial to the address in the variable and prints
// the outcome as one JSON line, then runs the real worker loop.
const workerProbeEnv = "AIRLOCK_TEST_WORKER_PROBE_TCP"

func TestMain(m *testing.M) {
	sandbox.MaybeChild()
	if addr := os.Getenv(workerProbeEnv); addr != "" {
		os.Exit(workerProbe(addr))
	}
	if mode := os.Getenv(workerStartEnv); mode != "" {
		os.Exit(workerStart(mode))
	}
	os.Exit(m.Run())
}

func workerProbe(addr string) int {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if _, _, err := confineWorker(os.Getenv("AIRLOCK_SOCKET"), logger); err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		return 2
	}
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	res := map[string]string{"dial": "connected"}
	if err != nil {
		res["dial"] = err.Error()
	} else {
		c.Close()
	}
	_ = json.NewEncoder(os.Stdout).Encode(res)
	if err := run(context.Background(), os.Getenv, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		return 1
	}
	return 0
}

// The worker, once confined, cannot dial a TCP listener on loopback (the
// orchestrator's admin port in the container), yet its MCP socket works:
// it polls for work and reports its confinement with the poll.
func TestConfinedWorkerHasNoNetworkButItsSocket(t *testing.T) {
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	accepted := make(chan struct{}, 1)
	go func() {
		if c, err := tcp.Accept(); err == nil {
			accepted <- struct{}{}
			c.Close()
		}
	}()

	sock, polled := fakeOrchestrator(t)

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "AIRLOCK_SOCKET=" + sock, workerProbeEnv + "=" + tcp.Addr().String()}
	cmd.Stderr = testLog{t}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("the worker said nothing: %v", err)
	}
	var res map[string]string
	if err := json.Unmarshal([]byte(line), &res); err != nil {
		t.Fatalf("the worker said %q: %v", line, err)
	}
	if !strings.Contains(res["dial"], "operation not permitted") {
		t.Fatalf("TCP dial from the confined worker: %q; want a permission error (EPERM)", res["dial"])
	}
	select {
	case <-accepted:
		t.Fatal("the TCP listener accepted a connection from the confined worker")
	default:
	}

	var args tools.NextTaskArgs
	select {
	case args = <-polled:
	case <-time.After(20 * time.Second):
		t.Fatal("the confined worker never polled over its MCP socket")
	}
	c := args.Confinement
	if c == nil || !c.Seccomp || !c.NetworkRefused {
		t.Fatalf("confinement reported with the poll: %+v; want seccomp on and the network refused", c)
	}
	if c.LandlockABI > 0 && !c.LandlockFiles {
		t.Errorf("kernel Landlock ABI %d, yet the worker reports no file rules: %v", c.LandlockABI, c.Problems)
	}
	status, err := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(status), "\nSeccomp:\t2\n") || !strings.Contains(string(status), "\nNoNewPrivs:\t1\n") {
		t.Errorf("the worker's /proc status shows no seccomp filter or no no_new_privs:\n%s", status)
	}
}

// fakeOrchestrator serves runtime_next_task on a Unix socket in a
// temporary directory: it never has work, and hands the first poll's
// arguments to the channel (the rest are dropped).
func fakeOrchestrator(t testing.TB) (string, <-chan tools.NextTaskArgs) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "mcp.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	polled := make(chan tools.NextTaskArgs, 1)
	srv := mcpsrv.New(mcpsrv.Config{WorkerUID: os.Getuid()}, mcpserver.ServerTool{
		Tool: mcp.NewToolWithRawSchema(tools.RuntimeNextTask, "test", json.RawMessage(`{"type":"object"}`)),
		Handler: func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			var args tools.NextTaskArgs
			raw, _ := json.Marshal(req.Params.Arguments)
			if err := json.Unmarshal(raw, &args); err != nil {
				return nil, err
			}
			select {
			case polled <- args:
			default:
			}
			select { // a long poll that never has work
			case <-ctx.Done():
			case <-time.After(time.Duration(args.WaitMS) * time.Millisecond):
			}
			return mcp.NewToolResultText(`{"task":null}`), nil
		},
	})
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	return sock, polled
}

type testLog struct{ t *testing.T }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
