package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/llm/llmtest"
)

// TestBadInput: each bad request gets a clear JSON error and stores nothing.
func TestBadInput(t *testing.T) {
	s := startStack(t, stackOpts{dev: true})
	s.waitReady()
	conv := s.newConversation()

	big := `{"text":"` + strings.Repeat("a", 2<<20) + `"}`
	cases := []struct {
		name, method, path string
		body               any
		want               int
		wantErr            string
	}{
		{"malformed JSON", "POST", "/api/v1/conversations/" + conv + "/messages", `{"text":`, 400, "malformed JSON"},
		{"unknown field", "POST", "/api/v1/conversations/" + conv + "/messages", `{"txt":"hi"}`, 400, "malformed JSON"},
		{"trailing data", "POST", "/api/v1/conversations/" + conv + "/messages", `{"text":"hi"} {}`, 400, "trailing"},
		{"empty text", "POST", "/api/v1/conversations/" + conv + "/messages", `{"text":"  "}`, 400, "empty"},
		{"too large message", "POST", "/api/v1/conversations/" + conv + "/messages",
			`{"text":"` + strings.Repeat("a", 40<<10) + `"}`, 400, "larger than"},
		{"oversized body", "POST", "/api/v1/conversations/" + conv + "/messages", big, 413, "too large"},
		{"unknown conversation", "POST", "/api/v1/conversations/c_nope/messages", `{"text":"hi"}`, 404, "not found"},
		{"unknown conversation get", "GET", "/api/v1/conversations/c_nope", nil, 404, "not found"},
		{"bad limit", "GET", "/api/v1/conversations?limit=-1", nil, 400, "limit"},
		{"unknown route", "GET", "/api/v1/nope", nil, 404, "not found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out struct {
				Error string `json:"error"`
			}
			code := s.do(c.method, c.path, c.body, &out)
			if code != c.want || !strings.Contains(out.Error, c.wantErr) {
				t.Errorf("got %d %q; want %d containing %q", code, out.Error, c.want, c.wantErr)
			}
		})
	}
	if n := len(s.messages(conv)); n != 0 {
		t.Errorf("bad requests stored %d messages", n)
	}
	if n := len(s.llm.Requests()); n != 0 {
		t.Errorf("bad requests reached the LLM %d times", n)
	}

	// No token, a wrong token, a form body.
	for _, h := range []string{"", "Bearer nope", "Basic " + s.token} {
		req, _ := http.NewRequest("GET", s.base+"/api/v1/conversations", nil)
		if h != "" {
			req.Header.Set("Authorization", h)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("Authorization %q: status %d; want 401", h, resp.StatusCode)
		}
	}
	req, _ := http.NewRequest("POST", s.base+"/api/v1/conversations", strings.NewReader("title=x"))
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("form body: %v %v; want 415", resp.StatusCode, err)
	}
}

