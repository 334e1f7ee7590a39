package main

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/llm/llmtest"
)

// forms returns a value and the encodings the redactor promises to catch.
func forms(v string) []string {
	j, _ := json.Marshal(v)
	out := []string{v,
		base64.StdEncoding.EncodeToString([]byte(v)), base64.RawStdEncoding.EncodeToString([]byte(v)),
		base64.URLEncoding.EncodeToString([]byte(v)), base64.RawURLEncoding.EncodeToString([]byte(v)),
		hex.EncodeToString([]byte(v)), strings.ToUpper(hex.EncodeToString([]byte(v))),
		url.QueryEscape(v), url.PathEscape(v), string(j[1 : len(j)-1]),
	}
	return out
}

// TestCanarySecretsNeverLeave: canary secrets in the vault (added while
// running) and in the orchestrator's environment, echoed raw and encoded by
// tool results, a web page, the user and the model, appear in no form in
// what the LLM receives, the logs, the reply, the API, or the worker's
// environment.
func TestCanarySecretsNeverLeave(t *testing.T) {
	const vaultCanary = `CANARY-vault-"weather"<&>-7f3a9c`
	const envCanary = "CANARYdiscordENV.token-55aa11"
	canaries := []string{canaryKey, vaultCanary, envCanary}
	var all []string
	for _, c := range canaries {
		all = append(all, forms(c)...)
	}
	leakText := "secrets follow:\n" + strings.Join(all, "\n") + "\n"

	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, leakText)
	}))
	defer page.Close()
	s := startStack(t, stackOpts{dev: true, env: []string{"DISCORD_TOKEN=" + envCanary,
		"AIRLOCK_EGRESS_ALLOW=127.0.0.1", "AIRLOCK_LOG_LEVEL=debug"}})
	s.waitReady()

	// Added at run time: redacted from the next call on, no restart.
	if code := s.do("PUT", "/api/v1/secrets/WEATHER_API_KEY", map[string]string{"value": vaultCanary}, nil); code != http.StatusCreated {
		t.Fatalf("PUT secret: %d", code)
	}
	if err := os.WriteFile(filepath.Join(s.dataDir, "workspace", "leak.md"), []byte(leakText), 0o600); err != nil {
		t.Fatal(err)
	}
	s.llm.Enqueue(
		llmtest.Reply{ToolCalls: []llmtest.Call{{Name: tools.WorkspaceRead, Args: map[string]any{"path": "leak.md"}}}},
		llmtest.Reply{ToolCalls: []llmtest.Call{{Name: tools.WebFetch, Args: map[string]any{"url": page.URL + "/leak"}}}},
		llmtest.Reply{ToolCalls: []llmtest.Call{{Name: tools.ChatSend, Args: map[string]any{"text": "psst " + vaultCanary}},
			{Name: tools.MemoryWrite, Args: map[string]any{"content": "token " + envCanary}}}},
		llmtest.Reply{Text: "Here you go: " + leakText},
	)
	conv := s.newConversation()
	r := s.send(conv, "my key is "+canaryKey+" and "+base64.StdEncoding.EncodeToString([]byte(vaultCanary)))

	check := func(where, text string) {
		t.Helper()
		for _, f := range all {
			if strings.Contains(text, f) {
				t.Errorf("%s contains a canary form %q", where, f)
			}
		}
	}
	check("the reply", r.Reply)
	if !strings.Contains(r.Reply, "[REDACTED:") {
		t.Errorf("the reply shows no redaction marker: %q", r.Reply)
	}
	reqs := s.llm.Requests()
	if len(reqs) != 4 {
		t.Fatalf("LLM requests = %d; want 4", len(reqs))
	}
	for i, req := range reqs {
		check(fmt.Sprintf("LLM request %d body", i), string(req.Body))
		check(fmt.Sprintf("LLM request %d system", i), req.System)
	}
	last := string(reqs[3].Body)
	for _, want := range []string{"[REDACTED:WEATHER_API_KEY]", "[REDACTED:DISCORD_TOKEN]", "[REDACTED:LLM_API_KEY]"} {
		if !strings.Contains(last, want) {
			t.Errorf("the last LLM request lacks %s: the redactor did not see that secret", want)
		}
	}

	// An admin pastes a key into USER.md, which the orchestrator puts in
	// the system prompt itself: the request body redactor stands there.
	userMD := "The user's weather key is " + vaultCanary + "\n"
	if err := os.WriteFile(filepath.Join(s.dataDir, "workspace", "USER.md"), []byte(userMD), 0o600); err != nil {
		t.Fatal(err)
	}
	s.llm.Reset()
	r2 := s.send(s.newConversation(), "what do you remember?")
	check("the second reply", r2.Reply)
	reqs = s.llm.Requests()
	if len(reqs) != 1 || !strings.Contains(reqs[0].System, "token [REDACTED:DISCORD_TOKEN]") ||
		!strings.Contains(reqs[0].System, "weather key is [REDACTED:WEATHER_API_KEY]") {
		t.Errorf("memory and USER.md did not reach the next system prompt redacted (%d requests)", len(reqs))
	}
	for _, req := range reqs {
		check("the second conversation's LLM request", string(req.Body))
	}

	var raw json.RawMessage
	for _, path := range []string{"/api/v1/conversations/" + conv, "/api/v1/conversations", "/api/v1/audit?limit=500",
		"/api/v1/secrets", "/api/v1/status"} {
		s.do("GET", path, nil, &raw)
		check("GET "+path, string(raw))
	}
	var secretsList struct {
		Secrets []struct{ Name, Origin string }
	}
	s.do("GET", "/api/v1/secrets", nil, &secretsList)
	origins := map[string]string{}
	for _, sc := range secretsList.Secrets {
		origins[sc.Name] = sc.Origin
	}
	if origins["WEATHER_API_KEY"] != "vault" || !strings.Contains(origins["DISCORD_TOKEN"], "environment") ||
		!strings.Contains(origins["LLM_API_KEY"], "environment") {
		t.Errorf("secret origins = %v", origins)
	}

	env, err := os.ReadFile("/proc/" + strconv.Itoa(s.workerPID()) + "/environ")
	if err != nil {
		t.Fatal(err)
	}
	check("the worker's environment", string(env))
	s.stop()
	check("the logs", s.logs.String())
	if !strings.Contains(s.logs.String(), "level=DEBUG") {
		t.Error("debug logging was not on; the log check saw less than it should")
	}
}

