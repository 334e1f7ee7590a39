package integration

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mark3labs/mcp-go/client/transport"

	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/secrets"
	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/secure/egress"
)

// OAuth 2.1 for remote MCP servers (auth_kind "oauth").
//
// Invariants, beside the package's:
//
//   - Discovery (RFC 9728 protected resource metadata, RFC 8414
//     authorization server metadata), dynamic client registration, the
//     code exchange and refreshes are mark3labs/mcp-go's OAuthHandler,
//     given an HTTP client that dials through the egress guard, caps
//     bodies, has a deadline, and follows a redirect only to the same
//     origin (a client secret or a code is never re-sent elsewhere).
//   - An authorization is started by an admin for one server: the state
//     (32 random bytes) is kept here, in memory, with the PKCE S256
//     verifier, the admin's session id and the server's name, for
//     AuthorizeTTL. The callback must present it from the same session
//     for the same server; it is consumed by its first presentation,
//     whatever the outcome. A refused callback stores nothing.
//   - The access and refresh tokens (and a client secret obtained by
//     dynamic registration) are vault secrets (tokenSecret), so the
//     redactor knows them; the database holds only their expiry. They are
//     never logged, audited, returned by an API or sent to the worker.
//   - The access token is attached by credTransport to requests for the
//     MCP server's origin only; the authorization server never gets it.
//   - A token expiring within tokenSkew is refreshed before use, and a 401
//     from the server triggers one refresh and one retry. A refresh the
//     authorization server refuses forgets the tokens and puts the server
//     in state needs_authorization (ErrAuthorizationNeeded): the model is
//     told an admin must authorize it again, and Run leaves it alone.

// AuthOAuth is the auth kind of servers that require OAuth 2.1.
const AuthOAuth = "oauth"

// AuthorizeTTL is how long a started authorization may be completed.
const AuthorizeTTL = 10 * time.Minute

// maxPending bounds the authorizations awaiting their callback.
const maxPending = 64

// tokenSkew: a token expiring sooner than this is refreshed before use.
const tokenSkew = 30 * time.Second

// maxOAuthBody caps one response body of the authorization server.
const maxOAuthBody = 1 << 20

// ErrAuthorizationNeeded is matched by errors of a server whose OAuth
// tokens are missing or were refused: an admin must authorize it again.
var ErrAuthorizationNeeded = errors.New("authorization needed")

// ErrAuthorizationRefused is matched by CompleteAuthorization's refusals
// of a callback (unknown, expired or replayed state, another session or
// server, an error answer, a failed exchange): nothing was stored.
var ErrAuthorizationRefused = errors.New("authorization refused")

// tokenSecret names the vault secret holding a server's OAuth value of
// kind ACCESS, REFRESH or CLIENT (a registered client's secret).
func tokenSecret(server, kind string) string {
	return secrets.SystemPrefix + strings.ToUpper(strings.ReplaceAll(server, "-", "_")) + "_" + kind
}

// pendingAuth is an authorization awaiting its callback.
type pendingAuth struct {
	server, session string
	verifier        string
	issuer          string
	handler         *transport.OAuthHandler
	expires         time.Time
}

// validScope reports whether s is an RFC 6749 scope-token.
func validScope(s string) bool {
	for _, c := range []byte(s) {
		if c < 0x21 || c == '"' || c == '\\' || c > 0x7e {
			return false
		}
	}
	return s != ""
}

