package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/airlockhq/airlock/orchestrator/llm/llmtest"
)

// binDir holds the orchestrator and aiworker binaries built once by TestMain.
var binDir string

func TestMain(m *testing.M) {
	if probe := os.Getenv("AIRLOCK_TEST_PROBE"); probe != "" {
		os.Exit(runProbe(probe))
	}
	dir, err := os.MkdirTemp("", "airlock-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	build := exec.Command("go", "build", "-o", dir+"/", "github.com/airlockhq/airlock/cmd/orchestrator",
		"github.com/airlockhq/airlock/cmd/aiworker")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building binaries: %v\n%s", err, out)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// syncBuffer collects a process's log output.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// stack is one running orchestrator (and, in dev mode, its worker) against
// a fake LLM.
type stack struct {
	t       *testing.T
	dir     string
	dataDir string
	env     []string
	dev     bool
	llm     *llmtest.Server
	cmd     *exec.Cmd
	exited  chan struct{}
	logs    *syncBuffer
	base    string
	token   string
	// noSignIn leaves first-run setup to the test: token stays empty.
	noSignIn bool
}

const canaryKey = "sk-e2e-canary-0123456789abcdef"

// deadProxy is a proxy address nothing listens on.
const deadProxy = "http://127.0.0.1:9"

type stackOpts struct {
	dev bool
	env []string // extra environment
	dir string   // data directory parent; a new temp dir when empty
	// noSignIn leaves first-run setup to the test (a browser does it).
	noSignIn bool
	// anthropic points the orchestrator at the fake's Anthropic API
	// instead of its OpenAI one.
	anthropic bool
}

func startStack(t *testing.T, o stackOpts) *stack {
	t.Helper()
	fake, err := llmtest.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	dir := o.dir
	if dir == "" {
		dir = t.TempDir()
	}
	s := &stack{t: t, dir: dir, dataDir: filepath.Join(dir, ".airlock"), dev: o.dev, llm: fake, noSignIn: o.noSignIn}
	s.env = append([]string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		"AIRLOCK_DATA_DIR=" + s.dataDir,
		"AIRLOCK_HTTP_ADDR=127.0.0.1:0",
		"AIRLOCK_LLM_PROVIDER=openai",
		"AIRLOCK_LLM_BASE_URL=" + fake.URL() + "/v1",
		"AIRLOCK_LLM_MODEL=fake-model",
		"AIRLOCK_LLM_API_KEY=" + canaryKey,
		// No test touches the internet: were anything to dial out (the
		// Discord bot of a test that sets DISCORD_TOKEN), it would meet a
		// closed local port. Loopback (the fakes) is never proxied.
		"HTTP_PROXY=" + deadProxy, "HTTPS_PROXY=" + deadProxy,
	}, o.env...)
	if o.anthropic {
		s.env = append(s.env, "AIRLOCK_LLM_PROVIDER=anthropic", "AIRLOCK_LLM_BASE_URL="+fake.URL())
	}
	s.start()
	return s
}

var httpAddrRE = regexp.MustCompile(`msg="serving HTTP" addr=(\S+)`)

func (s *stack) start() {
	t := s.t
	t.Helper()
	args := []string{}
	if s.dev {
		args = append(args, "--dev")
	}
	s.logs = &syncBuffer{}
	s.cmd = exec.Command(filepath.Join(binDir, "orchestrator"), args...)
	s.cmd.Dir = s.dir
	s.cmd.Env = s.env
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.exited = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { cmd.Wait(); close(done) }(s.cmd, s.exited)
	t.Cleanup(s.stop)

	deadline := time.Now().Add(20 * time.Second)
	for {
		if m := httpAddrRE.FindStringSubmatch(s.logs.String()); m != nil {
			s.base = "http://" + m[1]
			break
		}
		select {
		case <-s.exited:
			t.Fatalf("orchestrator exited at start:\n%s", s.logs.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("orchestrator did not start serving HTTP:\n%s", s.logs.String())
		}
	}
	if !s.noSignIn {
		s.token = s.signIn()
	}
}

// Test admin credentials.
const (
	testAdmin    = "admin"
	testPassword = "a long test password 1234"
)

var setupCodeRE = regexp.MustCompile(`setup_code=([A-Z2-7]{5}-[A-Z2-7]{5}-[A-Z2-7]{5}-[A-Z2-7]{5})`)

// signIn returns an API token: on a fresh data directory through first-run
// setup with the code from the log, as an operator would; later by login.
func (s *stack) signIn() string {
	t := s.t
	t.Helper()
	var state struct {
		SetupNeeded bool `json:"setup_needed"`
	}
	if code := s.anon("GET", "/api/v1/setup", nil, &state); code != http.StatusOK {
		t.Fatalf("setup state: %d", code)
	}
	var out struct {
		Token string `json:"token"`
	}
	if !state.SetupNeeded {
		if code := s.anon("POST", "/api/v1/auth/login", map[string]string{"username": testAdmin, "password": testPassword}, &out); code != http.StatusOK {
			t.Fatalf("login: %d", code)
		}
		return out.Token
	}
	var code string
	waitFor(t, 10*time.Second, "the setup code in the log", func() bool {
		m := setupCodeRE.FindStringSubmatch(s.logs.String())
		if m != nil {
			code = m[1]
		}
		return m != nil
	})
	if c := s.anon("POST", "/api/v1/setup", map[string]string{"code": code, "username": testAdmin, "password": testPassword}, &out); c != http.StatusCreated || out.Token == "" {
		t.Fatalf("setup with the code from the log: %d", c)
	}
	return out.Token
}

// anon sends a JSON request without a token.
func (s *stack) anon(method, path string, body, out any) int {
	s.t.Helper()
	var r io.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		r = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, s.base+path, r)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

// stop ends the orchestrator with SIGTERM and waits for it.
func (s *stack) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
		s.t.Errorf("orchestrator did not stop within 15s of SIGTERM")
	}
}

