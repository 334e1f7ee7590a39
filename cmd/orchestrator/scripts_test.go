package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/llm/llmtest"
)

const weatherKey = "wk-canary-9f8e7d6c5b4a"

func weatherSource(apiURL, version string) string {
	return fmt.Sprintf(`# @description: Current weather for a city
# @secrets: WEATHER_API_KEY
# @hosts: 127.0.0.1
# @timeout: 5s

def current(city):
    key = secret("WEATHER_API_KEY")
    r = http.get(%q + "/v1/current?q=" + city, headers={"X-Api-Key": key})
    return {"version": %q, "status": r.status, "body": json.decode(r.body),
            "reversed": key[::-1], "ords": [ord(c) for c in key.elems()][:4]}
`, apiURL, version)
}

// lastToolResult returns the tool result the model saw last.
func (s *stack) lastToolResult() tools.Message {
	s.t.Helper()
	reqs := s.llm.Requests()
	if len(reqs) == 0 {
		s.t.Fatal("no LLM requests")
	}
	msgs := reqs[len(reqs)-1].Messages
	return msgs[len(msgs)-1]
}

// callTool has the fake model call one tool in a new turn and returns the
// result the model saw.
func (s *stack) callTool(conv, name string, args map[string]any) tools.Message {
	s.t.Helper()
	s.llm.Reset()
	s.llm.Enqueue(llmtest.Reply{ToolCalls: []llmtest.Call{{Name: name, Args: args}}}, llmtest.Reply{Text: "ok"})
	if r := s.send(conv, "please use "+name); r.Failed {
		s.t.Fatalf("%s: the turn failed: %+v", name, r)
	}
	return s.lastToolResult()
}