// validateOAuth checks the OAuth fields of in.
func (in *ServerInput) validateOAuth() error {
	in.HeaderName, in.HeaderPrefix, in.SecretName = "", "", ""
	in.ClientID = strings.TrimSpace(in.ClientID)
	in.ClientSecretName = strings.TrimSpace(in.ClientSecretName)
	if len(in.ClientID) > 256 || strings.IndexFunc(in.ClientID, func(r rune) bool { return r < 0x21 || r > 0x7e }) >= 0 {
		return publicf("client_id: at most 256 printable characters without spaces (leave it empty to register Airlock dynamically)")
	}
	if in.ClientSecretName != "" {
		if !secretName.MatchString(in.ClientSecretName) {
			return publicf("client_secret_name: the name of a vault secret (A-Z, 0-9, _) holding the client's secret")
		}
		if secrets.IsSystem(in.ClientSecretName) {
			return systemSecret("client_secret_name")
		}
		if in.ClientID == "" {
			return publicf("client_secret_name: give the client_id this secret belongs to")
		}
	}
	scopes := strings.Fields(in.Scopes)
	for _, sc := range scopes {
		if !validScope(sc) {
			return publicf("scopes: scope names separated by spaces (printable characters, no quotes or backslashes)")
		}
	}
	in.Scopes = strings.Join(scopes, " ")
	if len(in.Scopes) > 1024 {
		return publicf("scopes: at most 1024 characters")
	}
	return nil
}

// oauthHTTP returns the client of OAuth requests: the egress guard, a
// deadline, a body cap, and redirects only within the origin.
func (s *Service) oauthHTTP() *http.Client {
	hc := s.cfg.Web.Streaming(func(next *http.Request, via []*http.Request) bool {
		return origin(next.URL) == origin(via[0].URL)
	})
	hc.Timeout = s.cfg.ConnectTimeout
	hc.Transport = &credTransport{base: hc.Transport, max: maxOAuthBody, tripped: new(atomic.Bool)}
	return hc
}

// resourceBase is the server's URL without query or fragment: the base of
// its OAuth discovery and its resource indicator.
func resourceBase(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.RawQuery, u.Fragment = "", ""
	return u.String()
}

// oauthHandler builds the mcp-go handler of srv with redirect as its
// redirect URI ("" outside an authorization).
func (s *Service) oauthHandler(ctx context.Context, srv store.MCPServer, redirect string) (*transport.OAuthHandler, error) {
	cfg := transport.OAuthConfig{ClientID: srv.OAuthClientID, RedirectURI: redirect, Scopes: strings.Fields(srv.OAuthScopes),
		PKCEEnabled: true, TokenStore: &tokenStore{s: s, server: srv.Name}, HTTPClient: s.oauthHTTP(),
		TokenEndpointAuthMethod: srv.OAuthAuthMethod}
	if srv.OAuthClientSecretName != "" {
		if secrets.IsSystem(srv.OAuthClientSecretName) && srv.OAuthClientSecretName != tokenSecret(srv.Name, "CLIENT") {
			return nil, systemSecret("client_secret_name")
		}
		v, err := s.cfg.Secret(ctx, srv.OAuthClientSecretName)
		if errors.Is(err, secrets.ErrNotFound) {
			return nil, publicf("client_secret_name: no vault secret named %s; add it on the Secrets page first", srv.OAuthClientSecretName)
		}
		if err != nil {
			return nil, fmt.Errorf("integration: read secret %s: %w", srv.OAuthClientSecretName, err)
		}
		cfg.ClientSecret = v
	}
	h := transport.NewOAuthHandler(cfg)
	h.SetBaseURL(resourceBase(srv.URL))
	s.challenge(ctx, h, srv.URL)
	return h, nil
}

// challenge asks the server, without a token, for its OAuth challenge. A
// 401 whose WWW-Authenticate names the server's protected resource
// metadata (RFC 9728 section 5.1, which MCP's authorization has clients
// follow) points discovery there instead of the well-known address;
// mcp-go takes the address only on the server's own origin. Any other
// answer, or none, leaves the well-known address, and discovery then
// explains what is missing. The request goes through the guard like every
// OAuth request.
func (s *Service) challenge(ctx context.Context, h *transport.OAuthHandler, serverURL string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, serverURL, strings.NewReader(challengeBody))
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := s.oauthHTTP().Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized {
		h.HandleUnauthorizedResponse(resp)
	}
}

