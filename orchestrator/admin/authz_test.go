package admin

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/airlockhq/airlock/orchestrator/auth"
	"github.com/airlockhq/airlock/orchestrator/store"
)

// publicRoutes need no authentication; every other route must refuse
// anything but a valid token of the right type.
var publicRoutes = map[string]bool{
	"GET /healthz": true, "GET /readyz": true, "GET /metrics": true, "GET /static/*": true,
	"GET /setup": true, "POST /setup": true, "GET /login": true, "POST /login": true,
	"GET /api/v1/setup": true, "POST /api/v1/setup": true, "POST /api/v1/auth/login": true,
}

type route struct{ method, pattern, path string }

// allRoutes walks the router: a route added later is covered without
// editing this test.
func allRoutes(t *testing.T, h http.Handler) []route {
	t.Helper()
	var out []route
	err := chi.Walk(h.(chi.Routes), func(method, pattern string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		path := strings.NewReplacer("{name}", "weather", "{tool}", "echo", "{sha256}", strings.Repeat("a", 64), "{id}", "c_x",
			"{action}", "pause", "/*", "/x").Replace(pattern)
		out = append(out, route{method, pattern, path})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 50 {
		t.Fatalf("walked only %d routes", len(out))
	}
	return out
}

// forged are tokens that must never be accepted, each with a reason.
func forgedTokens(t *testing.T, e *env) map[string]string {
	t.Helper()
	ctx := context.Background()
	login := func(a *auth.Service, typ string) (string, auth.Session) {
		tok, ss, err := a.Login(ctx, adminUser, adminPass, "127.0.0.9", "test", typ)
		if err != nil {
			t.Fatal(err)
		}
		return tok, ss
	}
	// A service a month in the past signs with the same keys: its tokens
	// (12 hours for sessions, 30 days for API tokens) expired since.
	past, err := auth.New(auth.Config{Store: e.store, ServerKey: e.key, Hasher: cheapHasher,
		Now: func() time.Time { return time.Now().Add(-31 * 24 * time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, typ := range []string{auth.TypeSession, auth.TypeAPI} {
		expired, _ := login(past, typ)
		good, _ := login(e.auth, typ)
		parts := strings.Split(good, ".")
		sig := []byte(parts[2])
		sig[3] ^= 1
		if sig[3] == parts[2][3] {
			sig[3]++
		}
		none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
		revoked, ss := login(e.auth, typ)
		if err := e.auth.Logout(ctx, ss.ID); err != nil {
			t.Fatal(err)
		}
		out[typ+" expired"] = expired
		out[typ+" tampered signature"] = parts[0] + "." + parts[1] + "." + string(sig)
		out[typ+" alg none"] = none
		out[typ+" revoked session"] = revoked
		out[typ+" garbage"] = "not.a.jwt"
	}
	return out
}

// TestAuthorizationMatrix: every protected page and API route refuses the
// anonymous, expired, tampered, alg:none, wrong-type and revoked tokens;
// every state-changing page route refuses a missing CSRF token and a
// cross-site request; the admin gets through.
func TestAuthorizationMatrix(t *testing.T) {
	e := newEnv(t)
	e.setup()
	routes := allRoutes(t, e.server.Handler())
	forged := forgedTokens(t, e)
	apiTok := e.apiToken()
	b := e.login()
	sessionCookie := func() string {
		u, _ := url.Parse(e.srv.URL)
		for _, c := range b.c.Jar.Cookies(u) {
			if c.Name == "airlock_session" {
				return c.Value
			}
		}
		t.Fatal("no session cookie")
		return ""
	}()

	send := func(method, path string, hdr map[string]string, form url.Values) *http.Response {
		t.Helper()
		if form == nil {
			form = url.Values{}
		}
		req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if strings.HasPrefix(path, "/api/") {
			req.Header.Set("Content-Type", "application/json")
			req.Body = http.NoBody
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	// refused: a page GET is sent to the login page, anything else is 401
	// or 403. Never a 2xx, never a 5xx.
	refused := func(rt route, resp *http.Response) bool {
		if resp.StatusCode == http.StatusSeeOther && rt.method == "GET" && !strings.HasPrefix(rt.path, "/api/") {
			return strings.HasPrefix(resp.Header.Get("Location"), "/login")
		}
		return resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden
	}
	sameOrigin := map[string]string{"Origin": e.srv.URL, "Sec-Fetch-Site": "same-origin"}
	with := func(m map[string]string, k, v string) map[string]string {
		out := map[string]string{}
		for a, b := range m {
			out[a] = b
		}
		out[k] = v
		return out
	}

	// Routes that must be in the walk (a renamed one would silently drop
	// out of the matrix otherwise).
	walked := map[string]bool{}
	for _, rt := range routes {
		walked[rt.method+" "+rt.pattern] = true
	}
	for _, want := range []string{"GET /memory", "POST /memory/{id}/share", "POST /memory/{id}/delete",
		"GET /api/v1/memory", "POST /api/v1/memory/{id}/share", "DELETE /api/v1/memory/{id}",
		"GET /secrets", "POST /chat/{id}/messages", "PUT /api/v1/settings",
		// Memory under review (issue 16).
		"GET /memory/history", "GET /memory/versions/{id}", "POST /memory/versions/{id}/restore",
		"POST /memory/{id}/edit", "POST /memory/{id}/pin", "POST /memory/pending/{id}/approve",
		"POST /memory/pending/{id}/reject", "PUT /api/v1/memory/{id}", "POST /api/v1/memory/{id}/pin",
		"GET /api/v1/memory/versions", "GET /api/v1/memory/versions/{id}", "GET /api/v1/memory/versions/{id}/diff",
		"POST /api/v1/memory/versions/{id}/restore", "GET /api/v1/memory/pending",
		"POST /api/v1/memory/pending/{id}/approve", "POST /api/v1/memory/pending/{id}/reject",
		"GET /api/v1/usage",  // issue 16: cost and tokens
		"GET /api/v1/doctor", // issue 17
	} {
		if !walked[want] {
			t.Errorf("route %s is not in the router", want)
		}
	}
	// External MCP servers (issue 15).
	for _, want := range []string{"GET /integrations", "POST /integrations", "POST /integrations/{name}/delete",
		"POST /integrations/{name}/refresh", "POST /integrations/{name}/tools/{tool}/approve",
		"POST /integrations/{name}/tools/{tool}/deny", "GET /api/v1/mcp-servers", "POST /api/v1/mcp-servers",
		"GET /api/v1/mcp-servers/{name}", "DELETE /api/v1/mcp-servers/{name}", "POST /api/v1/mcp-servers/{name}/refresh",
		"POST /api/v1/mcp-servers/{name}/tools/{tool}/approve", "POST /api/v1/mcp-servers/{name}/tools/{tool}/deny",
		// OAuth and tool names in a field (issue 15, OAuth 2.1).
		"POST /integrations/{name}/oauth/authorize", "GET /integrations/{name}/oauth/callback",
		"POST /integrations/{name}/tools/approve", "POST /integrations/{name}/tools/deny",
		"POST /api/v1/mcp-servers/{name}/tools/approve", "POST /api/v1/mcp-servers/{name}/tools/deny"} {
		if !walked[want] {
			t.Errorf("route %s is not in the router", want)
		}
	}
	// Backups (issue 18).
	for _, want := range []string{"GET /backups", "POST /backups", "POST /backups/{name}/download",
		"GET /api/v1/backups", "POST /api/v1/backups", "POST /api/v1/backups/{name}/download"} {
		if !walked[want] {
			t.Errorf("route %s is not in the router", want)
		}
	}

	checked := 0
	for _, rt := range routes {
		if publicRoutes[rt.method+" "+rt.pattern] {
			continue
		}
		checked++
		api := strings.HasPrefix(rt.path, "/api/")
		// Anonymous.
		if resp := send(rt.method, rt.path, sameOrigin, nil); !refused(rt, resp) {
			t.Errorf("%s %s anonymous: %d", rt.method, rt.path, resp.StatusCode)
		}
		// Forged, expired and revoked tokens of both types, in the place
		// where each route looks.
		for name, tok := range forged {
			hdr := with(sameOrigin, "Cookie", "airlock_session="+tok)
			if api {
				hdr = with(sameOrigin, "Authorization", "Bearer "+tok)
			}
			if resp := send(rt.method, rt.path, hdr, url.Values{"csrf_token": {b.csrf}}); !refused(rt, resp) {
				t.Errorf("%s %s with %s: %d", rt.method, rt.path, name, resp.StatusCode)
			}
		}
		// A valid token of the wrong type.
		hdr := with(sameOrigin, "Cookie", "airlock_session="+apiTok)
		if api {
			hdr = with(sameOrigin, "Authorization", "Bearer "+sessionCookie)
		}
		if resp := send(rt.method, rt.path, hdr, url.Values{"csrf_token": {b.csrf}}); !refused(rt, resp) {
			t.Errorf("%s %s with a token of the wrong type: %d", rt.method, rt.path, resp.StatusCode)
		}
		// The session cookie is no credential for the API at all.
		if api {
			if resp := send(rt.method, rt.path, with(sameOrigin, "Cookie", "airlock_session="+sessionCookie), nil); !refused(rt, resp) {
				t.Errorf("%s %s with only the session cookie: %d", rt.method, rt.path, resp.StatusCode)
			}
		}
		if api || rt.method == "GET" {
			continue
		}
		// State-changing pages: a valid session without the CSRF token,
		// with a wrong one, and cross-site with the right one.
		cookie := with(sameOrigin, "Cookie", "airlock_session="+sessionCookie)
		for name, c := range map[string]struct {
			hdr  map[string]string
			form url.Values
		}{
			"no CSRF token":     {cookie, nil},
			"wrong CSRF token":  {cookie, url.Values{"csrf_token": {b.csrf + "x"}}},
			"other CSRF token":  {cookie, url.Values{"csrf_token": {e.server.csrfToken("another-session")}}},
			"cross-site":        {with(with(cookie, "Origin", "https://evil.example"), "Sec-Fetch-Site", "cross-site"), url.Values{"csrf_token": {b.csrf}}},
			"cross-site origin": {map[string]string{"Cookie": "airlock_session=" + sessionCookie, "Origin": "https://evil.example"}, url.Values{"csrf_token": {b.csrf}}},
		} {
			if resp := send(rt.method, rt.path, c.hdr, c.form); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s with %s: %d; want 403", rt.method, rt.path, name, resp.StatusCode)
			}
		}
	}
	if checked < 40 {
		t.Fatalf("checked only %d protected routes", checked)
	}

	// The admin gets through every protected GET route (an existing
	// conversation id where one is needed).
	conv, err := e.store.CreateConversation(context.Background(), "web", "t")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.store.WriteMemory(context.Background(), store.MemoryNote{Audience: store.AudienceAdmin, Text: "n"}, false, 0); err != nil {
		t.Fatal(err)
	}
	versions, err := e.store.MemoryVersions(context.Background(), store.AudienceAdmin, 1)
	if err != nil || len(versions) != 1 {
		t.Fatalf("memory versions: %v", err)
	}
	memoryVersion := versions[0].ID
	for _, rt := range routes {
		if rt.method != "GET" || publicRoutes[rt.method+" "+rt.pattern] || strings.HasSuffix(rt.path, "/events") {
			continue
		}
		path := strings.ReplaceAll(rt.path, "c_x", conv.ID)
		if strings.Contains(rt.pattern, "/memory/versions/{id}") { // issue 16: a real memory version
			path = strings.ReplaceAll(rt.path, "c_x", memoryVersion)
		}
		if strings.Contains(rt.pattern, "{name}") {
			continue // covered by the scripts pages' tests, with a real script
		}
		if strings.Contains(rt.pattern, "/jobs/{id}") {
			continue // covered by TestJobsPagesAndAPI, with a real job
		}
		var code int
		if strings.HasPrefix(path, "/api/") {
			code = e.api(apiTok, "GET", path, nil, nil)
		} else {
			code, _ = b.get(path)
		}
		if code != http.StatusOK {
			t.Errorf("admin GET %s: %d; want 200", path, code)
		}
	}
}

// TestAdminPassesEveryStateChange: with a valid token (API) or session
// and CSRF token (pages), no state-changing route refuses the admin: its
// answer may be 4xx about the (dummy) input, never 401 or 403.
func TestAdminPassesEveryStateChange(t *testing.T) {
	e := newEnv(t)
	e.setup()
	tok := e.apiToken()
	b := e.login()
	var pages, api []route
	for _, rt := range allRoutes(t, e.server.Handler()) {
		if rt.method == "GET" || publicRoutes[rt.method+" "+rt.pattern] {
			continue
		}
		if strings.HasPrefix(rt.path, "/api/") {
			api = append(api, rt)
		} else {
			pages = append(pages, rt)
		}
	}
	// Logout last: it ends the session (and the API's own logout, the token).
	last := func(l []route, path string) []route {
		for i, rt := range l {
			if rt.path == path {
				return append(append(l[:i:i], l[i+1:]...), rt)
			}
		}
		t.Fatalf("no route %s", path)
		return nil
	}
	api, pages = last(api, "/api/v1/auth/logout"), last(pages, "/logout")
	for _, rt := range api {
		if code := e.api(tok, rt.method, rt.path, map[string]any{}, nil); code == http.StatusUnauthorized || code == http.StatusForbidden {
			t.Errorf("admin %s %s: %d", rt.method, rt.path, code)
		}
	}
	for _, rt := range pages {
		if code, _, _ := b.post(rt.path, nil); code == http.StatusUnauthorized || code == http.StatusForbidden {
			t.Errorf("admin %s %s: %d", rt.method, rt.path, code)
		}
	}
	if len(api) < 8 || len(pages) < 15 {
		t.Fatalf("only %d API and %d page routes", len(api), len(pages))
	}
}

// TestLogoutRevokesAtOnce: after logout the same cookie and the same
// bearer token are refused on the next request.
func TestLogoutRevokesAtOnce(t *testing.T) {
	e := newEnv(t)
	e.setup()
	tok := e.apiToken()
	if code := e.api(tok, "GET", "/api/v1/status", nil, nil); code != 200 {
		t.Fatalf("status with a fresh token: %d", code)
	}
	if code := e.api(tok, "POST", "/api/v1/auth/logout", nil, nil); code != http.StatusNoContent {
		t.Fatalf("logout: %d", code)
	}
	if code := e.api(tok, "GET", "/api/v1/status", nil, nil); code != http.StatusUnauthorized {
		t.Errorf("status after logout: %d; want 401", code)
	}

	b := e.login()
	u, _ := url.Parse(e.srv.URL)
	saved := b.c.Jar.Cookies(u)
	if code, loc, _ := b.post("/logout", nil); code != http.StatusSeeOther || loc != "/login" {
		t.Fatalf("logout page: %d %s", code, loc)
	}
	jar, _ := cookiejar.New(nil)
	jar.SetCookies(u, saved)
	replay := &browser{e: e, c: &http.Client{Jar: jar, CheckRedirect: b.c.CheckRedirect}}
	if code, _ := replay.get("/"); code != http.StatusSeeOther {
		t.Errorf("the old cookie after logout: %d; want a redirect to login", code)
	}
}
