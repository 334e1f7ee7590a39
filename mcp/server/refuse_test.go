package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/airlockhq/airlock/mcp/client"
	"github.com/airlockhq/airlock/mcp/server"
)

const (
	nobody        = 65534
	socketEnv     = "AIRLOCK_MCP_TEST_SOCKET"
	helperRefused = "refused-client"
)

// runHelper is the body of the re-executed test binary.
func runHelper(mode string) int {
	if mode != helperRefused {
		fmt.Fprintf(os.Stderr, "unknown helper mode %q\n", mode)
		return 2
	}
	path := os.Getenv(socketEnv)
	fmt.Printf("uid=%d\n", os.Getuid())
	req, _ := http.NewRequest(http.MethodPost, "http://localhost/mcp", strings.NewReader(initializeBody))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := unixHTTPClient(path).Do(req)
	if err != nil {
		fmt.Printf("raw=error %v\n", err)
	} else {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Printf("raw=%d body=%q\n", resp.StatusCode, body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := client.New(client.Options{SocketPath: path})
	defer c.Close()
	if err := c.Connect(ctx); errors.Is(err, client.ErrRefused) {
		fmt.Println("client=refused")
	} else {
		fmt.Printf("client=%v\n", err)
	}
	return 0
}

// refusals collects OnRefused callbacks.
type refusals struct {
	mu   sync.Mutex
	list []server.Refusal
}

func (r *refusals) add(x server.Refusal) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.list = append(r.list, x)
}

func (r *refusals) get() []server.Refusal {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]server.Refusal(nil), r.list...)
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Getuid() == 0 {
		return
	}
	if os.Getenv("AIRLOCK_REQUIRE_E2E") == "1" {
		t.Fatal("this test must run as root (AIRLOCK_REQUIRE_E2E=1)")
	}
	t.Skip("SKIPPING: needs root to run a client as uid 65534; the uid check across users is NOT tested")
}

// traversableDir returns a temp dir that uid 65534 can enter (0755 up to
// /tmp), holding a copy of the test binary it can execute.
func traversableDir(t *testing.T) (dir, helper string) {
	t.Helper()
	dir = t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	helper = filepath.Join(dir, "helper")
	if err := os.WriteFile(helper, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(dir, "run")
	if err := os.Mkdir(run, 0o755); err != nil {
		t.Fatal(err)
	}
	return run, helper
}

func TestRefusesOtherUID(t *testing.T) {
	requireRoot(t)
	run, helper := traversableDir(t)
	var got refusals
	// For this test only the socket is 0666 in a 0755 dir, so the kernel lets
	// uid 65534 connect and the uid check is what must stop it.
	path := startServer(t, server.Config{WorkerUID: os.Getuid(), OnRefused: got.add}, run, 0o666, testTools()...)

	cmd := exec.Command(helper)
	cmd.Env = []string{helperEnv + "=" + helperRefused, socketEnv + "=" + path}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	t.Logf("helper output:\n%s", out)
	for _, want := range []string{fmt.Sprintf("uid=%d", nobody), "raw=403", "client=refused"} {
		if !strings.Contains(string(out), want) {
			t.Fatalf("helper output lacks %q:\n%s", want, out)
		}
	}

	// Accept goes on after refusals, and handles connections in order: once
	// our call succeeds, every refusal of the helper has been processed.
	c := newClient(t, path)
	if err := c.Call(testCtx(t), "echo", nil, nil); err != nil {
		t.Fatalf("worker call after refusals: %v", err)
	}
	list := got.get()
	if len(list) != 1 {
		t.Fatalf("OnRefused called %d times, want 1 (rate-limited): %+v", len(list), list)
	}
	r := list[0]
	if r.Cred.UID != nobody || r.Cred.GID != nobody || r.Cred.PID <= 0 || r.Cred.PID == os.Getpid() {
		t.Fatalf("refusal cred = %+v, want the helper's (uid %d)", r.Cred, nobody)
	}
	if r.Reason == "" {
		t.Fatal("refusal has no reason")
	}
}

func TestRefusesOwnUIDWhenNotWorker(t *testing.T) {
	var got refusals
	path := startServer(t, server.Config{WorkerUID: os.Getuid() + 1, OnRefused: got.add}, "", 0o660, testTools()...)
	ctx := testCtx(t)
	c := newClient(t, path)
	err := c.Connect(ctx)
	if !errors.Is(err, client.ErrRefused) {
		t.Fatalf("Connect error = %v, want ErrRefused", err)
	}
	if ctx.Err() != nil {
		t.Fatal("Connect retried a refusal until the context ended")
	}
	if err := c.Call(ctx, "echo", nil, nil); !errors.Is(err, client.ErrRefused) {
		t.Fatalf("Call error = %v, want ErrRefused", err)
	}
	list := got.get()
	if len(list) != 1 {
		t.Fatalf("OnRefused called %d times, want 1: %+v", len(list), list)
	}
	if r := list[0]; r.Cred.UID != os.Getuid() || r.Cred.PID != os.Getpid() {
		t.Fatalf("refusal cred = %+v, want ours", r.Cred)
	}
}