// challengeBody is an MCP initialize request: what a client sends first.
const challengeBody = `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18",` +
	`"capabilities":{},"clientInfo":{"name":"airlock","version":"1"}}}`

// oauthError words a failed OAuth step for the admin: refusals of the
// egress guard as they are, anything else redacted and clipped.
func (s *Service) oauthError(step string, err error) error {
	var pe *PublicError
	switch {
	case errors.As(err, &pe):
		return err
	case errors.Is(err, egress.ErrRefused):
		return publicf("%s: %s", step, s.cfg.Redact(strings.TrimPrefix(lastRefusal(err, err.Error()), "egress: ")))
	case errors.Is(err, errTooLarge):
		return publicf("%s: the authorization server's response is larger than %d bytes", step, maxOAuthBody)
	case isTimeout(err) || errors.Is(err, context.DeadlineExceeded):
		return publicf("%s: the authorization server did not answer within %s", step, s.cfg.ConnectTimeout)
	}
	return publicf("%s: %s", step, clip(s.cfg.Redact(err.Error()), 300))
}

// discover fetches srv's authorization server metadata through the guard.
func (s *Service) discover(ctx context.Context, h *transport.OAuthHandler) (*transport.AuthServerMetadata, error) {
	md, err := h.GetServerMetadata(ctx)
	if err != nil {
		return nil, s.oauthError("OAuth discovery", err)
	}
	if len(md.ResponseTypesSupported) == 0 {
		// mcp-go falls back to guessed endpoints (<issuer>/token...) when
		// no metadata document answers; Airlock does not guess.
		return nil, s.metadataMissing(ctx, md.Issuer)
	}
	if len(md.CodeChallengeMethodsSupported) > 0 && !slices.ContainsFunc(md.CodeChallengeMethodsSupported, func(m string) bool { return strings.EqualFold(m, "S256") }) {
		return nil, publicf("OAuth discovery: the authorization server does not support PKCE with S256, which OAuth 2.1 requires")
	}
	return md, nil
}

// metadataMissing explains why issuer's RFC 8414 metadata could not be
// read: it asks for it once more, through the guard, for the reason.
func (s *Service) metadataMissing(ctx context.Context, issuer string) error {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" {
		return publicf("OAuth discovery: the server names no usable authorization server")
	}
	u.Path = "/.well-known/oauth-authorization-server" + strings.TrimSuffix(u.Path, "/")
	u.RawQuery, u.Fragment = "", ""
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return publicf("OAuth discovery: the authorization server's address %s cannot be used", u.Host)
	}
	resp, err := s.oauthHTTP().Do(req)
	if err != nil {
		return s.oauthError("OAuth discovery", err)
	}
	resp.Body.Close()
	return publicf("OAuth discovery: no authorization server metadata (RFC 8414) at %s (HTTP %d)", u.Redacted(), resp.StatusCode)
}

