package deploy_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// enqueueLLM scripts the fake LLM from inside the airlock container (the
// fake is reachable only on the compose network) with busybox wget.
func (s *stack) enqueueLLM(ctx context.Context, t *testing.T, replies any) {
	t.Helper()
	body, _ := json.Marshal(replies)
	out, err := s.exec(ctx, "10001", "wget", "-q", "-O-", "--header", "Content-Type: application/json",
		"--post-data", string(body), "http://fakellm:9999/_fake/enqueue")
	if err != nil {
		t.Fatalf("enqueue fake LLM replies: %v %s", err, out)
	}
}

// proposeScript has the fake model propose a script and returns its sha256.
func proposeScript(ctx context.Context, t *testing.T, s *stack, a api, name, source string) string {
	t.Helper()
	s.enqueueLLM(ctx, t, []map[string]any{
		{"tool_calls": []map[string]any{{"name": "script_propose", "args": map[string]any{"name": name, "source": source}}}},
		{"text": "proposed"},
	})
	if _, reply, err := a.chat(ctx, "", "write a script"); err != nil || reply != "proposed" {
		t.Fatalf("chat: %q %v", reply, err)
	}
	var st struct {
		Status struct {
			Latest struct {
				SHA256 string `json:"sha256"`
				Status string `json:"status"`
			} `json:"latest"`
		} `json:"status"`
	}
	if code, err := a.do(ctx, "GET", "/api/v1/scripts/"+name, nil, &st); err != nil || code != http.StatusOK ||
		st.Status.Latest.Status != "pending" {
		t.Fatalf("GET script %s: %d %v %+v", name, code, err, st)
	}
	return st.Status.Latest.SHA256
}

type testRun struct {
	OK     bool   `json:"ok"`
	Output string `json:"output"`
}

// checkScripts runs scripts in the sandbox inside the hardened container:
// a computation, then a memory bomb that the sandbox stops cleanly, then
// the computation again.
func checkScripts(ctx context.Context, t *testing.T, s *stack, a api) {
	calc := proposeScript(ctx, t, s, a, "calc", "# @description: doubles\ndef main(x):\n    return x * 2\n")
	if code, err := a.do(ctx, "POST", "/api/v1/scripts/calc/versions/"+calc+"/approve", nil, nil); err != nil || code != http.StatusOK {
		t.Fatalf("approve: %d %v", code, err)
	}
	run := func(name string, args []any) testRun {
		var r testRun
		if code, err := a.do(ctx, "POST", "/api/v1/scripts/"+name+"/test", map[string]any{"function": "main", "args": args}, &r); err != nil || code != http.StatusOK {
			t.Fatalf("test run of %s: %d %v", name, code, err)
		}
		return r
	}
	if r := run("calc", []any{21}); !r.OK || !strings.Contains(r.Output, `"result":42`) {
		t.Fatalf("calc in the container: %+v", r)
	}
	bomb := proposeScript(ctx, t, s, a, "bomb", "# @description: allocates\ndef main():\n    l = []\n    for i in range(1 << 40):\n        l.append(\"x\" * 100000)\n    return len(l)\n")
	var r testRun
	if code, err := a.do(ctx, "POST", "/api/v1/scripts/bomb/test", map[string]any{"sha256": bomb, "function": "main"}, &r); err != nil ||
		code != http.StatusOK || r.OK || !strings.Contains(r.Output, "memory") {
		t.Fatalf("memory bomb in the container: %d %v %+v", code, err, r)
	}
	if r := run("calc", []any{4}); !r.OK || !strings.Contains(r.Output, `"result":8`) {
		t.Fatalf("after the bomb: %+v", r)
	}
}
