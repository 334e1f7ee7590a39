package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/llm/llmtest"
)

// TestMemoryAcrossConversations: the model asks for memory_write, the tool
// runs, the model answers; the recorded LLM request carries the tool result,
// and a later conversation sees the memory.
func TestMemoryAcrossConversations(t *testing.T) {
	s := startStack(t, stackOpts{dev: true})
	s.waitReady()

	s.llm.Enqueue(
		llmtest.Reply{ToolCalls: []llmtest.Call{{Name: tools.MemoryWrite, Args: map[string]any{"content": "The user's cat is called Miso."}}}},
		llmtest.Reply{Text: "Noted: your cat is Miso."},
	)
	conv := s.newConversation()
	r := s.send(conv, "Please remember that my cat is called Miso.")
	if r.Failed || r.Reply != "Noted: your cat is Miso." {
		t.Fatalf("reply = %+v", r)
	}

	reqs := s.llm.Requests()
	if len(reqs) != 2 {
		t.Fatalf("LLM requests = %d; want 2", len(reqs))
	}
	if got := reqs[0].Header.Get("Authorization"); got != "Bearer "+canaryKey {
		t.Errorf("the orchestrator did not send the configured key to the provider")
	}
	last := reqs[1].Messages[len(reqs[1].Messages)-1]
	if last.Role != tools.RoleTool || !strings.Contains(last.Content, "Saved (append") {
		t.Errorf("second LLM request does not hold the tool result: %+v", last)
	}

	msgs := s.messages(conv)
	roles := []string{}
	for _, m := range msgs {
		roles = append(roles, m.Role)
	}
	if got := strings.Join(roles, ","); got != "user,assistant,tool,assistant" {
		t.Errorf("stored roles = %s; want user,assistant,tool,assistant", got)
	}
	if len(msgs) == 4 && (len(msgs[1].ToolCalls) != 1 || msgs[2].ToolName != tools.MemoryWrite || msgs[3].Content != r.Reply) {
		t.Errorf("stored messages = %+v", msgs)
	}

	// A later conversation: the memory is in the system prompt, and
	// memory_read returns it (wrapped as data).
	s.llm.Reset()
	s.llm.Enqueue(llmtest.Reply{ToolCalls: []llmtest.Call{{Name: tools.MemoryRead, Args: map[string]any{}}}})
	conv2 := s.newConversation()
	r2 := s.send(conv2, "What is my cat called?")
	if !strings.Contains(r2.Reply, "Miso") {
		t.Errorf("memory_read in a new conversation did not see the memory: %q", r2.Reply)
	}
	reqs = s.llm.Requests()
	if len(reqs) == 0 || !strings.Contains(reqs[0].System, "Miso") || !strings.Contains(reqs[0].System, "UNTRUSTED DATA") {
		t.Errorf("the system prompt of the new conversation does not carry the wrapped memory")
	}
	if len(reqs) > 0 && len(reqs[0].Messages) != 1 {
		t.Errorf("a new conversation leaked history from another: %+v", reqs[0].Messages)
	}
	s.verifyAudit()
	s.assertNoKeyInLogs()
	s.assertWorkerEnvClean()
}

// assertWorkerEnvClean reads the worker's environment (same user in dev
// mode) and checks it holds no key.
func (s *stack) assertWorkerEnvClean() {
	s.t.Helper()
	pid := s.workerPID()
	env, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		s.t.Fatalf("read worker environment: %v", err)
	}
	if strings.Contains(string(env), canaryKey) || strings.Contains(string(env), "AIRLOCK_LLM") {
		s.t.Errorf("the worker's environment holds LLM settings: %q", env)
	}
	if !strings.Contains(string(env), "AIRLOCK_SOCKET=") {
		s.t.Errorf("read the wrong process's environment (pid %d)", pid)
	}
}