func TestScriptLifecycle(t *testing.T) {
	var mu sync.Mutex
	var keysSeen []string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		keysSeen = append(keysSeen, r.Header.Get("X-Api-Key"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"city": %q, "temp_c": 21, "echo": %q}`, r.URL.Query().Get("q"), r.Header.Get("X-Api-Key"))
	}))
	defer api.Close()
	s := startStack(t, stackOpts{dev: true, env: []string{"AIRLOCK_EGRESS_ALLOW=127.0.0.1"}})
	s.waitReady()
	if code := s.do("PUT", "/api/v1/secrets/WEATHER_API_KEY", map[string]string{"value": weatherKey}, nil); code != http.StatusCreated {
		t.Fatalf("PUT secret: %d", code)
	}
	conv := s.newConversation()
	run := map[string]any{"name": "weather", "function": "current", "args": []any{"Paris"}}

	// Proposed by the model: pending, with its sha256.
	res := s.callTool(conv, tools.ScriptPropose, map[string]any{"name": "weather", "source": weatherSource(api.URL, "v1")})
	var prop tools.ScriptProposeResult
	if err := json.Unmarshal([]byte(res.Content), &prop); err != nil || prop.Status != tools.ScriptPending || len(prop.SHA256) != 64 {
		t.Fatalf("script_propose result = %q (%v)", res.Content, err)
	}
	v1 := prop.SHA256

	// Not approved: refused, and the API was never called.
	res = s.callTool(conv, tools.ScriptRun, run)
	if !strings.Contains(res.Content, "no approved version") {
		t.Fatalf("run before approval: %q", res.Content)
	}
	if len(keysSeen) != 0 {
		t.Fatal("an unapproved script reached the API")
	}

	if code := s.do("POST", "/api/v1/scripts/weather/versions/"+v1+"/approve", nil, nil); code != http.StatusOK {
		t.Fatalf("approve: %d", code)
	}
	res = s.callTool(conv, tools.ScriptRun, run)
	if res.IsError || !strings.Contains(res.Content, `"version":"v1"`) || !strings.Contains(res.Content, `"temp_c":21`) {
		t.Fatalf("approved run: %q", res.Content)
	}
	mu.Lock()
	if len(keysSeen) != 1 || keysSeen[0] != weatherKey {
		t.Errorf("the API received %q; want the real key", keysSeen)
	}
	mu.Unlock()
	if strings.Contains(res.Content, weatherKey) || !strings.Contains(res.Content, `"echo":"[REDACTED:WEATHER_API_KEY]"`) {
		t.Errorf("the echoed key was not redacted: %q", res.Content)
	}
	reversed := func(s string) string {
		b := []byte(s)
		for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
			b[i], b[j] = b[j], b[i]
		}
		return string(b)
	}
	if strings.Contains(res.Content, reversed(weatherKey)) || !strings.Contains(res.Content, "__YEK_IPA_REHTAEW_") {
		t.Errorf("the script held something other than the placeholder: %q", res.Content)
	}

	// A new version waits; v1 keeps running until v2 is approved.
	res = s.callTool(conv, tools.ScriptPropose, map[string]any{"name": "weather", "source": weatherSource(api.URL, "v2")})
	if err := json.Unmarshal([]byte(res.Content), &prop); err != nil || prop.Status != tools.ScriptPending || prop.SHA256 == v1 {
		t.Fatalf("v2 proposal = %q", res.Content)
	}
	v2 := prop.SHA256
	if res = s.callTool(conv, tools.ScriptRun, run); !strings.Contains(res.Content, `"version":"v1"`) {
		t.Fatalf("with v2 pending, the run was not v1: %q", res.Content)
	}
	if code := s.do("POST", "/api/v1/scripts/weather/versions/"+v2+"/approve", nil, nil); code != http.StatusOK {
		t.Fatalf("approve v2: %d", code)
	}
	if res = s.callTool(conv, tools.ScriptRun, run); !strings.Contains(res.Content, `"version":"v2"`) {
		t.Fatalf("after approving v2: %q", res.Content)
	}

	// Admin test runs: the approved version by default; a pending version
	// runs without network access.
	var tr struct {
		OK     bool   `json:"ok"`
		Output string `json:"output"`
	}
	if code := s.do("POST", "/api/v1/scripts/weather/test", map[string]any{"function": "current", "args": []any{"Lyon"}}, &tr); code != http.StatusOK ||
		!tr.OK || !strings.Contains(tr.Output, `"version":"v2"`) || !strings.Contains(tr.Output, `"city":"Lyon"`) {
		t.Fatalf("test run of the approved version: %d %+v", code, tr)
	}
	res = s.callTool(conv, tools.ScriptPropose, map[string]any{"name": "weather", "source": weatherSource(api.URL, "v3")})
	if err := json.Unmarshal([]byte(res.Content), &prop); err != nil || prop.Status != tools.ScriptPending {
		t.Fatalf("v3 proposal = %q", res.Content)
	}
	mu.Lock()
	calls := len(keysSeen)
	mu.Unlock()
	if code := s.do("POST", "/api/v1/scripts/weather/test", map[string]any{"sha256": prop.SHA256, "function": "current",
		"args": []any{"Nice"}}, &tr); code != http.StatusOK || tr.OK || !strings.Contains(tr.Output, "HTTP is disabled") {
		t.Fatalf("test run of a pending version: %d %+v", code, tr)
	}
	mu.Lock()
	if len(keysSeen) != calls {
		t.Error("a pending version's test run reached the API")
	}
	mu.Unlock()

	// Revoked: the very next run is refused, no restart.
	if code := s.do("POST", "/api/v1/scripts/weather/revoke", map[string]string{"reason": "test"}, nil); code != http.StatusOK {
		t.Fatalf("revoke: %d", code)
	}
	if res = s.callTool(conv, tools.ScriptRun, run); !strings.Contains(res.Content, "no approved version") {
		t.Fatalf("after revoke: %q", res.Content)
	}

	var audit struct {
		Entries []struct{ Action, Outcome string } `json:"entries"`
	}
	s.do("GET", "/api/v1/audit?limit=500", nil, &audit)
	seen := map[string]bool{}
	for _, e := range audit.Entries {
		seen[e.Action+"/"+e.Outcome] = true
	}
	for _, want := range []string{"script.proposed/ok", "script.approved/ok", "script.run/ok", "script.run/denied",
		"script.http/ok", "script.http/denied", "script.test/ok", "script.revoked/ok"} {
		if !seen[want] {
			t.Errorf("audit log lacks %s", want)
		}
	}
	s.verifyAudit()
}