// waitReady polls /readyz until it answers 200.
func (s *stack) waitReady() {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(s.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	s.t.Fatalf("not ready after 30s:\n%s", s.logs.String())
}

// do sends an API request with the bearer token; body may be a string
// (sent raw) or a value (sent as JSON). It decodes a JSON answer into out.
func (s *stack) do(method, path string, body any, out any) int {
	s.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		r = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, s.base+path, r)
	req.Header.Set("Authorization", "Bearer "+s.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		s.t.Errorf("%s %s: Content-Type %q, want JSON", method, path, resp.Header.Get("Content-Type"))
	}
	if strings.Contains(string(raw), canaryKey) {
		s.t.Errorf("%s %s: the response contains the LLM API key", method, path)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			s.t.Fatalf("%s %s: decoding %q: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode
}

type reply struct {
	ConversationID string `json:"conversation_id"`
	TaskID         string `json:"task_id"`
	Reply          string `json:"reply"`
	Failed         bool   `json:"failed"`
	Error          string `json:"error"`
}

func (s *stack) newConversation() string {
	s.t.Helper()
	var c struct {
		ID string `json:"id"`
	}
	if code := s.do("POST", "/api/v1/conversations", map[string]string{"title": "test"}, &c); code != http.StatusCreated || c.ID == "" {
		s.t.Fatalf("create conversation: %d %+v", code, c)
	}
	return c.ID
}

func (s *stack) send(conv, text string) reply {
	s.t.Helper()
	var r reply
	if code := s.do("POST", "/api/v1/conversations/"+conv+"/messages", map[string]string{"text": text}, &r); code != http.StatusOK {
		s.t.Fatalf("send message: %d %+v", code, r)
	}
	return r
}

type storedMessage struct {
	Role      string `json:"role"`
	Content   string `json:"content"`
	ToolName  string `json:"tool_name"`
	IsError   bool   `json:"is_error"`
	ToolCalls []struct {
		Name string `json:"name"`
	} `json:"tool_calls"`
}

func (s *stack) messages(conv string) []storedMessage {
	s.t.Helper()
	var out struct {
		Messages []storedMessage `json:"messages"`
	}
	if code := s.do("GET", "/api/v1/conversations/"+conv, nil, &out); code != http.StatusOK {
		s.t.Fatalf("get conversation: %d", code)
	}
	return out.Messages
}

func (s *stack) workerPID() int {
	s.t.Helper()
	var st struct {
		Worker struct {
			PID int `json:"pid"`
		} `json:"worker"`
	}
	s.do("GET", "/api/v1/status", nil, &st)
	return st.Worker.PID
}

// verifyAudit asserts the audit chain verifies.
func (s *stack) verifyAudit() {
	s.t.Helper()
	var v struct {
		OK      bool   `json:"ok"`
		Checked int    `json:"checked"`
		Reason  string `json:"reason"`
	}
	if code := s.do("GET", "/api/v1/audit/verify", nil, &v); code != http.StatusOK || !v.OK || v.Checked == 0 {
		s.t.Errorf("audit verify: %d %+v", code, v)
	}
}

// assertNoKeyInLogs checks the LLM key never reached the logs.
func (s *stack) assertNoKeyInLogs() {
	s.t.Helper()
	if strings.Contains(s.logs.String(), canaryKey) {
		s.t.Error("the LLM API key appears in the logs")
	}
}

// waitFor polls cond for up to d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// logLines returns the lines of the log that contain substr.
func logLines(logs, substr string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(logs))
	for sc.Scan() {
		if strings.Contains(sc.Text(), substr) {
			out = append(out, sc.Text())
		}
	}
	return out
}

var _ = context.Background