// addOAuth stores an OAuth server awaiting its first authorization, after
// checking that its authorization server can be discovered through the
// guard and that Airlock can be its client.
func (s *Service) addOAuth(ctx context.Context, in ServerInput, by string) (store.MCPServer, error) {
	if s.cfg.SetSecret == nil || s.cfg.DeleteSecret == nil {
		return store.MCPServer{}, publicf("auth_kind: OAuth needs a writable vault, which this service lacks")
	}
	srv := store.MCPServer{Name: in.Name, URL: in.URL, Transport: in.Transport, AuthKind: AuthOAuth, CreatedBy: by,
		State: store.MCPNeedsAuth, OAuthClientID: in.ClientID, OAuthClientSecretName: in.ClientSecretName, OAuthScopes: in.Scopes}
	dctx, cancel := context.WithTimeout(ctx, s.cfg.ConnectTimeout)
	defer cancel()
	h, err := s.oauthHandler(dctx, srv, "")
	if err == nil {
		var md *transport.AuthServerMetadata
		if md, err = s.discover(dctx, h); err == nil && in.ClientID == "" && md.RegistrationEndpoint == "" {
			err = publicf("client_id: the authorization server offers no dynamic client registration; register Airlock with it and give the client id (and its secret's vault name)")
		}
	}
	if err != nil {
		s.cfg.Audit(ctx, audit.Event{Actor: by, Action: "mcp_server.add", Target: in.Name, Outcome: audit.OutcomeError,
			Details: map[string]any{"url_host": audit.URLHost(in.URL), "auth_kind": AuthOAuth, "error": err.Error()}})
		return store.MCPServer{}, err
	}
	if err := s.cfg.Store.AddMCPServer(ctx, srv, nil); err != nil {
		if errors.Is(err, store.ErrExists) {
			return store.MCPServer{}, publicf("name: a server named %q already exists", in.Name)
		}
		return store.MCPServer{}, err
	}
	s.cfg.Audit(ctx, audit.Event{Actor: by, Action: "mcp_server.add", Target: in.Name, Outcome: audit.OutcomeOK,
		Details: map[string]any{"url_host": audit.URLHost(in.URL), "transport": in.Transport, "auth_kind": AuthOAuth,
			"client_id": in.ClientID, "client_secret_name": in.ClientSecretName, "scopes": in.Scopes}})
	return s.cfg.Store.GetMCPServer(ctx, in.Name)
}

// checkRedirect refuses a redirect URI OAuth 2.1 does not allow: https,
// or http on a loopback host.
func checkRedirect(redirect string) error {
	u, err := url.Parse(redirect)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" {
		return publicf("redirect URI: %q is not an absolute URL", redirect)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		h := u.Hostname()
		if a, err := netip.ParseAddr(h); h == "localhost" || err == nil && a.IsLoopback() {
			return nil
		}
	}
	return publicf("redirect URI: %s must be https (or http on localhost); set the review URL setting (discord.review_base_url) to the https address you reach Airlock at", redirect)
}

func randomState() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// BeginAuthorization starts an admin's authorization of server: it
// discovers the authorization server, registers Airlock with it when no
// client id is known (or the redirect URI changed since), and returns the
// authorization URL (PKCE S256, a fresh state bound to session and server)
// for the admin's browser.
func (s *Service) BeginAuthorization(ctx context.Context, server, session, redirect, by string) (string, error) {
	srv, err := s.cfg.Store.GetMCPServer(ctx, server)
	if err != nil {
		return "", err
	}
	if srv.AuthKind != AuthOAuth {
		return "", publicf("%s does not use OAuth", server)
	}
	if session == "" {
		return "", errors.New("integration: an authorization needs the admin's session")
	}
	if err := checkRedirect(redirect); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*s.cfg.ConnectTimeout)
	defer cancel()
	h, err := s.oauthHandler(ctx, srv, redirect)
	if err != nil {
		return "", err
	}
	md, err := s.discover(ctx, h)
	if err != nil {
		return "", err
	}
	registered := srv.OAuthRegisteredRedirect != ""
	if srv.OAuthClientID == "" || registered && srv.OAuthRegisteredRedirect != redirect {
		if md.RegistrationEndpoint == "" {
			return "", publicf("client_id: the authorization server offers no dynamic client registration; give a client id")
		}
		if err := h.RegisterClient(ctx, "Airlock"); err != nil {
			return "", s.oauthError("OAuth client registration", err)
		}
		id, secretName := h.GetClientID(), ""
		if id == "" || len(id) > 256 {
			return "", publicf("OAuth client registration: the authorization server returned no usable client id")
		}
		if sec := h.GetClientSecret(); sec != "" {
			secretName = tokenSecret(server, "CLIENT")
			if err := s.cfg.SetSecret(context.WithoutCancel(ctx), secretName, sec); err != nil {
				return "", publicf("OAuth client registration: the client secret cannot be kept in the vault (%s)", clip(s.cfg.Redact(err.Error()), 200))
			}
		}
		if err := s.cfg.Store.SetMCPOAuthClient(ctx, server, id, secretName, redirect, h.GetTokenEndpointAuthMethod()); err != nil {
			return "", err
		}
		s.cfg.Audit(ctx, audit.Event{Actor: by, Action: "mcp_server.oauth_registered", Target: server, Outcome: audit.OutcomeOK,
			Details: map[string]any{"as_host": audit.URLHost(md.RegistrationEndpoint), "client_id": id}})
	}
	verifier, err := transport.GenerateCodeVerifier()
	if err != nil {
		return "", err
	}
	state, err := randomState()
	if err != nil {
		return "", err
	}
	authURL, err := h.GetAuthorizationURL(ctx, state, transport.GenerateCodeChallenge(verifier))
	if err != nil {
		return "", s.oauthError("OAuth authorization", err)
	}
	now := s.cfg.Now()
	s.mu.Lock()
	for k, p := range s.pending {
		if now.After(p.expires) {
			delete(s.pending, k)
		}
	}
	if len(s.pending) >= maxPending {
		s.mu.Unlock()
		return "", publicf("too many authorizations are under way; finish or wait %s for them to expire", AuthorizeTTL)
	}
	s.pending[state] = &pendingAuth{server: server, session: session, verifier: verifier, issuer: md.Issuer,
		handler: h, expires: now.Add(AuthorizeTTL)}
	s.mu.Unlock()
	s.cfg.Audit(ctx, audit.Event{Actor: by, Action: "mcp_server.oauth_start", Target: server, Outcome: audit.OutcomeOK,
		Details: map[string]any{"as_host": audit.URLHost(md.AuthorizationEndpoint)}})
	return authURL, nil
}

