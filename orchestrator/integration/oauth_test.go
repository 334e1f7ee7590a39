package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client/transport"

	"github.com/airlockhq/airlock/orchestrator/integration/mcptest"
	"github.com/airlockhq/airlock/orchestrator/secrets"
	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/secure/redact"
)

const oauthCanary = "oat_CANARYoauth0123456789_"

// memVault is a writable vault whose redactor learns every value set.
type memVault struct {
	mu     sync.Mutex
	values map[string]string
	writes int
}

func (v *memVault) get(_ context.Context, name string) (string, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	val, ok := v.values[name]
	if !ok {
		return "", secrets.ErrNotFound
	}
	return val, nil
}

func (v *memVault) set(_ context.Context, name, value string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.values[name] = value
	v.writes++
	return nil
}

func (v *memVault) del(_ context.Context, name string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, ok := v.values[name]; !ok {
		return secrets.ErrNotFound
	}
	delete(v.values, name)
	return nil
}

func (v *memVault) redact(s string) string {
	v.mu.Lock()
	var list []redact.Secret
	for n, val := range v.values {
		list = append(list, redact.Secret{Name: n, Value: val})
	}
	v.mu.Unlock()
	r, err := redact.New(list)
	if err != nil {
		panic(err)
	}
	return r.String(s)
}

// clock is a settable time for token expiry.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type oauthRig struct {
	*rig
	vault *memVault
	clock *clock
}

func newOAuthRig(t *testing.T, allow ...string) *oauthRig {
	v := &memVault{values: map[string]string{}}
	c := &clock{now: time.Now()}
	r := newRig(t, nil, func(cfg *Config) {
		cfg.Secret, cfg.SetSecret, cfg.DeleteSecret, cfg.Redact = v.get, v.set, v.del, v.redact
		cfg.Now = c.Now
		if allow != nil {
			if err := cfg.Web.SetAllow(allow); err != nil {
				t.Fatal(err)
			}
		}
	})
	return &oauthRig{rig: r, vault: v, clock: c}
}

const redirectURI = "http://127.0.0.1:8080/integrations/cal/oauth/callback"

func oauthInput(name, u string) ServerInput {
	return ServerInput{Name: name, URL: u, AuthKind: AuthOAuth, Scopes: "calendar.read  calendar.write"}
}

// authorize runs Begin, the authorization server's consent and Complete.
func (r *oauthRig) authorize(t *testing.T, as *mcptest.AuthServer, server, session string) error {
	t.Helper()
	authURL, err := r.svc.BeginAuthorization(context.Background(), server, session, redirectURI, "admin:a")
	if err != nil {
		t.Fatal(err)
	}
	q := as.Consent(t, authURL)
	return r.svc.CompleteAuthorization(context.Background(), server, session,
		Callback{State: q.Get("state"), Code: q.Get("code"), Issuer: q.Get("iss")}, "admin:a")
}