// TestWorkspaceTraversalRefused: path traversal through the model tools is
// refused with a clear error the model reads, and nothing is written outside.
func TestWorkspaceTraversalRefused(t *testing.T) {
	s := startStack(t, stackOpts{dev: true})
	s.waitReady()
	conv := s.newConversation()
	outside := filepath.Join(s.dataDir, "secure", "pwned.txt")
	for _, call := range []llmtest.Call{
		{Name: tools.WorkspaceRead, Args: map[string]any{"path": "../secure/airlock.db"}},
		{Name: tools.WorkspaceWrite, Args: map[string]any{"path": "../secure/pwned.txt", "content": "x"}},
		{Name: tools.WorkspaceWrite, Args: map[string]any{"path": outside, "content": "x"}},
		{Name: tools.WorkspaceRead, Args: map[string]any{"path": "notes\x00.md"}},
		{Name: tools.WorkspaceWrite, Args: map[string]any{"path": "SOUL.md", "content": "obey me"}},
	} {
		s.llm.Reset()
		s.llm.Enqueue(llmtest.Reply{ToolCalls: []llmtest.Call{call}})
		r := s.send(conv, "try "+call.Name)
		reqs := s.llm.Requests()
		if len(reqs) != 2 {
			t.Fatalf("%v: LLM requests = %d", call.Args, len(reqs))
		}
		res := reqs[1].Messages[len(reqs[1].Messages)-1]
		arg, _ := call.Args.(map[string]any)["path"].(string)
		leaks := !strings.Contains(arg, s.dir) && strings.Contains(res.Content, s.dir)
		if !res.IsError && !strings.Contains(res.Content, "ERROR") || leaks {
			t.Errorf("%v: tool result %q; want an error without host paths", call.Args, res.Content)
		}
		if r.Failed {
			t.Errorf("%v: the conversation failed instead of going on: %+v", call.Args, r)
		}
	}
	if _, err := os.Stat(outside); err == nil {
		t.Fatal("a file was written outside the workspace")
	}
	if _, err := os.Stat(filepath.Join(s.dataDir, "workspace", "SOUL.md")); err == nil {
		t.Error("the model wrote SOUL.md")
	}
}

// TestPeerWithAnotherUIDRefused: a process of another user that reaches the
// socket is refused before it can speak MCP, and the refusal is audited.
func TestPeerWithAnotherUIDRefused(t *testing.T) {
	if os.Getuid() != 0 {
		if os.Getenv("AIRLOCK_REQUIRE_E2E") == "1" {
			t.Fatal("this test must run as root under AIRLOCK_REQUIRE_E2E=1 (it runs a client as uid 65534)")
		}
		t.Skip("SKIPPED LOUDLY: not root, cannot run a client as uid 65534; run the tests as root to cover the peer-credential check")
	}
	// A directory the other user can traverse, outside t.TempDir's 0700 tree.
	dir, err := os.MkdirTemp("", "airlock-peer-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	runDir := filepath.Join(dir, "run")
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(runDir, 0o750); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(runDir, "mcp.sock")
	s := startStack(t, stackOpts{dir: dir, env: []string{"AIRLOCK_SOCKET=" + sock,
		"AIRLOCK_WORKER_UID=" + strconv.Itoa(os.Getuid())}})
	startWorker(t, sock)
	s.waitReady()

	// Open the file modes so that only the peer-credential check stands in
	// the way (in the container the modes alone already stop other users).
	waitFor(t, 5*time.Second, "the socket", func() bool { _, err := os.Stat(sock); return err == nil })
	for p, m := range map[string]os.FileMode{runDir: 0o755, sock: 0o666} {
		if err := os.Chmod(p, m); err != nil {
			t.Fatal(err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	probe := filepath.Join(dir, "probe")
	copyFile(t, self, probe)
	cmd := exec.Command(probe)
	cmd.Env = []string{"AIRLOCK_TEST_PROBE=connect", "AIRLOCK_TEST_SOCKET=" + sock}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("probe: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "status: 200") || strings.Contains(string(out), tools.RuntimeLLM) {
		t.Fatalf("a peer with uid 65534 was served:\n%s", out)
	}
	if !strings.Contains(string(out), "403") && !strings.Contains(string(out), "error:") {
		t.Fatalf("unexpected probe output:\n%s", out)
	}

	var entries struct {
		Entries []struct {
			Actor   string `json:"actor"`
			Action  string `json:"action"`
			Outcome string `json:"outcome"`
		} `json:"entries"`
	}
	waitFor(t, 5*time.Second, "the audit entry", func() bool {
		s.do("GET", "/api/v1/audit?action=mcp.peer_refused", nil, &entries)
		return len(entries.Entries) > 0
	})
	if e := entries.Entries[0]; e.Actor != "peer:uid=65534" || e.Outcome != "denied" {
		t.Errorf("audit entry = %+v", e)
	}
	s.verifyAudit()
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}
