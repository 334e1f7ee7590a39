package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airlockhq/airlock/orchestrator"
	"github.com/airlockhq/airlock/orchestrator/approval"
	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/auth"
	"github.com/airlockhq/airlock/orchestrator/config"
	"github.com/airlockhq/airlock/orchestrator/integration"
	"github.com/airlockhq/airlock/orchestrator/jobs"
	"github.com/airlockhq/airlock/orchestrator/secrets"
	"github.com/airlockhq/airlock/orchestrator/settings"
	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/orchestrator/worker"
	"github.com/airlockhq/airlock/orchestrator/workspace"
	"github.com/airlockhq/airlock/secure/egress"
	"github.com/airlockhq/airlock/secure/vault"
)

// Test credentials of the admin that newEnv's setup creates.
const (
	adminUser = "alice"
	adminPass = "correct horse battery staple"
)

// cheap argon2id parameters keep tests fast; production parameters are
// tested in package auth.
var cheapHasher = auth.Argon2id{Params: auth.Params{Time: 1, MemoryKiB: 64, Threads: 1, SaltLen: 16, KeyLen: 32}}

// syncBuf collects log output.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// env is an admin server over a real store, audit log, vault, approval
// service, auth service and core (no worker).
type env struct {
	t        testing.TB
	srv      *httptest.Server
	server   *Server
	store    *store.Store
	audit    *audit.Log
	queue    *worker.Queue
	auth     *auth.Service
	vault    *secrets.Vault
	approval *approval.Service
	core     *orchestrator.Core
	settings *settings.Service
	logs     *syncBuf
	key      vault.Key     // the token signing server key
	jobs     *jobs.Service // scheduled jobs (issue 14)
}

func newEnv(t testing.TB, edit ...func(*Deps)) *env {
	t.Helper()
	dir := t.TempDir()
	logs := &syncBuf{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(dir, "db"), logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ws, err := workspace.Open(filepath.Join(dir, "ws"), workspace.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	al := audit.New(st, nil, nil)
	q := worker.New(time.Now, func(int) bool { return true })
	sealer, err := secrets.OpenKey(ctx, st, filepath.Join(dir, "master.key"), true)
	if err != nil {
		t.Fatal(err)
	}
	vlt, err := secrets.Open(ctx, st, sealer)
	if err != nil {
		t.Fatal(err)
	}
	appr := approval.New(st, al, time.Now)
	// No worker runs here: a task ends at its deadline, soon, so that no
	// request (and no server Close) waits for long.
	web, err := egress.NewClient(egress.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	core, err := orchestrator.New(orchestrator.Config{TaskTimeout: 3 * time.Second}, orchestrator.Deps{Store: st, Audit: al,
		Queue: q, Workspace: ws, Logger: logger, Approval: appr, Web: web, Secret: vlt.Get})
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := vault.LoadOrCreateKey(filepath.Join(dir, "jwt.key"))
	if err != nil {
		t.Fatal(err)
	}
	au, err := auth.New(auth.Config{Store: st, ServerKey: key, Logger: logger, Hasher: cheapHasher,
		Audit: func(ctx context.Context, ev audit.Event) { al.Append(ctx, ev) }})
	if err != nil {
		t.Fatal(err)
	}
	set, err := settings.New(ctx, st, func(ctx context.Context, ev audit.Event) { al.Append(ctx, ev) },
		settings.FromConfig(config.Defaults(false)), nil)
	if err != nil {
		t.Fatal(err)
	}
	// External MCP servers (issue 15): loopback allowlisted, for the
	// integrations tests' local servers.
	mcpWeb, err := egress.NewClient(egress.Policy{Allow: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	integ, err := integration.New(integration.Config{Store: st, Web: mcpWeb, Secret: vlt.Get, Logger: logger,
		SetSecret: func(ctx context.Context, name, value string) error {
			_, err := vlt.Set(ctx, name, value)
			return err
		},
		DeleteSecret: vlt.Delete,
		Audit:        func(ctx context.Context, ev audit.Event) { al.Append(ctx, ev) }, CallTimeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(integ.Close)
	// Scheduled jobs (issue 14), against the settings' jobs and Discord fields.
	js, err := jobs.New(jobs.Deps{Store: st, Audit: al, Scripts: jobs.ApprovedScripts(appr), Runner: core, Logger: logger,
		Env: func() jobs.Env {
			cur := set.Get()
			return jobs.Env{Floor: cur.Jobs.MinInterval(), MaxFailures: cur.Jobs.MaxFailures,
				Channels: cur.Discord.AllowedChannels, Admins: cur.Discord.Admins}
		}})
	if err != nil {
		t.Fatal(err)
	}
	d := Deps{Core: core, Store: st, Audit: al, Queue: q, Vault: vlt, Approval: appr, Auth: au, Settings: set,
		Logger: logger, Integrations: integ, Jobs: js, Backups: newTestBackups(t, dir, al)}
	// Issue 17: the real checks over this env's store and directory.
	d.Doctor = testDoctor(st, dir)
	for _, f := range edit {
		f(&d)
	}
	server := New(d)
	t.Cleanup(server.Close) // after srv's: no request runs any more
	srv := httptest.NewServer(server.Handler())
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, server: server, store: st, audit: al, queue: q, auth: au, vault: vlt,
		approval: appr, core: core, settings: set, logs: logs, key: key, jobs: d.Jobs}
}

// setup creates the admin through the auth service.
func (e *env) setup() {
	e.t.Helper()
	code, err := e.auth.StartSetup(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.auth.CompleteSetup(context.Background(), code, adminUser, adminPass, "127.0.0.1"); err != nil {
		e.t.Fatal(err)
	}
}

// apiToken logs in through the API and returns a bearer token.
func (e *env) apiToken() string {
	e.t.Helper()
	var out struct{ Token string }
	if code := e.api("", "POST", "/api/v1/auth/login", map[string]string{"username": adminUser, "password": adminPass}, &out); code != 200 || out.Token == "" {
		e.t.Fatalf("api login: %d", code)
	}
	return out.Token
}

// api sends a JSON API request with an optional bearer token and decodes
// the answer into out; it returns the status code.
func (e *env) api(token, method, path string, body, out any) int {
	e.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, r)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

// browser is a signed-in browser: a cookie jar and the page's CSRF token.
type browser struct {
	e    *env
	c    *http.Client
	csrf string
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// login signs in through the login form and returns the browser.
func (e *env) login() *browser {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browser{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
	_, body := b.get("/login")
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		e.t.Fatalf("no CSRF token on the login page:\n%s", body)
	}
	code, _, _ := b.post("/login", url.Values{"csrf_token": {m[1]}, "username": {adminUser}, "password": {adminPass}})
	if code != http.StatusSeeOther {
		e.t.Fatalf("login: %d", code)
	}
	_, body = b.get("/account")
	m = csrfRE.FindStringSubmatch(body)
	if m == nil {
		e.t.Fatalf("no CSRF token on a signed-in page:\n%s", body)
	}
	b.csrf = m[1]
	return b
}

func (b *browser) get(path string) (int, string) {
	b.e.t.Helper()
	resp, err := b.c.Get(b.e.srv.URL + path)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// post submits a form as the same origin; the CSRF token is added when
// the form has none. It returns the status, the Location and the body.
func (b *browser) post(path string, form url.Values) (int, string, string) {
	b.e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf_token"]; !ok && b.csrf != "" {
		form.Set("csrf_token", b.csrf)
	}
	req, _ := http.NewRequest("POST", b.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.e.srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(body)
}
