package integration

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"

	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/airlockhq/airlock/orchestrator/secrets"
	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/secure/egress"
)

// conn is one live connection to a server.
type conn struct {
	mc      *mcpclient.Client
	hc      *http.Client
	tripped *atomic.Bool // a response was larger than the cap
	broken  atomic.Bool  // the transport failed; reconnect before use
	relist  atomic.Bool  // the server said its tools changed; list before a call
}

func (c *conn) close() {
	if c == nil {
		return
	}
	_ = c.mc.Close()
	c.hc.CloseIdleConnections()
}

// errTooLarge is returned by a capped body past its cap.
var errTooLarge = errors.New("the server's response is larger than the size cap")

// credTransport adds the server's credential to requests for its own
// origin only, and caps every response body. With oauth, the credential is
// the server's current access token, refreshed when it expires and once on
// a 401 (the request is then sent again).
type credTransport struct {
	base    http.RoundTripper
	origin  string // scheme://host:port
	header  string // "" when none
	value   string
	oauth   *oauthSession
	max     int64
	tripped *atomic.Bool
}

func origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[strings.ToLower(u.Scheme)]
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Hostname()) + ":" + port
}

func (t *credTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var resp *http.Response
	var err error
	switch {
	case t.oauth != nil && origin(req.URL) == t.origin:
		resp, err = t.oauthTrip(req)
	case t.header != "" && origin(req.URL) == t.origin:
		req = req.Clone(req.Context())
		req.Header.Set(t.header, t.value)
		resp, err = t.base.RoundTrip(req)
	default:
		resp, err = t.base.RoundTrip(req)
	}
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > t.max {
		resp.Body.Close()
		t.tripped.Store(true)
		return nil, errTooLarge
	}
	resp.Body = &cappedBody{rc: resp.Body, left: t.max, tripped: t.tripped}
	return resp, nil
}

