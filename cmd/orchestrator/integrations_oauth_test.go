package main

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/integration/mcptest"
	"github.com/airlockhq/airlock/orchestrator/llm/llmtest"
)

var (
	csrfFieldRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
	oauthLinkRE = regexp.MustCompile(`id="oauth-continue"[^>]* href="([^"]+)"`)
)

// An OAuth-protected MCP server, end to end: the admin adds it by the API,
// authorizes it in a browser session (Authorize, the fake authorization
// server's consent, the callback), approves a tool, and the fake model
// calls it through the orchestrator. The access and refresh tokens are in
// no LLM request, log line, API response, page, conversation or the
// worker's environment; a server echoing the token gets it redacted.
func TestMCPServerOAuthEndToEnd(t *testing.T) {
	as := mcptest.NewAuthServer(t, "", "oat_E2ECANARY_")
	mark := mcptest.Mark(t, as.Protect(mcptest.Options{}))
	s := startStack(t, stackOpts{dev: true, env: []string{"AIRLOCK_EGRESS_ALLOW=127.0.0.1,localhost"}})
	s.waitReady()
	var seen strings.Builder
	var out json.RawMessage
	if code := s.do("POST", "/api/v1/mcp-servers", map[string]any{"name": "cal", "url": mark.URL, "auth_kind": "oauth"}, &out); code != http.StatusCreated ||
		!strings.Contains(string(out), `"state":"needs_authorization"`) {
		t.Fatalf("add: %d %s", code, out)
	}
	seen.Write(out)

	// A browser session: the login form, then Authorize.
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	page := func(method, path string, form url.Values) (int, string, string) {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, s.base+path, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		seen.Write(b)
		return resp.StatusCode, resp.Header.Get("Location"), string(b)
	}
	csrf := func(body string) string {
		m := csrfFieldRE.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no CSRF token in %s", body)
		}
		return m[1]
	}
	_, _, body := page("GET", "/login", nil)
	if code, _, _ := page("POST", "/login", url.Values{"csrf_token": {csrf(body)}, "username": {testAdmin}, "password": {testPassword}}); code != http.StatusSeeOther {
		t.Fatalf("login: %d", code)
	}
	_, _, body = page("GET", "/integrations", nil)
	code, _, body := page("POST", "/integrations/cal/oauth/authorize", url.Values{"csrf_token": {csrf(body)}})
	m := oauthLinkRE.FindStringSubmatch(body)
	if code != http.StatusOK || m == nil {
		t.Fatalf("authorize: %d %s", code, body)
	}
	q := as.Consent(t, html.UnescapeString(m[1]))
	code, loc, _ := page("GET", "/integrations/cal/oauth/callback?"+q.Encode(), nil)
	if code != http.StatusSeeOther || loc != "/integrations#server-cal" {
		t.Fatalf("callback: %d %s", code, loc)
	}

	var v struct {
		State string `json:"state"`
		Tools []struct{ Name, SHA256 string }
	}
	s.do("GET", "/api/v1/mcp-servers/cal", nil, &v)
	if v.State != "connected" {
		t.Fatalf("state after authorization: %s", v.State)
	}
	for _, tl := range v.Tools {
		if tl.Name == "echo" || tl.Name == "whoami" {
			if code := s.do("POST", "/api/v1/mcp-servers/cal/tools/approve", map[string]any{"tool": tl.Name, "sha256": tl.SHA256}, &out); code != http.StatusOK {
				t.Fatalf("approve %s: %d", tl.Name, code)
			}
			seen.Write(out)
		}
	}

	s.llm.Enqueue(llmtest.Reply{ToolCalls: []llmtest.Call{
		{Name: "cal__echo", Args: `{"text":"from the calendar"}`},
		{Name: "cal__whoami", Args: `{}`},
	}}, llmtest.Reply{Text: "done"})
	conv := s.newConversation()
	if r := s.send(conv, "what is on my calendar?"); r.Failed || r.Reply != "done" {
		t.Fatalf("reply = %+v", r)
	}
	reqs := s.llm.Requests()
	if len(reqs) != 2 {
		t.Fatalf("LLM requests: %d", len(reqs))
	}
	var results []string
	for _, m := range reqs[1].Messages {
		if m.Role == tools.RoleTool {
			results = append(results, m.Content)
		}
	}
	if len(results) != 2 || !strings.Contains(results[0], "from the calendar") ||
		!strings.Contains(results[1], "[REDACTED:MCP_OAUTH_CAL_ACCESS]") {
		t.Fatalf("tool results: %q", results)
	}
	for i, r := range reqs {
		seen.WriteString("\nLLM request " + strconv.Itoa(i) + ": ")
		seen.Write(r.Body)
	}
	s.do("GET", "/api/v1/conversations/"+conv, nil, &out)
	seen.Write(out)
	s.do("GET", "/api/v1/mcp-servers", nil, &out)
	seen.Write(out)
	s.do("GET", "/api/v1/audit?limit=500", nil, &out)
	seen.Write(out)
	page("GET", "/integrations", nil)
	page("GET", "/", nil)
	page("GET", "/secrets", nil)
	seen.WriteString(s.logs.String())
	env, err := os.ReadFile("/proc/" + strconv.Itoa(s.workerPID()) + "/environ")
	if err != nil {
		t.Fatal(err)
	}
	seen.Write(env)
	issued := as.Issued()
	if len(issued) != 2 {
		t.Fatalf("issued tokens: %d", len(issued))
	}
	for _, tok := range issued {
		if strings.Contains(seen.String(), tok) {
			t.Fatal("an OAuth token is in an LLM request, a log, a response, a page or the worker's environment")
		}
	}
	if !strings.Contains(string(out), "mcp_server.oauth_authorized") {
		t.Error("the authorization was not audited")
	}
	s.verifyAudit()
}
