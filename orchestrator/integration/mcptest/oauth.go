package mcptest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// AuthServer is a fake OAuth 2.1 authorization server on loopback: RFC
// 8414 metadata, dynamic client registration (RFC 7591), an authorization
// endpoint that consents at once, and a token endpoint that checks the
// PKCE S256 verifier, the redirect URI and the client, issues tokens
// carrying a canary prefix, and rotates refresh tokens. Protect turns a
// test MCP server into a resource it guards.
type AuthServer struct {
	URL  string
	HTTP *httptest.Server
	// Prefix starts every token it issues (a canary to search for).
	Prefix string

	mu       sync.Mutex
	expires  int // expires_in of new access tokens (0: none sent)
	failRef  bool
	clients  map[string]string // client id → registered redirect URI
	secrets  map[string]string // client id → secret, for confidential clients
	codes    map[string]grant
	access   map[string]bool
	refresh  map[string]bool
	issued   []string
	headers  []http.Header
	exchange int // authorization_code grants answered with tokens
	refreshN int // refresh_token grants answered with tokens
}

type grant struct {
	client, redirect, challenge string
}

// NewAuthServer starts an authorization server on addr ("" for
// 127.0.0.1 on a free port).
func NewAuthServer(t testing.TB, addr, prefix string) *AuthServer {
	a := &AuthServer{Prefix: prefix, expires: 3600, clients: map[string]string{}, secrets: map[string]string{}, codes: map[string]grant{},
		access: map[string]bool{}, refresh: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", a.metadata)
	mux.HandleFunc("POST /register", a.register)
	mux.HandleFunc("GET /authorize", a.authorize)
	mux.HandleFunc("POST /token", a.token)
	a.HTTP = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.headers = append(a.headers, r.Header.Clone())
		a.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	if addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		a.HTTP.Listener.Close()
		a.HTTP.Listener = ln
	}
	a.HTTP.Start()
	a.URL = a.HTTP.URL
	t.Cleanup(a.HTTP.Close)
	return a
}

func (a *AuthServer) metadata(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"issuer": a.URL, "authorization_endpoint": a.URL + "/authorize",
		"token_endpoint": a.URL + "/token", "registration_endpoint": a.URL + "/register",
		"response_types_supported": []string{"code"}, "grant_types_supported": []string{"authorization_code", "refresh_token"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"none", "client_secret_post"}})
}