// Callback is what the authorization server sent the admin's browser back
// with.
type Callback struct {
	State, Code string
	// Issuer is the RFC 9207 iss parameter, when the server sends one.
	Issuer string
	// Error is the error parameter of a refused authorization.
	Error string
}

// CompleteAuthorization finishes an authorization: the state must be one
// this service issued, unexpired, to session, for server; it is consumed
// whatever the outcome. The code is exchanged (with the PKCE verifier),
// the tokens go to the vault, and the server is connected. A refusal
// stores nothing and is a PublicError.
func (s *Service) CompleteAuthorization(ctx context.Context, server, session string, cb Callback, by string) error {
	s.mu.Lock()
	p, ok := s.pending[cb.State]
	if ok {
		delete(s.pending, cb.State)
	}
	s.mu.Unlock()
	refuse := func(why string) error {
		s.cfg.Audit(ctx, audit.Event{Actor: by, Action: "mcp_server.oauth_authorized", Target: server, Outcome: audit.OutcomeDenied,
			Details: map[string]any{"reason": why}})
		return &PublicError{Msg: fmt.Sprintf("The authorization of %s was refused: %s. Nothing was stored; start again with Authorize on the Integrations page.",
			server, why), Err: ErrAuthorizationRefused}
	}
	switch {
	case cb.State == "" || !ok:
		return refuse("this authorization response is unknown or was already used")
	case s.cfg.Now().After(p.expires):
		return refuse(fmt.Sprintf("it was started more than %s ago", AuthorizeTTL))
	case p.session != session:
		return refuse("it was started in another session")
	case p.server != server:
		return refuse("it was started for another server")
	case cb.Error != "":
		return refuse("the authorization server answered " + oauthCode(cb.Error))
	case cb.Code == "":
		return refuse("the authorization server sent no code")
	case cb.Issuer != "" && strings.TrimSuffix(cb.Issuer, "/") != strings.TrimSuffix(p.issuer, "/"):
		return refuse("the response names another authorization server than the one asked (mix-up)")
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ConnectTimeout)
	defer cancel()
	if err := p.handler.ProcessAuthorizationResponse(ctx, cb.Code, cb.State, p.verifier); err != nil {
		return refuse(s.oauthError("the token exchange failed", err).Error())
	}
	if err := s.cfg.Store.SetMCPOAuthIssuer(ctx, server, p.issuer); err != nil {
		return err
	}
	s.cfg.Audit(ctx, audit.Event{Actor: by, Action: "mcp_server.oauth_authorized", Target: server, Outcome: audit.OutcomeOK,
		Details: map[string]any{"as_host": audit.URLHost(p.issuer)}})
	return s.Refresh(context.WithoutCancel(ctx), server)
}

