package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"
)

// childPID is the pid of the child whose HTTP request is being served.
func childPID(ctx context.Context) int {
	pid, _ := ctx.Value(pidKey).(int)
	return pid
}

// eventually polls cond for up to 20s (a bound for a broken build, not a
// timing assertion).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting: %s", what)
}

func processGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// TestConcurrentRuns: an endless script does not block three others, which
// finish while it still runs; the pool refills afterwards.
func TestConcurrentRuns(t *testing.T) {
	r := newTestRunner(t, 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := make(chan struct{})
	endless := Request{Name: "endless", Function: "main", Limits: Limits{MaxSteps: 1 << 62, Timeout: MaxTimeout},
		Source: "def main():\n    http.get('https://example.com/')\n    for i in range(1 << 62):\n        pass\n"}
	endlessErr := make(chan error, 1)
	go func() {
		_, err := r.Run(ctx, endless, func(context.Context, HTTPRequest) (HTTPResponse, error) {
			close(started)
			return HTTPResponse{Status: 200}, nil
		})
		endlessErr <- err
	}()
	<-started
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() {
			src := fmt.Sprintf("def main():\n    return %d\n", i)
			res, err := r.Run(context.Background(), Request{Name: "quick", Source: src, Function: "main"}, nil)
			if err != nil || string(res.Value) != fmt.Sprint(i) {
				t.Errorf("quick run %d: %s, %v", i, res.Value, err)
			}
		})
	}
	wg.Wait()
	select {
	case err := <-endlessErr:
		t.Fatalf("the endless script ended before the quick ones were checked: %v", err)
	default:
	}
	cancel()
	if err := <-endlessErr; !errors.Is(err, context.Canceled) {
		t.Errorf("endless: err = %v; want context.Canceled", err)
	}
	eventually(t, "the warm pool refills", r.pool.full)
}

// TestChildNeverReused: every run has its own process, gone after the run.
func TestChildNeverReused(t *testing.T) {
	r := newTestRunner(t, 2)
	seen := map[int]bool{}
	for i := range 5 {
		var pid int
		hf := func(ctx context.Context, _ HTTPRequest) (HTTPResponse, error) {
			pid = childPID(ctx)
			return HTTPResponse{Status: 200}, nil
		}
		// A global set by one run is not there in the next.
		src := "x = 1\nresult = http.get('https://example.com/').status\n"
		if i%2 == 1 {
			src = "result = x\n"
		}
		_, err := r.Run(context.Background(), Request{Name: "reuse", Source: src}, hf)
		if i%2 == 1 {
			var se *Error
			if !errors.As(err, &se) || se.Kind != KindCompile {
				t.Fatalf("run %d: err = %v; want undefined x", i, err)
			}
			continue
		}
		if err != nil || pid == 0 {
			t.Fatalf("run %d: pid %d, err %v", i, pid, err)
		}
		if seen[pid] {
			t.Fatalf("run %d: child %d ran a second script", i, pid)
		}
		seen[pid] = true
		eventually(t, "the child exits after its run", func() bool { return processGone(pid) })
	}
}

// TestChildEnvironment: the child inherits none of the worker's
// environment.
func TestChildEnvironment(t *testing.T) {
	t.Setenv("AIRLOCK_TEST_SECRET", "should-not-be-seen")
	r := newTestRunner(t, NoWarm)
	var env []byte
	hf := func(ctx context.Context, _ HTTPRequest) (HTTPResponse, error) {
		env = readEnviron(t, childPID(ctx))
		return HTTPResponse{Status: 200}, nil
	}
	mustRun(t, r, Request{Name: "env", Source: "result = http.get('https://example.com/').status\n"}, hf)
	if len(env) != 0 {
		t.Errorf("child environment = %q; want empty", env)
	}
}

func TestCrash(t *testing.T) {
	r := newTestRunner(t, 1)
	hf := func(ctx context.Context, _ HTTPRequest) (HTTPResponse, error) {
		if err := syscall.Kill(childPID(ctx), syscall.SIGKILL); err != nil {
			t.Error(err)
		}
		return HTTPResponse{Status: 200}, nil
	}
	src := "def main():\n    http.get('https://example.com/')\n    return 1\n"
	wantError(t, r, Request{Name: "crash", Source: src, Function: "main"}, hf, KindCrash, "stopped unexpectedly (signal: killed)")
	checkAlive(t, r)

	// A warm child that died while idle is skipped.
	eventually(t, "the warm pool refills", r.pool.full)
	c := <-r.pool.idle
	c.kill()
	<-c.exited
	r.pool.idle <- c
	checkAlive(t, r)
}

func readEnviron(t *testing.T, pid int) []byte {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		t.Fatalf("read child environment: %v", err)
	}
	return b
}