// oauthTrip sends req with the access token, and on a 401 refreshes it and
// sends req once more (when its body can be replayed).
func (t *credTransport) oauthTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	token, err := t.oauth.token(ctx)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	first := req.Clone(ctx)
	first.Header.Set("Authorization", "Bearer "+token)
	if req.Body != nil && req.GetBody != nil {
		if first.Body, err = req.GetBody(); err != nil {
			return nil, err
		}
	}
	resp, err := t.base.RoundTrip(first)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	resp.Body.Close()
	if req.Body != nil && req.GetBody == nil {
		return nil, &PublicError{Msg: "the server refused the access token", Err: ErrAuthorizationNeeded}
	}
	fresh, err := t.oauth.refresh(ctx, token)
	if err != nil {
		return nil, err
	}
	again := req.Clone(ctx)
	again.Header.Set("Authorization", "Bearer "+fresh)
	if req.GetBody != nil {
		if again.Body, err = req.GetBody(); err != nil {
			return nil, err
		}
	}
	resp, err = t.base.RoundTrip(again)
	if err == nil && resp.StatusCode == http.StatusUnauthorized {
		resp.Body.Close()
		return nil, t.oauth.needed(ctx, "the server refused a freshly refreshed access token")
	}
	return resp, err
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// cappedBody fails a read past its cap instead of truncating silently.
type cappedBody struct {
	rc      io.ReadCloser
	left    int64
	tripped *atomic.Bool
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a body at the cap from one past it.
		var one [1]byte
		if n, _ := b.rc.Read(one[:]); n > 0 {
			b.tripped.Store(true)
			return 0, errTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *cappedBody) Close() error { return b.rc.Close() }

// credential reads the server's header value from the vault.
func (s *Service) credential(ctx context.Context, srv store.MCPServer) (header, value string, err error) {
	if srv.AuthKind != AuthHeader {
		return "", "", nil
	}
	if secrets.IsSystem(srv.SecretName) { // refused when added; a row written before is refused here
		return "", "", systemSecret("secret_name")
	}
	v, err := s.cfg.Secret(ctx, srv.SecretName)
	if errors.Is(err, secrets.ErrNotFound) {
		return "", "", publicf("secret_name: no vault secret named %s; add it on the Secrets page first", srv.SecretName)
	}
	if err != nil {
		return "", "", fmt.Errorf("integration: read secret %s: %w", srv.SecretName, err)
	}
	if v == "" {
		return "", "", publicf("secret_name: the vault secret %s is empty", srv.SecretName)
	}
	if strings.ContainsAny(v, "\r\n\x00") {
		return "", "", publicf("secret_name: the vault secret %s holds a line break, which a header cannot carry", srv.SecretName)
	}
	return srv.HeaderName, srv.HeaderPrefix + v, nil
}

// dial connects to srv, initializes the MCP session and lists its tools.
// Its errors are PublicError, worded for the admin, and redacted.
func (s *Service) connect(ctx context.Context, srv store.MCPServer) (*conn, []store.MCPTool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ConnectTimeout)
	defer cancel()
	header, value, err := s.credential(ctx, srv)
	if err != nil {
		return nil, nil, err
	}
	u, err := url.Parse(srv.URL)
	if err != nil {
		return nil, nil, publicf("url: cannot be parsed")
	}
	tripped := new(atomic.Bool)
	hc := s.cfg.Web.Streaming(nil)
	ct := &credTransport{base: hc.Transport, origin: origin(u), header: header, value: value,
		max: s.cfg.MaxResponseBytes, tripped: tripped}
	if srv.AuthKind == AuthOAuth {
		ct.oauth = s.oauthSession(srv.Name)
		// Fail early, without a network round trip, when there is no token.
		if _, err := ct.oauth.token(ctx); err != nil {
			return nil, nil, s.connError(ctx, srv, "connect", err)
		}
	}
	hc.Transport = ct
	// The transport's own messages go to our logger (redacting in the
	// orchestrator), named by server, never to the standard logger.
	log := s.cfg.Logger.With("mcp_server", srv.Name)
	var tr transport.Interface
	if srv.Transport == TransportSSE {
		tr, err = transport.NewSSE(srv.URL, transport.WithHTTPClient(hc), transport.WithSSELogger(log))
	} else {
		tr, err = transport.NewStreamableHTTP(srv.URL, transport.WithHTTPBasicClient(hc),
			transport.WithHTTPTimeout(s.cfg.CallTimeout), transport.WithHTTPLogger(log))
	}
	if err != nil {
		return nil, nil, publicf("url: %s", s.cfg.Redact(err.Error()))
	}
	mc := mcpclient.NewClient(tr, mcpclient.WithProtocolVersion(mcp.LATEST_LEGACY_PROTOCOL_VERSION))
	c := &conn{mc: mc, hc: hc, tripped: tripped}
	fail := func(step string, err error) (*conn, []store.MCPTool, error) {
		c.close()
		return nil, nil, s.connError(ctx, srv, step, err)
	}
	// Start may open a long-lived stream (SSE): it gets no deadline of its
	// own, only the service's lifetime through close.
	if err := mc.Start(context.WithoutCancel(ctx)); err != nil {
		return fail("connect", err)
	}
	req := mcp.InitializeRequest{}
	req.Params.ClientInfo = mcp.Implementation{Name: "airlock", Version: "1"}
	req.Params.ProtocolVersion = mcp.LATEST_LEGACY_PROTOCOL_VERSION
	if _, err := mc.Initialize(ctx, req); err != nil {
		return fail("initialize", err)
	}
	res, err := mc.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil {
		return fail("list tools", err)
	}
	listed, err := s.definitions(srv.Name, res.Tools)
	if err != nil {
		return fail("list tools", err)
	}
	return c, listed, nil
}

// connError words a failure to connect for the admin: refusals by the
// egress guard as they are, anything else with the step it failed at.
func (s *Service) connError(ctx context.Context, srv store.MCPServer, step string, err error) error {
	var pe *PublicError
	switch {
	case errors.As(err, &pe):
		return pe
	case errors.Is(err, egress.ErrRefused):
		var msg string
		for e := err; e != nil; e = errors.Unwrap(e) {
			if errors.Is(e, egress.ErrRefused) {
				msg = e.Error()
			}
		}
		return publicf("url: %s", s.cfg.Redact(strings.TrimPrefix(lastRefusal(err, msg), "egress: ")))
	case errors.Is(err, errTooLarge):
		return publicf("%s: %s (%d bytes)", step, errTooLarge, s.cfg.MaxResponseBytes)
	case ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded):
		return publicf("%s: the server did not answer within %s", step, s.cfg.ConnectTimeout)
	}
	msg := s.cfg.Redact(err.Error())
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	return publicf("%s: %s is not reachable as an MCP server (%s)", step, hostOf(srv.URL), msg)
}

// lastRefusal finds the guard's own refusal message in err's text.
func lastRefusal(err error, fallback string) string {
	text := err.Error()
	if i := strings.Index(text, "egress: refused: "); i >= 0 {
		return text[i:]
	}
	return fallback
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "the server"
	}
	return u.Host
}