func (r *oauthRig) state(t *testing.T, server string) store.MCPServer {
	t.Helper()
	srv, err := r.st.GetMCPServer(context.Background(), server)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// The whole flow: add (discovery through the guard, no connection yet),
// authorize (dynamic registration, PKCE, state), the tokens in the vault,
// an approved tool called with the access token; refresh before expiry and
// on a 401; a refused refresh marks the server as needing authorization
// and the model gets a clear error. No token is ever logged, audited or
// returned.
func TestOAuthAuthorizeCallRefresh(t *testing.T) {
	as := mcptest.NewAuthServer(t, "", oauthCanary)
	mark := mcptest.Mark(t, as.Protect(mcptest.Options{}))
	r := newOAuthRig(t)
	ctx := context.Background()

	srv, err := r.svc.Add(ctx, oauthInput("cal", mark.URL), "admin:a")
	if err != nil {
		t.Fatal(err)
	}
	if srv.State != store.MCPNeedsAuth || srv.OAuthScopes != "calendar.read calendar.write" {
		t.Fatalf("added: %+v", srv)
	}
	if tl, _ := r.st.ListMCPTools(ctx, "cal"); len(tl) != 0 {
		t.Fatalf("tools before authorization: %d", len(tl))
	}
	// Run leaves a server awaiting authorization alone.
	if err := r.svc.Refresh(ctx, "cal"); !errors.Is(err, ErrAuthorizationNeeded) {
		t.Fatalf("refresh before authorization: %v", err)
	}

	authURL, err := r.svc.BeginAuthorization(ctx, "cal", "sess-1", redirectURI, "admin:a")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(authURL)
	q := u.Query()
	if !strings.HasPrefix(authURL, as.URL+"/authorize?") || q.Get("code_challenge_method") != "S256" ||
		len(q.Get("code_challenge")) != 43 || len(q.Get("state")) < 43 || q.Get("redirect_uri") != redirectURI ||
		q.Get("resource") != mark.URL || q.Get("scope") != "calendar.read calendar.write" || q.Get("client_id") == "" {
		t.Fatalf("authorization URL: %s", authURL)
	}
	if got := r.state(t, "cal").OAuthClientID; got != q.Get("client_id") {
		t.Fatalf("registered client id %q not stored (%q)", q.Get("client_id"), got)
	}
	cb := as.Consent(t, authURL)
	if err := r.svc.CompleteAuthorization(ctx, "cal", "sess-1", Callback{State: cb.Get("state"), Code: cb.Get("code"),
		Issuer: cb.Get("iss")}, "admin:a"); err != nil {
		t.Fatal(err)
	}
	if st := r.state(t, "cal"); st.State != store.MCPConnected || st.OAuthExpiresAt.IsZero() {
		t.Fatalf("after authorization: %+v", st)
	}
	issued := as.Issued()
	if v, _ := r.vault.get(ctx, "MCP_OAUTH_CAL_ACCESS"); v != issued[0] {
		t.Fatal("the access token is not in the vault")
	}
	if v, _ := r.vault.get(ctx, "MCP_OAUTH_CAL_REFRESH"); v != issued[1] {
		t.Fatal("the refresh token is not in the vault")
	}
	if ev := r.audited("mcp_server.oauth_authorized"); len(ev) != 1 || ev[0].Outcome != "ok" {
		t.Fatalf("audit: %+v", ev)
	}
	// A replayed state is refused and stores nothing.
	err = r.svc.CompleteAuthorization(ctx, "cal", "sess-1", Callback{State: cb.Get("state"), Code: cb.Get("code")}, "admin:a")
	var pe *PublicError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "already used") {
		t.Fatalf("replayed state: %v", err)
	}
	if n, _ := as.Counts(); n != 1 {
		t.Fatalf("code exchanges: %d", n)
	}

	r.approve(t, "cal", "echo")
	r.approve(t, "cal", "whoami")
	call := func(tool, args string) (Result, error) {
		return r.svc.Call(ctx, "cal__"+tool, json.RawMessage(args))
	}
	if res, err := call("echo", `{"text":"hello"}`); err != nil || res.Text != "hello" {
		t.Fatalf("call: %+v %v", res, err)
	}
	// A server echoing the token gets it redacted.
	if res, err := call("whoami", `{}`); err != nil || strings.Contains(res.Text, oauthCanary) ||
		!strings.Contains(res.Text, "[REDACTED:MCP_OAUTH_CAL_ACCESS]") {
		t.Fatalf("whoami: %+v %v", res, err)
	}

	// Before expiry: refreshed first.
	r.clock.add(2 * time.Hour)
	if res, err := call("echo", `{"text":"later"}`); err != nil || res.Text != "later" {
		t.Fatalf("call after expiry: %+v %v", res, err)
	}
	if _, n := as.Counts(); n != 1 {
		t.Fatalf("refreshes after expiry: %d", n)
	}
	if v, _ := r.vault.get(ctx, "MCP_OAUTH_CAL_ACCESS"); v != as.Issued()[2] {
		t.Fatal("the refreshed access token is not in the vault")
	}
	// On a 401: refreshed and sent again.
	as.RevokeAccess()
	if res, err := call("echo", `{"text":"again"}`); err != nil || res.Text != "again" {
		t.Fatalf("call after revocation: %+v %v", res, err)
	}
	if _, n := as.Counts(); n != 2 {
		t.Fatalf("refreshes after a 401: %d", n)
	}
	// A refused refresh: authorization needed, on the server and for the model.
	as.FailRefresh()
	as.RevokeAccess()
	_, err = call("echo", `{"text":"x"}`)
	if !errors.As(err, &pe) || !errors.Is(err, ErrAuthorizationNeeded) || !strings.Contains(pe.Msg, "authorize Airlock again") {
		t.Fatalf("call after a refused refresh: %v", err)
	}
	if st := r.state(t, "cal"); st.State != store.MCPNeedsAuth {
		t.Fatalf("state after a refused refresh: %s", st.State)
	}
	if _, err := r.vault.get(ctx, "MCP_OAUTH_CAL_REFRESH"); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatal("a refused refresh token is kept")
	}
	if _, err = call("echo", `{"text":"x"}`); !errors.Is(err, ErrAuthorizationNeeded) {
		t.Fatalf("second call: %v", err)
	}
	// Authorizing again brings it back.
	if err := r.authorize(t, as, "cal", "sess-2"); err != nil {
		t.Fatal(err)
	}
	if res, err := call("echo", `{"text":"back"}`); err != nil || res.Text != "back" {
		t.Fatalf("call after re-authorization: %+v %v", res, err)
	}

	// No token went to the authorization server as a bearer, or anywhere
	// an admin, a log or the model can read.
	for _, h := range as.Headers() {
		if strings.Contains(h.Get("Authorization"), oauthCanary) {
			t.Fatal("an access token was sent to the authorization server")
		}
	}
	r.mu.Lock()
	events, _ := json.Marshal(r.events)
	logs := r.logs.String()
	r.mu.Unlock()
	views, _ := json.Marshal(must(r.svc.List(ctx)))
	defs, _ := json.Marshal(r.svc.ModelTools(ctx))
	for where, text := range map[string]string{"audit": string(events), "logs": logs, "views": string(views), "model tools": string(defs)} {
		if strings.Contains(text, oauthCanary) {
			t.Errorf("a token is in the %s", where)
		}
	}

	// Deleting the server deletes its tokens.
	if err := r.svc.Delete(ctx, "cal", "admin:a"); err != nil {
		t.Fatal(err)
	}
	r.vault.mu.Lock()
	defer r.vault.mu.Unlock()
	for name := range r.vault.values {
		if strings.HasPrefix(name, "MCP_OAUTH_CAL_") {
			t.Errorf("%s kept after the server was deleted", name)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// A callback is refused, and stores nothing, when its state is unknown,
// expired, from another session or for another server; the state is
// consumed by its first presentation. The code exchange sends the PKCE
// verifier, which the authorization server checks.
func TestOAuthCallbackRefusals(t *testing.T) {
	as := mcptest.NewAuthServer(t, "", oauthCanary)
	mark := mcptest.Mark(t, as.Protect(mcptest.Options{}))
	other := mcptest.Mark(t, as.Protect(mcptest.Options{}))
	r := newOAuthRig(t)
	ctx := context.Background()
	for name, u := range map[string]string{"cal": mark.URL, "other": other.URL} {
		if _, err := r.svc.Add(ctx, oauthInput(name, u), "admin:a"); err != nil {
			t.Fatal(err)
		}
	}
	begin := func(server string) url.Values {
		authURL, err := r.svc.BeginAuthorization(ctx, server, "sess-1", redirectURI, "admin:a")
		if err != nil {
			t.Fatal(err)
		}
		return as.Consent(t, authURL)
	}
	refused := func(what, server, session string, cb Callback, want string) {
		t.Helper()
		err := r.svc.CompleteAuthorization(ctx, server, session, cb, "admin:a")
		var pe *PublicError
		if !errors.As(err, &pe) || !strings.Contains(pe.Msg, want) || !strings.Contains(pe.Msg, "Nothing was stored") {
			t.Errorf("%s: %v, want a refusal saying %q", what, err, want)
		}
		if n, _ := as.Counts(); n != 0 {
			t.Errorf("%s: a code was exchanged", what)
		}
		r.vault.mu.Lock()
		if len(r.vault.values) != 0 {
			t.Errorf("%s: the vault holds %d values", what, len(r.vault.values))
		}
		r.vault.mu.Unlock()
	}
	cb := func(q url.Values) Callback {
		return Callback{State: q.Get("state"), Code: q.Get("code"), Issuer: q.Get("iss")}
	}

	refused("unknown state", "cal", "sess-1", Callback{State: "forged", Code: "x"}, "unknown")
	refused("no state", "cal", "sess-1", Callback{Code: "x"}, "unknown")
	q := begin("cal")
	refused("other session", "cal", "sess-2", cb(q), "another session")
	refused("consumed by the other session", "cal", "sess-1", cb(q), "already used")
	q = begin("cal")
	refused("other server", "other", "sess-1", cb(q), "another server")
	q = begin("cal")
	r.clock.add(AuthorizeTTL + time.Second)
	refused("expired", "cal", "sess-1", cb(q), "more than 10m0s ago")
	q = begin("cal")
	mixed := cb(q)
	mixed.Issuer = "http://127.0.0.1:1/evil"
	refused("another issuer", "cal", "sess-1", mixed, "mix-up")
	q = begin("cal")
	refused("an error answer", "cal", "sess-1", Callback{State: q.Get("state"), Error: "access_denied"}, "access_denied")

	// PKCE: with another verifier, the authorization server refuses the code.
	q = begin("cal")
	r.svc.mu.Lock()
	r.svc.pending[q.Get("state")].verifier = strings.Repeat("A", 64)
	r.svc.mu.Unlock()
	refused("wrong verifier", "cal", "sess-1", cb(q), "invalid_grant")
	if ev := r.audited("mcp_server.oauth_authorized"); len(ev) != 9 || ev[0].Outcome != "denied" {
		t.Errorf("audited refusals: %d", len(ev))
	}
	// The right verifier works.
	q = begin("cal")
	if err := r.svc.CompleteAuthorization(ctx, "cal", "sess-1", cb(q), "admin:a"); err != nil {
		t.Fatal(err)
	}
}

// The authorization server is reached through the egress guard: one on a
// loopback address that is not allowlisted is refused, and nothing is
// stored.
func TestOAuthAuthServerNotAllowlisted(t *testing.T) {
	as := mcptest.NewAuthServer(t, "127.0.0.2:0", oauthCanary)
	mark := mcptest.Mark(t, as.Protect(mcptest.Options{}))
	r := newOAuthRig(t, "127.0.0.1")
	_, err := r.svc.Add(context.Background(), oauthInput("cal", mark.URL), "admin:a")
	var pe *PublicError
	if !errors.As(err, &pe) || !strings.Contains(pe.Msg, "OAuth discovery") || !strings.Contains(pe.Msg, "127.0.0.2") {
		t.Fatalf("add: %v", err)
	}
	if len(as.Headers()) != 0 {
		t.Fatal("the authorization server was reached")
	}
	if _, err := r.st.GetMCPServer(context.Background(), "cal"); !errors.Is(err, store.ErrNotFound) {
		t.Fatal("the server was stored")
	}
}

// The access token goes to the MCP server's origin only: a redirect to
// another host is followed without it.
func TestOAuthRedirectDropsToken(t *testing.T) {
	as := mcptest.NewAuthServer(t, "", oauthCanary)
	mark := mcptest.Mark(t, as.Protect(mcptest.Options{}))
	var mu sync.Mutex
	var sawOther []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		sawOther = append(sawOther, req.Header.Get("Authorization"))
		mu.Unlock()
		http.Error(w, "nothing here", http.StatusNotFound)
	}))
	t.Cleanup(other.Close)
	otherURL := strings.Replace(other.URL, "127.0.0.1", "localhost", 1)
	// The protected server redirects tool calls elsewhere once authorized.
	redirecting := false
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		red := redirecting
		mu.Unlock()
		if red && req.Method == http.MethodPost {
			http.Redirect(w, req, otherURL+"/mcp", http.StatusTemporaryRedirect)
			return
		}
		target, _ := url.Parse(mark.HTTP.URL)
		req.URL.Scheme, req.URL.Host, req.RequestURI = target.Scheme, target.Host, ""
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, vs := range resp.Header {
			w.Header()[k] = vs
		}
		w.WriteHeader(resp.StatusCode)
		buf := make([]byte, 32<<10)
		for {
			n, err := resp.Body.Read(buf)
			w.Write(buf[:n])
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			}
			if err != nil {
				return
			}
		}
	}))
	t.Cleanup(front.Close)
	r := newOAuthRig(t, "127.0.0.1", "localhost")
	ctx := context.Background()
	if _, err := r.svc.Add(ctx, oauthInput("cal", front.URL+"/mcp"), "admin:a"); err != nil {
		t.Fatal(err)
	}
	if err := r.authorize(t, as, "cal", "sess-1"); err != nil {
		t.Fatal(err)
	}
	r.approve(t, "cal", "echo")
	mu.Lock()
	redirecting = true
	mu.Unlock()
	_, _ = r.svc.Call(ctx, "cal__echo", json.RawMessage(`{"text":"x"}`))
	mu.Lock()
	defer mu.Unlock()
	if len(sawOther) == 0 {
		t.Fatal("the redirect was not followed: the test shows nothing")
	}
	for _, h := range sawOther {
		if h != "" {
			t.Fatalf("the redirect's host got Authorization %q", h)
		}
	}
}