// TestWorkerKilledMidTask: the task fails with a short apology, the worker
// comes back, and the next task works.
func TestWorkerKilledMidTask(t *testing.T) {
	s := startStack(t, stackOpts{dev: true})
	s.waitReady()
	conv := s.newConversation()
	s.llm.Enqueue(llmtest.Reply{Text: "too late", Delay: 20 * time.Second})

	got := make(chan reply, 1)
	go func() { got <- s.send(conv, "a slow question") }()
	waitFor(t, 10*time.Second, "the LLM request", func() bool { return len(s.llm.Requests()) == 1 })
	pid := s.workerPID()
	if pid == 0 {
		t.Fatal("no worker pid")
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var r reply
	select {
	case r = <-got:
	case <-time.After(15 * time.Second):
		t.Fatal("the task did not end after its worker died")
	}
	if !r.Failed || !strings.HasPrefix(r.Reply, "Sorry") || strings.Contains(r.Reply, "worker process") {
		t.Errorf("reply after the worker died = %+v; want a short apology without internals", r)
	}
	waitFor(t, 15*time.Second, "a new worker", func() bool { p := s.workerPID(); return p != 0 && p != pid })
	s.waitReady()
	if r := s.send(conv, "are you back?"); r.Failed || r.Reply != "fake reply: are you back?" {
		t.Errorf("after the restart: %+v", r)
	}
	s.verifyAudit()
}

// TestOrchestratorRestartWorkerReconnects runs the worker on its own (as
// in the container) and restarts the orchestrator under it.
func TestOrchestratorRestartWorkerReconnects(t *testing.T) {
	dir := t.TempDir()
	runDir := filepath.Join(dir, "run")
	if err := os.Mkdir(runDir, 0o750); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(runDir, "mcp.sock")
	s := startStack(t, stackOpts{dir: dir, env: []string{"AIRLOCK_SOCKET=" + sock,
		"AIRLOCK_WORKER_UID=" + strconv.Itoa(os.Getuid())}})

	w := startWorker(t, sock)
	s.waitReady()
	conv := s.newConversation()
	if r := s.send(conv, "before"); r.Reply != "fake reply: before" {
		t.Fatalf("before restart: %+v", r)
	}

	s.stop()
	s.start()
	s.waitReady()
	if r := s.send(conv, "after"); r.Reply != "fake reply: after" {
		t.Fatalf("after restart: %+v", r)
	}
	select {
	case <-w.exited:
		t.Fatalf("the worker exited instead of reconnecting:\n%s", w.logs.String())
	default:
	}
	if n := len(s.messages(conv)); n != 4 {
		t.Errorf("messages after restart = %d; want 4 (nothing lost)", n)
	}
	s.verifyAudit()
}

type workerProc struct {
	exited chan struct{}
	logs   *syncBuffer
}

func startWorker(t *testing.T, sock string) *workerProc {
	t.Helper()
	w := &workerProc{exited: make(chan struct{}), logs: &syncBuffer{}}
	cmd := execWorker(sock, w.logs)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(w.exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-w.exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Error("the worker did not stop on SIGTERM")
		}
	})
	return w
}

// TestLLMRetryAndBudget: a 429 is retried into one reply; an exhausted
// budget answers clearly without calling the model.
func TestLLMRetryAndBudget(t *testing.T) {
	s := startStack(t, stackOpts{dev: true, env: []string{"AIRLOCK_LLM_REQUESTS_PER_DAY=2"}})
	s.waitReady()
	conv := s.newConversation()

	s.llm.Enqueue(llmtest.Reply{Status: http.StatusTooManyRequests, RetryAfter: "0"}, llmtest.Reply{Text: "after retry"})
	if r := s.send(conv, "one"); r.Failed || r.Reply != "after retry" {
		t.Fatalf("429 then 200: %+v", r)
	}
	if n := len(s.llm.Requests()); n != 2 {
		t.Fatalf("LLM requests = %d; want 2 (one retry)", n)
	}
	// The 429 attempt is not usage; one recorded request so far.
	if r := s.send(conv, "two"); r.Failed {
		t.Fatalf("second message within budget: %+v", r)
	}
	r := s.send(conv, "three")
	if !r.Failed || !strings.Contains(r.Reply, "budget") || !strings.Contains(r.Reply, "resets") {
		t.Errorf("over budget: %+v; want a clear budget message", r)
	}
	if n := len(s.llm.Requests()); n != 3 {
		t.Errorf("LLM requests = %d; want 3: no call once the budget is spent", n)
	}
	s.verifyAudit()
}

// TestNoModelConfigured: without a model the assistant says so plainly and
// no request leaves.
func TestNoModelConfigured(t *testing.T) {
	s := startStack(t, stackOpts{dev: true, env: []string{"AIRLOCK_LLM_MODEL="}})
	s.waitReady()
	r := s.send(s.newConversation(), "hello?")
	if !r.Failed || !strings.Contains(r.Reply, "no language model configured") {
		t.Errorf("reply = %+v", r)
	}
	if n := len(s.llm.Requests()); n != 0 {
		t.Errorf("%d requests reached an LLM", n)
	}
}

// TestLLMKeyFromVault: a key stored in the vault is used from the next
// model call on, without a restart.
func TestLLMKeyFromVault(t *testing.T) {
	s := startStack(t, stackOpts{dev: true, env: []string{"AIRLOCK_LLM_API_KEY="}})
	s.waitReady()
	conv := s.newConversation()
	s.send(conv, "before")
	if got := s.llm.Requests()[0].Header.Get("Authorization"); got != "" {
		t.Fatalf("Authorization before a key was set: %q", got)
	}
	const key = "sk-vault-stored-key-123456"
	if code := s.do("PUT", "/api/v1/secrets/LLM_API_KEY", map[string]string{"value": key}, nil); code != http.StatusCreated {
		t.Fatalf("PUT: %d", code)
	}
	s.send(conv, "after")
	reqs := s.llm.Requests()
	if got := reqs[len(reqs)-1].Header.Get("Authorization"); got != "Bearer "+key {
		t.Errorf("the next call did not use the vault's key (Authorization set: %v)", got != "")
	}
	if strings.Contains(s.logs.String(), key) {
		t.Error("the key reached the logs")
	}
}