func (a *AuthServer) register(w http.ResponseWriter, r *http.Request) {
	var in struct {
		RedirectURIs []string `json:"redirect_uris"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || len(in.RedirectURIs) != 1 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_client_metadata"})
		return
	}
	id := "client-" + random(6)
	a.mu.Lock()
	a.clients[id] = in.RedirectURIs[0]
	a.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{"client_id": id, "redirect_uris": in.RedirectURIs,
		"token_endpoint_auth_method": "none"})
}

// authorize consents at once: it redirects to the registered redirect URI
// with a code bound to the client, the redirect URI and the challenge.
func (a *AuthServer) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	a.mu.Lock()
	reg, known := a.clients[q.Get("client_id")]
	a.mu.Unlock()
	switch {
	case !known || reg != q.Get("redirect_uri"):
		http.Error(w, "unknown client or redirect URI", http.StatusBadRequest)
		return
	case q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "":
		http.Error(w, "PKCE S256 is required", http.StatusBadRequest)
		return
	}
	code := random(16)
	a.mu.Lock()
	a.codes[code] = grant{client: q.Get("client_id"), redirect: reg, challenge: q.Get("code_challenge")}
	a.mu.Unlock()
	back, _ := url.Parse(reg)
	bq := back.Query()
	bq.Set("code", code)
	bq.Set("state", q.Get("state"))
	bq.Set("iss", a.URL)
	back.RawQuery = bq.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

func (a *AuthServer) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if sec, ok := a.secrets[r.PostForm.Get("client_id")]; ok && r.PostForm.Get("client_secret") != sec {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	refused := func() { writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"}) }
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		g, ok := a.codes[r.PostForm.Get("code")]
		delete(a.codes, r.PostForm.Get("code")) // single use
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if !ok || g.client != r.PostForm.Get("client_id") || g.redirect != r.PostForm.Get("redirect_uri") ||
			base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
			refused()
			return
		}
		a.exchange++
	case "refresh_token":
		rt := r.PostForm.Get("refresh_token")
		if a.failRef || !a.refresh[rt] {
			refused()
			return
		}
		delete(a.refresh, rt) // rotated
		a.refreshN++
	default:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	at, rt := a.Prefix+"ACCESS"+random(12), a.Prefix+"REFRESH"+random(12)
	a.access[at], a.refresh[rt] = true, true
	a.issued = append(a.issued, at, rt)
	out := map[string]any{"access_token": at, "token_type": "Bearer", "refresh_token": rt}
	if a.expires > 0 {
		out["expires_in"] = a.expires
	}
	writeJSON(w, http.StatusOK, out)
}

// AddClient registers a confidential client by hand, as an admin would at
// the authorization server's console.
func (a *AuthServer) AddClient(id, secret, redirect string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.clients[id], a.secrets[id] = redirect, secret
}

// Consent follows authURL as a browser would, and returns the query the
// authorization server sent back to the redirect URI (code, state, iss).
func (a *AuthServer) Consent(t testing.TB, authURL string) url.Values {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil {
		t.Fatalf("authorize: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return loc.Query()
}

// Valid reports whether r carries a live access token as a bearer.
func (a *AuthServer) Valid(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	a.mu.Lock()
	defer a.mu.Unlock()
	return ok && a.access[tok]
}

// Protect makes opts guard a test MCP server with this server's tokens and
// serve its RFC 9728 protected resource metadata naming this server.
func (a *AuthServer) Protect(opts Options) Options {
	opts.Authorize = a.Valid
	opts.Wrap = func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/.well-known/oauth-protected-resource") {
				writeJSON(w, http.StatusOK, map[string]any{"resource": "http://" + r.Host + "/mcp",
					"authorization_servers": []string{a.URL}})
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	return opts
}

// ProtectAt is Protect for a server whose protected resource metadata is
// only at path (not at the well-known address), named by the
// resource_metadata of its 401 challenge; when elsewhere is set, the
// challenge names that URL instead (another origin: one a client must not
// follow).
func (a *AuthServer) ProtectAt(opts Options, path, elsewhere string) Options {
	opts.Authorize = a.Valid
	opts.Wrap = func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == path {
				writeJSON(w, http.StatusOK, map[string]any{"resource": "http://" + r.Host + "/mcp",
					"authorization_servers": []string{a.URL}})
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	opts.Challenge = func(r *http.Request) string {
		at := "http://" + r.Host + path
		if elsewhere != "" {
			at = elsewhere
		}
		return `Bearer error="invalid_token", resource_metadata="` + at + `"`
	}
	return opts
}

// SetExpiresIn sets the expires_in of the tokens issued from now on.
func (a *AuthServer) SetExpiresIn(sec int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.expires = sec
}

// FailRefresh makes every refresh from now on fail with invalid_grant.
func (a *AuthServer) FailRefresh() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.failRef = true
}

// RevokeAccess invalidates every access token issued so far.
func (a *AuthServer) RevokeAccess() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.access = map[string]bool{}
}

// Issued returns every token issued so far, access and refresh.
func (a *AuthServer) Issued() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.issued...)
}

// Counts returns how many code exchanges and refreshes succeeded.
func (a *AuthServer) Counts() (exchanges, refreshes int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.exchange, a.refreshN
}

// Headers returns the headers of every request received so far.
func (a *AuthServer) Headers() []http.Header {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]http.Header(nil), a.headers...)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func random(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