// Bad OAuth input is refused naming the field, and nothing is stored; a
// client registered by hand, with its secret in the vault, is used as
// given (no dynamic registration), its secret sent to the token endpoint.
func TestOAuthAddRefusalsAndConfidentialClient(t *testing.T) {
	as := mcptest.NewAuthServer(t, "", oauthCanary)
	mark := mcptest.Mark(t, as.Protect(mcptest.Options{}))
	r := newOAuthRig(t)
	ctx := context.Background()
	for _, c := range []struct {
		in   ServerInput
		want string
	}{
		{ServerInput{Name: "cal", URL: mark.URL, AuthKind: AuthOAuth, Scopes: `read "write"`}, "scopes:"},
		{ServerInput{Name: "cal", URL: mark.URL, AuthKind: AuthOAuth, ClientSecretName: "CAL_SECRET"}, "client_secret_name: give the client_id"},
		{ServerInput{Name: "cal", URL: mark.URL, AuthKind: AuthOAuth, ClientID: "a b"}, "client_id:"},
		{ServerInput{Name: "cal", URL: mark.URL, AuthKind: AuthOAuth, ClientID: "airlock", ClientSecretName: "lower"}, "client_secret_name:"},
		// Airlock's own secrets (another server's tokens) are no credential to hand out.
		{ServerInput{Name: "cal", URL: mark.URL, AuthKind: AuthOAuth, ClientID: "airlock", ClientSecretName: "MCP_OAUTH_GH_REFRESH"},
			"client_secret_name: MCP_OAUTH_"},
		{ServerInput{Name: "cal", URL: mark.URL, AuthKind: AuthHeader, HeaderName: "Authorization", SecretName: "MCP_OAUTH_GH_ACCESS"},
			"secret_name: MCP_OAUTH_"},
		{ServerInput{Name: "cal", URL: mark.URL, AuthKind: AuthOAuth, ClientID: "airlock", ClientSecretName: "CAL_SECRET"}, "no vault secret named CAL_SECRET"},
		{ServerInput{Name: "cal", URL: mark.URL, AuthKind: "kerberos"}, "auth_kind: none, header or oauth"},
	} {
		_, err := r.svc.Add(ctx, c.in, "admin:a")
		var pe *PublicError
		if !errors.As(err, &pe) || !strings.Contains(pe.Msg, c.want) {
			t.Errorf("%+v: %v, want %q", c.in, err, c.want)
		}
	}
	if srvs, _ := r.st.ListMCPServers(ctx); len(srvs) != 0 {
		t.Fatalf("refused input stored %d servers", len(srvs))
	}
	as.AddClient("airlock-cal", "client-secret-0123456789", redirectURI)
	if err := r.vault.set(ctx, "CAL_SECRET", "wrong-secret-0123456789"); err != nil {
		t.Fatal(err)
	}
	in := ServerInput{Name: "cal", URL: mark.URL, AuthKind: AuthOAuth, ClientID: "airlock-cal", ClientSecretName: "CAL_SECRET"}
	if _, err := r.svc.Add(ctx, in, "admin:a"); err != nil {
		t.Fatal(err)
	}
	if err := r.authorize(t, as, "cal", "s"); !errors.Is(err, ErrAuthorizationRefused) || !strings.Contains(err.Error(), "invalid_client") {
		t.Fatalf("a wrong client secret: %v", err)
	}
	r.vault.set(ctx, "CAL_SECRET", "client-secret-0123456789")
	if err := r.authorize(t, as, "cal", "s"); err != nil {
		t.Fatal(err)
	}
	if st := r.state(t, "cal"); st.OAuthClientID != "airlock-cal" || st.State != store.MCPConnected {
		t.Fatalf("confidential client: %+v", st)
	}
	if ev := r.audited("mcp_server.oauth_registered"); len(ev) != 0 {
		t.Fatal("a client given by the admin was registered again")
	}
	// Deleting the server keeps the secret the admin named.
	if err := r.svc.Delete(ctx, "cal", "admin:a"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.vault.get(ctx, "CAL_SECRET"); err != nil {
		t.Fatal("the admin's client secret was deleted with the server")
	}
}

// A server whose protected resource metadata is only where its 401
// challenge says (RFC 9728 section 5.1, as MCP's authorization asks of
// clients) is discovered there and authorized; a challenge naming another
// origin is not followed, and the add fails with the reason.
func TestOAuthResourceMetadataFromChallenge(t *testing.T) {
	as := mcptest.NewAuthServer(t, "", oauthCanary)
	mark := mcptest.Mark(t, as.ProtectAt(mcptest.Options{}, "/meta/prm", ""))
	r := newOAuthRig(t)
	ctx := context.Background()
	if _, err := r.svc.Add(ctx, oauthInput("cal", mark.URL), "admin:a"); err != nil {
		t.Fatalf("add: %v", err)
	}
	if err := r.authorize(t, as, "cal", "sess-1"); err != nil {
		t.Fatal(err)
	}
	if st := r.state(t, "cal"); st.State != store.MCPConnected {
		t.Fatalf("after authorization: %+v", st)
	}

	var hits atomic.Int32
	var resource string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"resource":%q,"authorization_servers":[%q]}`, resource, as.URL)
	}))
	t.Cleanup(other.Close)
	evil := mcptest.Mark(t, as.ProtectAt(mcptest.Options{}, "/meta/prm", other.URL+"/prm"))
	resource = evil.URL
	_, err := r.svc.Add(ctx, oauthInput("evil", evil.URL), "admin:a")
	var pe *PublicError
	if !errors.As(err, &pe) || !strings.Contains(pe.Msg, "OAuth discovery") {
		t.Fatalf("add with a challenge naming another origin: %v", err)
	}
	if hits.Load() != 0 {
		t.Errorf("the other origin's metadata was fetched %d times", hits.Load())
	}
}

// switchable wraps a protected server's handler: its metadata can be made
// to fail, or to name another authorization server, and requests for a
// token endpoint on its own origin (a guessed one) are counted.
type switchable struct {
	broken  atomic.Bool
	other   atomic.Pointer[mcptest.AuthServer]
	guessed atomic.Int32
}

func (sw *switchable) wrap(opts mcptest.Options) mcptest.Options {
	inner := opts.Wrap
	opts.Wrap = func(next http.Handler) http.Handler {
		h := inner(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.URL.Path == "/token":
				sw.guessed.Add(1)
			case !strings.HasPrefix(r.URL.Path, "/.well-known/oauth-protected-resource"):
			case sw.broken.Load():
				http.Error(w, "metadata down", http.StatusInternalServerError)
				return
			case sw.other.Load() != nil:
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprintf(w, `{"resource":"http://%s/mcp","authorization_servers":[%q]}`, r.Host, sw.other.Load().URL)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	return opts
}

// A refresh discovers the authorization server as the authorization did:
// when the metadata does not answer, the refresh token is sent nowhere
// (mcp-go alone would guess <MCP origin>/token) and kept for later; when
// the metadata names another authorization server than the one the
// tokens came from, it is not sent there either.
func TestOAuthRefreshGoesOnlyToThePinnedServer(t *testing.T) {
	as := mcptest.NewAuthServer(t, "", oauthCanary)
	sw := &switchable{}
	mark := mcptest.Mark(t, sw.wrap(as.Protect(mcptest.Options{})))
	r := newOAuthRig(t)
	ctx := context.Background()
	if _, err := r.svc.Add(ctx, oauthInput("cal", mark.URL), "admin:a"); err != nil {
		t.Fatal(err)
	}
	if err := r.authorize(t, as, "cal", "sess-1"); err != nil {
		t.Fatal(err)
	}
	if got := r.state(t, "cal").OAuthIssuer; got != as.URL {
		t.Fatalf("pinned issuer %q, want %q", got, as.URL)
	}
	r.approve(t, "cal", "echo")
	call := func() error {
		_, err := r.svc.Call(ctx, "cal__echo", json.RawMessage(`{"text":"x"}`))
		return err
	}

	sw.broken.Store(true)
	r.clock.add(2 * time.Hour)
	err := call()
	var pe *PublicError
	if !errors.As(err, &pe) || !strings.Contains(pe.Msg, "refreshing the OAuth token") || strings.Contains(pe.Msg, "metadata down") {
		t.Fatalf("call with the metadata down: %v", err)
	}
	if n := sw.guessed.Load(); n != 0 {
		t.Fatalf("a guessed token endpoint on the MCP server got %d requests", n)
	}
	if v, _ := r.vault.get(ctx, "MCP_OAUTH_CAL_REFRESH"); v == "" || r.state(t, "cal").State == store.MCPNeedsAuth {
		t.Fatal("a refresh that could not be tried lost the tokens")
	}

	other := mcptest.NewAuthServer(t, "", oauthCanary)
	sw.broken.Store(false)
	sw.other.Store(other)
	// (The failed refresh dropped the connection; reconnecting refreshes.)
	if err := r.svc.Refresh(ctx, "cal"); !errors.Is(err, ErrAuthorizationNeeded) {
		t.Fatalf("reconnect with another authorization server named: %v", err)
	}
	if r.state(t, "cal").State != store.MCPNeedsAuth {
		t.Fatal("the server is not marked as needing authorization")
	}
	if len(other.Headers()) > 1 { // its metadata only
		t.Fatalf("the other authorization server got %d requests", len(other.Headers()))
	}
	if _, n := as.Counts(); n != 0 {
		t.Fatalf("refreshes: %d", n)
	}
	if ev := r.audited("mcp_server.oauth_refresh"); len(ev) != 1 || ev[0].Outcome != "denied" {
		t.Fatalf("audit: %+v", ev)
	}

	sw.other.Store(nil) // the right one again: the refresh goes through
	if err := r.authorize(t, as, "cal", "sess-2"); err != nil {
		t.Fatal(err)
	}
	r.clock.add(2 * time.Hour)
	if err := call(); err != nil {
		t.Fatalf("call after authorizing again: %v", err)
	}
	if _, n := as.Counts(); n != 1 {
		t.Fatalf("refreshes at the pinned server: %d", n)
	}
}

// Only a refused grant or client forgets the tokens; a server error, a
// rate limit or anything else keeps them for the next try.
func TestRefusedGrant(t *testing.T) {
	for err, want := range map[error]bool{
		fmt.Errorf("refresh: %w", transport.OAuthError{ErrorCode: "invalid_grant"}):           true,
		fmt.Errorf("refresh: %w", transport.OAuthError{ErrorCode: "invalid_client"}):          true,
		fmt.Errorf("refresh: %w", transport.OAuthError{ErrorCode: "temporarily_unavailable"}): false,
		fmt.Errorf("refresh: %w", transport.OAuthError{ErrorCode: "server_error"}):            false,
		errors.New("refresh token request failed with status 400: bad"):                       true,
		errors.New("refresh token request failed with status 401: who"):                       true,
		errors.New("refresh token request failed with status 429: slow down"):                 false,
		errors.New("refresh token request failed with status 503: down"):                      false,
		errors.New("refresh token request failed with status 404: none"):                      false,
		publicf("the access token cannot be kept in the vault"):                               false,
	} {
		if got := refusedGrant(err); got != want {
			t.Errorf("refusedGrant(%v) = %v, want %v", err, got, want)
		}
	}
}

// A header server stored before the refusal existed, naming another
// server's OAuth token as its credential, does not send it.
func TestStoredHeaderServerNeverSendsOAuthToken(t *testing.T) {
	mark := mcptest.Mark(t, mcptest.Options{})
	r := newOAuthRig(t)
	ctx := context.Background()
	if err := r.vault.set(ctx, "MCP_OAUTH_GH_ACCESS", oauthCanary+"stolen"); err != nil {
		t.Fatal(err)
	}
	if err := r.st.AddMCPServer(ctx, store.MCPServer{Name: "evil", URL: mark.URL, Transport: "streamable", AuthKind: AuthHeader,
		HeaderName: "Authorization", SecretName: "MCP_OAUTH_GH_ACCESS", State: store.MCPConnected, CreatedBy: "admin:a"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := r.svc.Refresh(ctx, "evil"); err == nil || !strings.Contains(err.Error(), "secret_name: MCP_OAUTH_") {
		t.Fatalf("refresh of a server naming an OAuth token: %v", err)
	}
	for _, h := range mark.Headers() {
		if strings.Contains(fmt.Sprint(h), oauthCanary) {
			t.Fatal("the OAuth token reached the other server")
		}
	}
}

// A token the vault already holds is not written again (each write
// rebuilds the redactor): mcp-go hands back a refresh token that was not
// rotated.
func TestSaveTokenWritesOnlyChanges(t *testing.T) {
	mark := mcptest.Mark(t, mcptest.Options{})
	r := newOAuthRig(t)
	ctx := context.Background()
	if err := r.st.AddMCPServer(ctx, store.MCPServer{Name: "cal", URL: mark.URL, Transport: "streamable", AuthKind: AuthOAuth,
		State: store.MCPNeedsAuth, CreatedBy: "admin:a"}, nil); err != nil {
		t.Fatal(err)
	}
	ts := &tokenStore{s: r.svc, server: "cal"}
	if err := ts.SaveToken(ctx, &transport.Token{AccessToken: "a1", RefreshToken: "r1", TokenType: "Bearer"}); err != nil {
		t.Fatal(err)
	}
	before := r.vault.writes
	if err := ts.SaveToken(ctx, &transport.Token{AccessToken: "a2", RefreshToken: "r1", TokenType: "Bearer"}); err != nil {
		t.Fatal(err)
	}
	if n := r.vault.writes - before; n != 1 {
		t.Fatalf("%d vault writes for a new access token and the same refresh token, want 1", n)
	}
	if v, _ := r.vault.get(ctx, "MCP_OAUTH_CAL_ACCESS"); v != "a2" {
		t.Fatalf("access token %q", v)
	}
}
