package orchestrator_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator"
	"github.com/airlockhq/airlock/orchestrator/llm"
	"github.com/airlockhq/airlock/orchestrator/store"
)

func approved(t *testing.T, h *harness, name, src string) string {
	t.Helper()
	ctx := context.Background()
	res, err := h.approval.Propose(ctx, name, src, "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.approval.Approve(ctx, name, res.SHA256, "admin"); err != nil {
		t.Fatal(err)
	}
	return res.SHA256
}

// TestScriptHTTPGrants plays a compromised worker that asks the
// orchestrator for requests the approved version was not granted.
func TestScriptHTTPGrants(t *testing.T) {
	h := newHarness(t, orchestrator.Config{}, llm.Budget{})
	h.setSecret(t, "API_KEY", "granted-secret-value-1")
	h.setSecret(t, "OTHER_KEY", "other-secret-value-22")
	var got []string
	var mu sync.Mutex
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.URL.String()+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		fmt.Fprintf(w, "echo %s", r.Header.Get("Authorization"))
	}))
	defer api.Close()
	// Granted hosts the egress guard still refuses: only 127.0.0.1 is
	// allowlisted by the admin in this harness.
	approved(t, h, "api", "# @secrets: API_KEY\n# @hosts: 127.0.0.1, 127.0.0.2, 10.0.0.1, 169.254.169.254\ndef f():\n    return secret(\"API_KEY\")\n")

	c := h.client(t)
	ctx := context.Background()
	reply := h.submit(t, h.conversation(t), "go")
	task := takeTask(t, c)
	var src tools.ScriptSource
	if err := c.Call(ctx, tools.RuntimeScriptSource, tools.ScriptSourceArgs{TaskID: task.ID, Name: "api"}, &src); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(src.Source, "granted-secret-value") || src.RunID == "" || src.Placeholder == "" {
		t.Fatalf("script source = %+v", src)
	}
	ph := func(name string) string { return src.Placeholder + name + "__" }
	call := func(a tools.ScriptHTTPArgs) (tools.ScriptHTTPResult, error) {
		a.TaskID, a.RunID = task.ID, src.RunID
		if a.Method == "" {
			a.Method = "GET"
		}
		var res tools.ScriptHTTPResult
		err := c.Call(ctx, tools.RuntimeScriptHTTP, a, &res)
		return res, err
	}

	res, err := call(tools.ScriptHTTPArgs{URL: api.URL + "/x?k=" + ph("API_KEY"), Headers: map[string]string{"Authorization": "Bearer " + ph("API_KEY")}})
	if err != nil || res.Status != 200 || res.Body != "echo Bearer [REDACTED:API_KEY]" {
		t.Fatalf("granted call: %+v %v", res, err)
	}
	mu.Lock()
	if len(got) != 1 || !strings.Contains(got[0], "k=granted-secret-value-1") || !strings.HasSuffix(got[0], "Bearer granted-secret-value-1") {
		t.Errorf("the API received %q; want the real value in query and header", got)
	}
	mu.Unlock()

	refused := []struct {
		name string
		args tools.ScriptHTTPArgs
		want string
	}{
		{"secret not granted", tools.ScriptHTTPArgs{URL: api.URL + "/?k=" + ph("OTHER_KEY")}, "not granted"},
		{"host not granted", tools.ScriptHTTPArgs{URL: "http://localhost:1/"}, "not granted"},
		{"secret in host", tools.ScriptHTTPArgs{URL: "http://" + ph("API_KEY") + ".127.0.0.1/"}, "host"},
		{"metadata even if granted", tools.ScriptHTTPArgs{URL: "http://169.254.169.254/latest/meta-data/"}, "refused"},
		{"file scheme", tools.ScriptHTTPArgs{URL: "file:///etc/passwd"}, "http"},
		{"ftp scheme", tools.ScriptHTTPArgs{URL: "ftp://127.0.0.1/"}, "http"},
		{"private address, granted but not allowlisted", tools.ScriptHTTPArgs{URL: "http://10.0.0.1/"}, "private"},
		{"loopback, granted but not allowlisted", tools.ScriptHTTPArgs{URL: "http://127.0.0.2:" + portOf(api.URL) + "/"}, "refused"},
		{"bad method", tools.ScriptHTTPArgs{URL: api.URL, Method: "CONNECT"}, "not allowed"},
		{"host header", tools.ScriptHTTPArgs{URL: api.URL, Headers: map[string]string{"Host": "evil"}}, "may not be set"},
	}
	for _, r := range refused {
		if _, err := call(r.args); err == nil || !strings.Contains(err.Error(), r.want) {
			t.Errorf("%s: err = %v; want one containing %q", r.name, err, r.want)
		}
	}
	mu.Lock()
	if len(got) != 1 {
		t.Errorf("refused requests reached the API: %q", got)
	}
	mu.Unlock()

	// Revoked mid-run: the next call is refused.
	if err := h.approval.Revoke(ctx, "api", "admin", "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := call(tools.ScriptHTTPArgs{URL: api.URL}); err == nil || !strings.Contains(err.Error(), "no longer approved") {
		t.Errorf("after revoke: %v", err)
	}
	// Another task's run id is refused.
	var res2 tools.ScriptHTTPResult
	if err := c.Call(ctx, tools.RuntimeScriptHTTP, tools.ScriptHTTPArgs{TaskID: task.ID, RunID: "r_forged", Method: "GET", URL: api.URL}, &res2); err == nil {
		t.Error("a forged run id was accepted")
	}
	var ok tools.CompleteTaskResult
	c.Call(ctx, tools.RuntimeCompleteTask, tools.CompleteTaskArgs{TaskID: task.ID, Text: "done"}, &ok)
	<-reply
}