// escapedForms returns v with every character as a JSON \u00XX escape, in
// lower- and upper-case hex, and with every other character escaped.
func escapedForms(v string) (lower, upper, mixed string) {
	var l, u, m strings.Builder
	for i, c := range []byte(v) {
		fmt.Fprintf(&l, `\u%04x`, c)
		fmt.Fprintf(&u, `\u%04X`, c)
		if i%2 == 0 {
			fmt.Fprintf(&m, `\u%04X`, c)
		} else {
			m.WriteByte(c)
		}
	}
	return l.String(), u.String(), m.String()
}

// TestCanaryEscapedToolArguments: through both providers, the model puts
// a vault secret into tool-call arguments with every character written as
// a JSON \u00XX escape. The orchestrator redacts the decoded arguments:
// web_fetch refuses the URL (the web host sees no request), the memory
// note (as the Memory API shows it) and the workspace file hold a marker, and neither the conversation API nor
// the next provider request carries the secret in any form.
func TestCanaryEscapedToolArguments(t *testing.T) {
	const canary = "CANARYh2esc-9f8e7d6c5b"
	lower, upper, mixed := escapedForms(canary)
	all := append(forms(canary), lower, upper, mixed)
	for _, provider := range []string{"openai", "anthropic"} {
		t.Run(provider, func(t *testing.T) {
			var hits atomic.Int32
			page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				fmt.Fprint(w, "hello")
			}))
			defer page.Close()
			s := startStack(t, stackOpts{dev: true, anthropic: provider == "anthropic",
				env: []string{"AIRLOCK_EGRESS_ALLOW=127.0.0.1"}})
			s.waitReady()
			if code := s.do("PUT", "/api/v1/secrets/ESC_CANARY", map[string]string{"value": canary}, nil); code != http.StatusCreated {
				t.Fatalf("PUT secret: %d", code)
			}
			s.llm.Enqueue(llmtest.Reply{ToolCalls: []llmtest.Call{
				{Name: tools.WebFetch, Args: `{"url":"` + page.URL + `/?key=` + lower + `"}`},
				{Name: tools.MemoryWrite, Args: `{"content":"the key is ` + upper + `\n"}`},
				{Name: tools.WorkspaceWrite, Args: `{"path":"keys.md","content":"key: ` + mixed + `\n"}`},
			}}, llmtest.Reply{Text: "done"})
			conv := s.newConversation()
			if r := s.send(conv, "store my key"); r.Failed || r.Reply != "done" {
				t.Fatalf("reply = %+v", r)
			}

			check := func(where, text string) {
				t.Helper()
				if strings.Contains(text, canary) {
					t.Errorf("%s contains the canary", where)
				}
				for _, f := range all {
					if strings.Contains(text, f) {
						t.Errorf("%s contains an encoded form of the canary", where)
						return
					}
				}
			}
			if n := hits.Load(); n != 0 {
				t.Errorf("the web host received %d requests; want none", n)
			}
			b, err := os.ReadFile(filepath.Join(s.dataDir, "workspace", "keys.md"))
			if err != nil {
				t.Fatal(err)
			}
			var notes json.RawMessage
			if code := s.do("GET", "/api/v1/memory", nil, &notes); code != http.StatusOK {
				t.Fatalf("GET /api/v1/memory: %d", code)
			}
			for name, text := range map[string]string{"keys.md": string(b), "GET /api/v1/memory": string(notes)} {
				check(name, text)
				if !strings.Contains(text, "[REDACTED:ESC_CANARY]") {
					t.Errorf("%s holds no marker", name)
				}
			}

			var raw json.RawMessage
			s.do("GET", "/api/v1/conversations/"+conv, nil, &raw)
			check("GET /api/v1/conversations/{id}", string(raw))
			var calls int
			for _, m := range s.messages(conv) {
				calls += len(m.ToolCalls)
			}
			if calls != 3 {
				t.Errorf("the conversation shows %d tool calls; want 3", calls)
			}
			var convJSON struct {
				Messages []struct {
					ToolCalls []struct {
						Arguments json.RawMessage `json:"arguments"`
					} `json:"tool_calls"`
				} `json:"messages"`
			}
			if err := json.Unmarshal(raw, &convJSON); err != nil {
				t.Fatal(err)
			}
			for _, m := range convJSON.Messages {
				for _, tc := range m.ToolCalls {
					check("stored tool-call arguments, decoded", decodeStrings(t, tc.Arguments))
				}
			}

			reqs := s.llm.Requests()
			if len(reqs) != 2 {
				t.Fatalf("LLM requests = %d; want 2", len(reqs))
			}
			check("the second LLM request body", string(reqs[1].Body))
			var refused bool
			for _, m := range reqs[1].Messages {
				for _, tc := range m.ToolCalls {
					check("tool-call arguments the provider decodes", decodeStrings(t, tc.Arguments))
				}
				if m.Role == tools.RoleTool && strings.Contains(m.Content, "carries a secret value (ESC_CANARY)") {
					refused = true
				}
			}
			if !refused {
				t.Error("the model was not told why web_fetch was refused")
			}
			var audit struct {
				Entries []struct {
					Outcome string          `json:"outcome"`
					Details json.RawMessage `json:"details"`
				} `json:"entries"`
			}
			s.do("GET", "/api/v1/audit?action=web.fetch", nil, &audit)
			if len(audit.Entries) != 1 || audit.Entries[0].Outcome != "denied" ||
				!strings.Contains(string(audit.Entries[0].Details), "ESC_CANARY") {
				t.Errorf("web.fetch audit entries = %+v", audit.Entries)
			}
			s.stop()
			check("the logs", s.logs.String())
		})
	}
}

// decodeStrings returns every string in a JSON value (keys included),
// decoded, one per line; a JSON string holding JSON is decoded again.
func decodeStrings(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("arguments are not JSON: %v", err)
	}
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			b.WriteString(x + "\n")
			var inner any
			if json.Unmarshal([]byte(x), &inner) == nil {
				walk(inner)
			}
		case map[string]any:
			for k, e := range x {
				b.WriteString(k + "\n")
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return b.String()
}