// oauthCode keeps an error code to the characters RFC 6749 allows it.
func oauthCode(s string) string {
	s = strings.Map(func(r rune) rune {
		if r >= 0x20 && r <= 0x7e && r != '"' && r != '\\' {
			return r
		}
		return -1
	}, s)
	return clip(s, 60)
}

// forgetOAuth deletes a server's tokens from the vault (and, with client,
// the secret of a dynamically registered client) and its pending
// authorizations.
func (s *Service) forgetOAuth(ctx context.Context, server string, client bool) {
	kinds := []string{"ACCESS", "REFRESH"}
	if client {
		kinds = append(kinds, "CLIENT")
		s.mu.Lock()
		for k, p := range s.pending {
			if p.server == server {
				delete(s.pending, k)
			}
		}
		s.mu.Unlock()
	}
	if s.cfg.DeleteSecret == nil {
		return
	}
	for _, k := range kinds {
		if err := s.cfg.DeleteSecret(context.WithoutCancel(ctx), tokenSecret(server, k)); err != nil && !errors.Is(err, secrets.ErrNotFound) {
			s.cfg.Logger.Error("deleting an OAuth secret failed", "server", server, "secret", tokenSecret(server, k), "err", err)
		}
	}
	if err := s.cfg.Store.SetMCPOAuthExpiry(context.WithoutCancel(ctx), server, time.Time{}); err != nil && !errors.Is(err, store.ErrNotFound) {
		s.cfg.Logger.Error("clearing an OAuth expiry failed", "server", server, "err", err)
	}
}

// systemSecret refuses a field naming one of Airlock's own secrets (an
// OAuth server's tokens or client, secrets.SystemPrefix): they go to their
// own server only, never as another server's credential.
func systemSecret(field string) error {
	return publicf("%s: %s… secrets are Airlock's own OAuth tokens and clients; name a secret you added", field, secrets.SystemPrefix)
}

// tokenStore keeps a server's tokens in the vault for mcp-go's handler.
type tokenStore struct {
	s      *Service
	server string
}

func (ts *tokenStore) secret(ctx context.Context, kind string) (string, error) {
	v, err := ts.s.cfg.Secret(ctx, tokenSecret(ts.server, kind))
	if errors.Is(err, secrets.ErrNotFound) {
		return "", nil
	}
	return v, err
}

// GetToken returns the stored tokens. A token expiring within tokenSkew
// (by the service's clock) is reported expired, so it is refreshed first.
func (ts *tokenStore) GetToken(ctx context.Context) (*transport.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	access, err := ts.secret(ctx, "ACCESS")
	if err != nil {
		return nil, err
	}
	refresh, err := ts.secret(ctx, "REFRESH")
	if err != nil {
		return nil, err
	}
	if access == "" && refresh == "" {
		return nil, transport.ErrNoToken
	}
	srv, err := ts.s.cfg.Store.GetMCPServer(ctx, ts.server)
	if err != nil {
		return nil, err
	}
	t := &transport.Token{AccessToken: access, RefreshToken: refresh, TokenType: "Bearer"}
	if !srv.OAuthExpiresAt.IsZero() && !ts.s.cfg.Now().Add(tokenSkew).Before(srv.OAuthExpiresAt) {
		t.ExpiresAt = time.Now().Add(-time.Second)
	}
	return t, nil
}

