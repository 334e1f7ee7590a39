package admin

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/secure/redact"
)

const leakCanary = "canary-secret-value-7f3a9c1e5b"

// TestNoResponseLeaksASecret: a vault secret planted raw where pages and
// the API read (a message, a conversation title, an audit detail, a
// script's source and description, a session's user agent, a memory note) never appears in
// any response body of any route, in clear or in a common encoding; only
// its marker does.
func TestNoResponseLeaksASecret(t *testing.T) {
	holder := &redact.Holder{}
	e := newEnv(t, func(d *Deps) { d.Redactor = holder })
	ctx := context.Background()
	if _, err := e.vault.Set(ctx, "CANARY_TOKEN", leakCanary); err != nil {
		t.Fatal(err)
	}
	r, err := redact.New([]redact.Secret{{Name: "CANARY_TOKEN", Value: leakCanary}})
	if err != nil {
		t.Fatal(err)
	}
	holder.Store(r)
	e.setup()

	// Plant the value raw in everything the UI shows (the store and the
	// audit log of this test have no redactor of their own).
	conv, err := e.store.CreateConversation(ctx, store.SourceWeb, "title "+leakCanary)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.AddMessage(ctx, store.Message{ConversationID: conv.ID, Role: tools.RoleUser,
		Content: "my key is " + leakCanary}); err != nil {
		t.Fatal(err)
	}
	e.audit.Append(ctx, audit.Event{Actor: "test", Action: "test.planted", Target: leakCanary, Outcome: "ok",
		Details: map[string]any{"value": leakCanary, "b64": base64.StdEncoding.EncodeToString([]byte(leakCanary))}})
	if _, _, err := e.store.WriteMemory(ctx, store.MemoryNote{Audience: store.DiscordUserAudience("100000000000000003"),
		Text: "the key is " + leakCanary}, false, 0); err != nil {
		t.Fatal(err)
	}
	src := "# @description: leaks " + leakCanary + "\n" + `result = "` + leakCanary + `"` + "\n"
	res, err := e.approval.Propose(ctx, "leaky", src, "worker")
	if err != nil {
		t.Fatal(err)
	}
	b := e.login()
	tok := e.apiToken()
	// The token the API hands out survives the redactor's JWT detector.
	if code := e.api(tok, "GET", "/api/v1/status", nil, nil); code != http.StatusOK {
		t.Fatalf("the API token from login does not work through a redacting server: %d", code)
	}

	forms := []string{leakCanary, base64.StdEncoding.EncodeToString([]byte(leakCanary)),
		base64.RawURLEncoding.EncodeToString([]byte(leakCanary)), hex.EncodeToString([]byte(leakCanary)),
		url.QueryEscape(leakCanary)}
	check := func(what string, body string) {
		t.Helper()
		for _, f := range forms {
			if strings.Contains(body, f) {
				t.Errorf("%s: the response contains the secret (%q)", what, f)
			}
		}
	}
	marked := 0
	for _, rt := range allRoutes(t, e.server.Handler()) {
		if rt.method != "GET" || strings.HasSuffix(rt.pattern, "/events") {
			continue
		}
		path := strings.NewReplacer("c_x", conv.ID, "weather", "leaky", strings.Repeat("a", 64), res.SHA256).Replace(rt.path)
		for _, p := range []string{path, path + "?sha256=" + res.SHA256, path + "?limit=500"} {
			var body string
			if strings.HasPrefix(p, "/api/") {
				req, _ := http.NewRequest("GET", e.srv.URL+p, nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				raw, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				body = string(raw)
			} else {
				_, body = b.get(p)
			}
			check("GET "+p, body)
			if strings.Contains(body, "[REDACTED:CANARY_TOKEN]") {
				marked++
			} else if strings.HasSuffix(rt.pattern, "/memory") {
				t.Errorf("GET %s does not show the planted note's marker", p)
			}
		}
	}
	if marked < 5 {
		t.Errorf("only %d responses showed the marker; the planted values did not reach the pages", marked)
	}
	// Error answers and a settings form error echo nothing either.
	_, _, body := b.post("/secrets", url.Values{"name": {"bad name"}, "value": {leakCanary}})
	check("POST /secrets with a bad name", body)
	_, _, body = b.post("/settings", url.Values{"llm.model": {"has space " + leakCanary}})
	check("POST /settings with a bad model", body)
}