// TestScriptSourceRacingApproval: while versions are approved concurrently,
// every run gets a version that was approved when it was fetched, never a
// pending one.
func TestScriptSourceRacingApproval(t *testing.T) {
	h := newHarness(t, orchestrator.Config{}, llm.Budget{})
	ctx := context.Background()
	src := func(v string) string { return "# @description: " + v + "\ndef f():\n    return \"" + v + "\"\n" }
	v1 := approved(t, h, "race", src("v1"))
	var pending []string
	for _, v := range []string{"v2", "v3", "v4"} {
		res, err := h.approval.Propose(ctx, "race", src(v), "test")
		if err != nil {
			t.Fatal(err)
		}
		pending = append(pending, res.SHA256)
	}
	never, _ := h.approval.Propose(ctx, "race", src("never"), "test")

	c := h.client(t)
	reply := h.submit(t, h.conversation(t), "go")
	task := takeTask(t, c)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for _, sha := range pending {
			if err := h.approval.Approve(ctx, "race", sha, "admin"); err != nil {
				t.Error(err)
			}
		}
	}()
	allowed := map[string]bool{v1: true, pending[0]: true, pending[1]: true, pending[2]: true}
	for range 60 {
		var s tools.ScriptSource
		if err := c.Call(ctx, tools.RuntimeScriptSource, tools.ScriptSourceArgs{TaskID: task.ID, Name: "race"}, &s); err != nil {
			t.Fatal(err)
		}
		if !allowed[s.SHA256] || s.SHA256 == never.SHA256 || !strings.Contains(s.Source, "# @description: v") {
			t.Fatalf("a run got sha %s, which was never approved", s.SHA256)
		}
		if want := map[string]string{v1: "v1", pending[0]: "v2", pending[1]: "v3", pending[2]: "v4"}[s.SHA256]; !strings.Contains(s.Source, "\""+want+"\"") {
			t.Fatalf("the source handed out does not match its sha256")
		}
	}
	wg.Wait()
	var ok tools.CompleteTaskResult
	c.Call(ctx, tools.RuntimeCompleteTask, tools.CompleteTaskArgs{TaskID: task.ID, Text: "done"}, &ok)
	<-reply
}

func portOf(u string) string { return u[strings.LastIndexByte(u, ':')+1:] }

// TestScriptNeverGetsOAuthTokens: an approved version whose grants name an
// MCP server's OAuth token (stored as such directly, as a version approved
// before the parser refused them could be) still gets no value for it.
func TestScriptNeverGetsOAuthTokens(t *testing.T) {
	h := newHarness(t, orchestrator.Config{}, llm.Budget{})
	ctx := context.Background()
	h.setSecret(t, "MCP_OAUTH_CAL_ACCESS", "oauth-canary-token-0042")
	var got []string
	var mu sync.Mutex
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.URL.String())
		mu.Unlock()
	}))
	defer api.Close()
	src := "def f():\n    return 1\n"
	sum := sha256.Sum256([]byte(src))
	v := store.ScriptVersion{Name: "cal", SHA256: hex.EncodeToString(sum[:]), Source: src, Status: store.ScriptPending,
		Grants: store.Grants{Secrets: []string{"MCP_OAUTH_CAL_ACCESS"}, Hosts: []string{"127.0.0.1"}, TimeoutMS: 5000}}
	if _, _, err := h.store.InsertScriptVersion(ctx, v); err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.ApproveScript(ctx, store.ScriptDecision{Name: "cal", SHA256: v.SHA256, By: "admin"}); err != nil {
		t.Fatal(err)
	}
	c := h.client(t)
	reply := h.submit(t, h.conversation(t), "go")
	task := takeTask(t, c)
	var s tools.ScriptSource
	if err := c.Call(ctx, tools.RuntimeScriptSource, tools.ScriptSourceArgs{TaskID: task.ID, Name: "cal"}, &s); err != nil {
		t.Fatal(err)
	}
	var res tools.ScriptHTTPResult
	err := c.Call(ctx, tools.RuntimeScriptHTTP, tools.ScriptHTTPArgs{TaskID: task.ID, RunID: s.RunID, Method: "GET",
		URL: api.URL + "/?t=" + s.Placeholder + "MCP_OAUTH_CAL_ACCESS__"}, &res)
	if err == nil || !strings.Contains(err.Error(), "not granted") {
		t.Errorf("a script used an OAuth token: %+v %v", res, err)
	}
	mu.Lock()
	if len(got) != 0 {
		t.Errorf("the request went out: %q", got)
	}
	mu.Unlock()
	var ok tools.CompleteTaskResult
	c.Call(ctx, tools.RuntimeCompleteTask, tools.CompleteTaskArgs{TaskID: task.ID, Text: "done"}, &ok)
	<-reply
}