// SaveToken stores a new token: its values in the vault (so the redactor
// learns them before they are used), its expiry in the database.
func (ts *tokenStore) SaveToken(ctx context.Context, t *transport.Token) error {
	if t.TokenType != "" && !strings.EqualFold(t.TokenType, "bearer") {
		return publicf("the authorization server issued a %q token; only Bearer tokens are supported", oauthCode(t.TokenType))
	}
	if t.AccessToken == "" || strings.ContainsAny(t.AccessToken, "\r\n\x00") {
		return publicf("the authorization server issued no usable access token")
	}
	ctx = context.WithoutCancel(ctx)
	if err := ts.keep(ctx, "ACCESS", "access", t.AccessToken); err != nil {
		return err
	}
	if t.RefreshToken != "" {
		if err := ts.keep(ctx, "REFRESH", "refresh", t.RefreshToken); err != nil {
			return err
		}
	}
	var exp time.Time
	if t.ExpiresIn > 0 {
		exp = ts.s.cfg.Now().Add(time.Duration(t.ExpiresIn) * time.Second)
	}
	return ts.s.cfg.Store.SetMCPOAuthExpiry(ctx, ts.server, exp)
}

// keep stores a token in the vault unless it holds that value already
// (mcp-go hands back the refresh token a server did not rotate): every
// vault write rebuilds the redactor.
func (ts *tokenStore) keep(ctx context.Context, kind, what, v string) error {
	if cur, err := ts.secret(ctx, kind); err == nil && cur == v {
		return nil
	}
	if err := ts.s.cfg.SetSecret(ctx, tokenSecret(ts.server, kind), v); err != nil {
		return publicf("the %s token cannot be kept in the vault: %s", what, clip(ts.s.cfg.Redact(err.Error()), 200))
	}
	return nil
}

// oauthSession gives credTransport a server's access token and refreshes
// it.
type oauthSession struct {
	s      *Service
	server string
	mu     sync.Mutex // one refresh at a time: a refresh token may be single use
}

// oauthSession returns server's session, one per server, so that its
// connections and calls share one refresh.
func (s *Service) oauthSession(server string) *oauthSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.sessions[server]
	if o == nil {
		o = &oauthSession{s: s, server: server}
		s.sessions[server] = o
	}
	return o
}

func (o *oauthSession) store() *tokenStore { return &tokenStore{s: o.s, server: o.server} }

// token returns a usable access token, refreshing an expiring one.
func (o *oauthSession) token(ctx context.Context) (string, error) {
	t, err := o.store().GetToken(ctx)
	if errors.Is(err, transport.ErrNoToken) {
		return "", o.needed(ctx, "it has no access token")
	}
	if err != nil {
		return "", err
	}
	if t.IsExpired() || t.AccessToken == "" {
		return o.refresh(ctx, t.AccessToken)
	}
	return t.AccessToken, nil
}

// needed marks the server as needing authorization and returns the error
// that says so.
func (o *oauthSession) needed(ctx context.Context, why string) error {
	if srv, err := o.s.cfg.Store.GetMCPServer(ctx, o.server); err == nil && srv.State != store.MCPNeedsAuth {
		o.s.setState(ctx, srv, store.MCPNeedsAuth, errors.New(why))
	}
	return &PublicError{Msg: fmt.Sprintf("authorization needed: %s; an admin must authorize Airlock again (Integrations page, Authorize)", why),
		Err: ErrAuthorizationNeeded}
}

// refresh replaces the access token stale with a new one, unless another
// caller already did.
func (o *oauthSession) refresh(ctx context.Context, stale string) (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	ts := o.store()
	t, err := ts.GetToken(ctx)
	if errors.Is(err, transport.ErrNoToken) {
		return "", o.needed(ctx, "it has no access token")
	}
	if err != nil {
		return "", err
	}
	if t.AccessToken != "" && t.AccessToken != stale && !t.IsExpired() {
		return t.AccessToken, nil
	}
	if t.RefreshToken == "" {
		return "", o.needed(ctx, "its access token expired and there is no refresh token")
	}
	srv, err := o.s.cfg.Store.GetMCPServer(ctx, o.server)
	if err != nil {
		return "", err
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.s.cfg.ConnectTimeout)
	defer cancel()
	h, err := o.s.oauthHandler(rctx, srv, "")
	if err != nil {
		return "", err
	}
	// Discovered as at authorization, so that the refresh token goes only
	// to a token endpoint the authorization server declared (never one
	// mcp-go guesses on the MCP server's origin when the metadata does not
	// answer), and only to the authorization server it came from.
	md, err := o.s.discover(rctx, h)
	if err != nil {
		return "", o.refreshFailed(err)
	}
	if srv.OAuthIssuer != "" && strings.TrimSuffix(md.Issuer, "/") != strings.TrimSuffix(srv.OAuthIssuer, "/") {
		o.s.cfg.Audit(ctx, audit.Event{Actor: "system", Action: "mcp_server.oauth_refresh", Target: o.server,
			Outcome: audit.OutcomeDenied, Details: map[string]any{"reason": "another authorization server",
				"as_host": audit.URLHost(md.Issuer), "pinned_host": audit.URLHost(srv.OAuthIssuer)}})
		return "", o.needed(ctx, "its metadata now names another authorization server than the one it was authorized with; the refresh token was not sent")
	}
	nt, err := h.RefreshToken(rctx, t.RefreshToken)
	if err != nil {
		if !refusedGrant(err) {
			return "", o.refreshFailed(err)
		}
		o.s.forgetOAuth(ctx, o.server, false)
		o.s.cfg.Audit(ctx, audit.Event{Actor: "system", Action: "mcp_server.oauth_refresh", Target: o.server,
			Outcome: audit.OutcomeDenied, Details: map[string]any{"error": clip(o.s.cfg.Redact(err.Error()), 300)}})
		return "", o.needed(ctx, "the authorization server refused to refresh its token")
	}
	if srv.OAuthIssuer == "" { // authorized before issuers were pinned
		if err := o.s.cfg.Store.SetMCPOAuthIssuer(ctx, o.server, md.Issuer); err != nil {
			o.s.cfg.Logger.Error("pinning an OAuth issuer failed", "server", o.server, "err", err)
		}
	}
	o.s.cfg.Logger.Info("MCP server's OAuth token refreshed", "server", o.server)
	return nt.AccessToken, nil
}

// refusedGrant reports whether a refresh failed because the authorization
// server refused the grant or the client (RFC 6749 section 5.2), when the
// tokens are of no more use. Anything else (a 5xx, a rate limit, a network
// failure, the vault) keeps them for the next try.
func refusedGrant(err error) bool {
	var oe transport.OAuthError
	if errors.As(err, &oe) {
		switch oe.ErrorCode {
		case "invalid_grant", "invalid_client", "unauthorized_client":
			return true
		}
		return false
	}
	// An error answer that is not the JSON RFC 6749 asks for: 400 and
	// 401 are what it gives those refusals.
	msg := err.Error()
	return strings.Contains(msg, "refresh token request failed with status 400") ||
		strings.Contains(msg, "refresh token request failed with status 401")
}

// refreshFailed logs why a refresh failed and returns what the caller (the
// model, through the tool's error) is told: a fixed text, since the
// authorization server's answer is third-party text.
func (o *oauthSession) refreshFailed(err error) error {
	o.s.cfg.Logger.Warn("refreshing an MCP server's OAuth token failed", "server", o.server,
		"err", clip(o.s.cfg.Redact(err.Error()), 300))
	return publicf("refreshing the OAuth token of %s failed (the reason is in Airlock's log); the call was not made", o.server)
}
