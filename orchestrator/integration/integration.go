// Package integration connects the orchestrator to external MCP servers
// (GitHub, a calendar, a home-automation bridge) on the AI's behalf, without
// giving the AI their credentials (issue 15).
//
// Invariants:
//
//   - The orchestrator is the MCP client (mark3labs/mcp-go, streamable HTTP
//     or SSE). Every connection goes through the egress guard: the server's
//     host must be allowed by it, private and loopback addresses are refused
//     unless allowlisted, and the admin server's own address never.
//   - A server's credential is a vault secret, read when a connection is
//     made and attached by the HTTP transport to requests whose scheme, host
//     and port are the server's, and to no other: a redirect elsewhere is
//     sent without it. It is never stored here, logged, or shown.
//   - Nothing a server lists is offered to the model until an admin approves
//     that exact definition (the SHA-256 of name, description and input
//     schema). A changed definition withdraws the tool until it is approved
//     again, and the admins are told; a new tool arrives pending (denied).
//   - Calls are bounded: arguments size, response bytes on the wire, result
//     text, wall-clock time, and an optional daily cap per tool. Every call
//     is audited with a hash of its arguments, never the arguments.
package integration

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/secrets"
	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/secure/egress"
)

// Transports.
const (
	TransportStreamable = "streamable"
	TransportSSE        = "sse"
)

// Auth kinds.
const (
	AuthNone   = "none"
	AuthHeader = "header"
)

// Defaults of Config.
const (
	DefaultCallTimeout      = 30 * time.Second
	DefaultConnectTimeout   = 15 * time.Second
	DefaultMaxResponseBytes = 4 << 20
	DefaultMaxResultBytes   = 64 << 10
	DefaultRefreshEvery     = 5 * time.Minute
	DefaultMaxBackoff       = 5 * time.Minute
	// DefaultListBeforeCall: a call lists the server's tools first when
	// the last listing is older, so a changed definition is caught within
	// this window even from a server that sends no change notice.
	DefaultListBeforeCall = 30 * time.Second
)

// PublicError is an error whose text may be shown to an admin and to the
// model: it names the field or the problem, never a secret.
type PublicError struct {
	Msg string
	// Err, when set, is what errors.Is matches (ErrAuthorizationNeeded).
	Err error
}

func (e *PublicError) Error() string { return e.Msg }

func (e *PublicError) Unwrap() error { return e.Err }

func publicf(format string, args ...any) error {
	return &PublicError{Msg: fmt.Sprintf(format, args...)}
}

// Config wires a Service.
type Config struct {
	Store *store.Store
	// Web is the egress guard MCP connections dial through.
	Web *egress.Client
	// Secret returns a vault secret's value.
	Secret func(ctx context.Context, name string) (string, error)
	// SetSecret and DeleteSecret write the vault: OAuth tokens live there
	// (so the redactor learns them). Nil: auth_kind oauth is refused.
	SetSecret    func(ctx context.Context, name, value string) error
	DeleteSecret func(ctx context.Context, name string) error
	// Audit records an event; Redact scrubs secret values from text.
	Audit  func(ctx context.Context, e audit.Event)
	Redact func(string) string
	Logger *slog.Logger
	// Notify tells the admins that approved tools of server were
	// withdrawn after their definition changed. Nil: audit and log only.
	Notify func(ctx context.Context, server string, tools []string)

	CallTimeout      time.Duration // one tool call
	ConnectTimeout   time.Duration // connect, initialize and list
	MaxResponseBytes int64         // one HTTP response body on the wire
	MaxResultBytes   int           // the text handed to the model
	RefreshEvery     time.Duration // re-listing of tools (rug-pull check)
	ListBeforeCall   time.Duration // a call re-lists first when the listing is older
	MaxBackoff       time.Duration // reconnect backoff ceiling
	Now              func() time.Time
}

// Service owns the connections to the external servers.
type Service struct {
	cfg Config

	mu       sync.Mutex
	conns    map[string]*conn
	listed   map[string]time.Time    // last successful listing per server
	pending  map[string]*pendingAuth // OAuth authorizations awaiting their callback, by state
	sessions map[string]*oauthSession
	kick     chan struct{}
}

// New returns a Service; Run keeps its connections.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Web == nil || cfg.Secret == nil {
		return nil, errors.New("integration: a store, an egress client and a secret source are required")
	}
	if cfg.Audit == nil {
		cfg.Audit = func(context.Context, audit.Event) {}
	}
	if cfg.Redact == nil {
		cfg.Redact = func(s string) string { return s }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = DefaultCallTimeout
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.MaxResponseBytes <= 0 {
		cfg.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if cfg.MaxResultBytes <= 0 {
		cfg.MaxResultBytes = DefaultMaxResultBytes
	}
	if cfg.RefreshEvery <= 0 {
		cfg.RefreshEvery = DefaultRefreshEvery
	}
	if cfg.ListBeforeCall <= 0 {
		cfg.ListBeforeCall = DefaultListBeforeCall
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{cfg: cfg, conns: map[string]*conn{}, listed: map[string]time.Time{},
		pending: map[string]*pendingAuth{}, sessions: map[string]*oauthSession{}, kick: make(chan struct{}, 1)}, nil
}

// ServerInput is what an admin gives to add a server.
type ServerInput struct {
	Name       string `json:"name"`
	URL        string `json:"url"`
	Transport  string `json:"transport"`
	AuthKind   string `json:"auth_kind"`
	HeaderName string `json:"header_name"`
	// HeaderPrefix goes before the secret's value ("Bearer "); the secret
	// itself holds the bare token, so the redactor knows it alone.
	HeaderPrefix string `json:"header_prefix"`
	SecretName   string `json:"secret_name"`
	// OAuth (auth_kind "oauth"): an optional client id (empty: Airlock
	// registers itself dynamically), the vault name of that client's
	// secret, and the scopes to ask for, separated by spaces.
	ClientID         string `json:"client_id"`
	ClientSecretName string `json:"client_secret_name"`
	Scopes           string `json:"scopes"`
}

var (
	serverName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,23}$`)
	headerName = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)
	secretName = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,63}$`)
)

// forbiddenHeaders may not carry a credential: the transport sets them.
var forbiddenHeaders = map[string]bool{"host": true, "content-length": true, "content-type": true,
	"transfer-encoding": true, "connection": true, "mcp-session-id": true, "mcp-protocol-version": true,
	"accept": true, "cookie": true, "user-agent": true}

// validate checks in and returns it normalized, or an error naming the field.
func (in ServerInput) validate() (ServerInput, error) {
	in.Name = strings.TrimSpace(in.Name)
	in.URL = strings.TrimSpace(in.URL)
	in.HeaderName = strings.TrimSpace(in.HeaderName)
	in.SecretName = strings.TrimSpace(in.SecretName)
	if in.Transport == "" {
		in.Transport = TransportStreamable
	}
	if in.AuthKind == "" {
		in.AuthKind = AuthNone
	}
	if !serverName.MatchString(in.Name) {
		return in, publicf("name: use 1 to 24 lower-case letters, digits and '-', starting with a letter (no '_': the model sees tools as <name>__<tool>)")
	}
	u, err := url.Parse(in.URL)
	if err != nil || in.URL == "" || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return in, publicf("url: give an absolute http or https URL of the server's MCP endpoint")
	}
	if u.User != nil {
		return in, publicf("url: credentials in the URL are not allowed; use a header with a vault secret")
	}
	if u.Fragment != "" || len(in.URL) > 2048 {
		return in, publicf("url: no fragment, at most 2048 characters")
	}
	if in.Transport != TransportStreamable && in.Transport != TransportSSE {
		return in, publicf("transport: streamable or sse")
	}
	switch in.AuthKind {
	case AuthNone:
		in.HeaderName, in.HeaderPrefix, in.SecretName = "", "", ""
	case AuthHeader:
		if !headerName.MatchString(in.HeaderName) || forbiddenHeaders[strings.ToLower(in.HeaderName)] {
			return in, publicf("header_name: a header name such as Authorization or X-Api-Key")
		}
		if len(in.HeaderPrefix) > 32 || strings.ContainsAny(in.HeaderPrefix, "\r\n\x00") {
			return in, publicf("header_prefix: at most 32 characters on one line, such as \"Bearer \"")
		}
		if !secretName.MatchString(in.SecretName) {
			return in, publicf("secret_name: the name of a vault secret (A-Z, 0-9, _)")
		}
		if secrets.IsSystem(in.SecretName) {
			return in, systemSecret("secret_name")
		}
	case AuthOAuth:
		if err := in.validateOAuth(); err != nil {
			return in, err
		}
	default:
		return in, publicf("auth_kind: none, header or oauth")
	}
	if in.AuthKind != AuthOAuth {
		in.ClientID, in.ClientSecretName, in.Scopes = "", "", ""
	}
	return in, nil
}

// Add validates in, connects to the server, lists its tools and stores the
// server with every tool pending. Nothing is stored when any step fails;
// the error says which, in words fit for the admin.
func (s *Service) Add(ctx context.Context, in ServerInput, by string) (store.MCPServer, error) {
	in, err := in.validate()
	if err != nil {
		return store.MCPServer{}, err
	}
	if _, err := s.cfg.Store.GetMCPServer(ctx, in.Name); err == nil {
		return store.MCPServer{}, publicf("name: a server named %q already exists", in.Name)
	}
	if in.AuthKind == AuthOAuth {
		return s.addOAuth(ctx, in, by)
	}
	srv := store.MCPServer{Name: in.Name, URL: in.URL, Transport: in.Transport, AuthKind: in.AuthKind,
		HeaderName: in.HeaderName, HeaderPrefix: in.HeaderPrefix, SecretName: in.SecretName, CreatedBy: by}
	c, listed, err := s.connect(ctx, srv)
	if err != nil {
		s.cfg.Audit(ctx, audit.Event{Actor: by, Action: "mcp_server.add", Target: in.Name, Outcome: audit.OutcomeError,
			Details: map[string]any{"url_host": audit.URLHost(in.URL), "error": err.Error()}})
		return store.MCPServer{}, err
	}
	if err := s.cfg.Store.AddMCPServer(ctx, srv, listed); err != nil {
		c.close()
		if errors.Is(err, store.ErrExists) {
			return store.MCPServer{}, publicf("name: a server named %q already exists", in.Name)
		}
		return store.MCPServer{}, err
	}
	s.install(in.Name, c)
	s.markListed(in.Name)
	s.cfg.Audit(ctx, audit.Event{Actor: by, Action: "mcp_server.add", Target: in.Name, Outcome: audit.OutcomeOK,
		Details: map[string]any{"url_host": audit.URLHost(in.URL), "transport": in.Transport, "auth_kind": in.AuthKind,
			"secret_name": in.SecretName, "tools": len(listed)}})
	return s.cfg.Store.GetMCPServer(ctx, in.Name)
}

// Delete disconnects and removes a server and its tools.
func (s *Service) Delete(ctx context.Context, name, by string) error {
	srv, err := s.cfg.Store.GetMCPServer(ctx, name)
	if err != nil {
		return err
	}
	if err := s.cfg.Store.DeleteMCPServer(ctx, name); err != nil {
		return err
	}
	s.mu.Lock()
	c := s.conns[name]
	delete(s.conns, name)
	s.mu.Unlock()
	if c != nil {
		c.close()
	}
	if srv.AuthKind == AuthOAuth {
		s.forgetOAuth(ctx, name, true)
	}
	s.cfg.Audit(ctx, audit.Event{Actor: by, Action: "mcp_server.delete", Target: name, Outcome: audit.OutcomeOK})
	return nil
}

// Decide approves (pinning sha256, which must be the tool's current
// definition) or denies a tool, and sets its daily cap (< 0: unchanged).
func (s *Service) Decide(ctx context.Context, server, tool string, approve bool, sha256 string, dailyCap int, by string) error {
	status, action := store.MCPToolDenied, "mcp_tool.deny"
	if approve {
		status, action = store.MCPToolApproved, "mcp_tool.approve"
	}
	if dailyCap > 1_000_000 {
		return publicf("daily_cap: at most 1000000 (0: no cap)")
	}
	err := s.cfg.Store.DecideMCPTool(ctx, server, tool, status, sha256, by, dailyCap)
	switch {
	case errors.Is(err, store.ErrStale):
		return publicf("sha256: the tool's definition changed since it was shown; review it again")
	case errors.Is(err, store.ErrNotFound):
		return publicf("no tool %q on server %q", tool, server)
	case err != nil:
		return err
	}
	s.cfg.Audit(ctx, audit.Event{Actor: by, Action: action, Target: server + "/" + tool, Outcome: audit.OutcomeOK,
		Details: map[string]any{"sha256": sha256, "daily_cap": dailyCap}})
	return nil
}

// ServerView is a server with its tools and live state, for the admin.
type ServerView struct {
	store.MCPServer
	Tools    []store.MCPTool `json:"tools"`
	Approved int             `json:"approved"`
	Pending  int             `json:"pending"`
}

// List returns every server with its tools.
func (s *Service) List(ctx context.Context) ([]ServerView, error) {
	srvs, err := s.cfg.Store.ListMCPServers(ctx)
	if err != nil {
		return nil, err
	}
	all, err := s.cfg.Store.ListMCPTools(ctx, "")
	if err != nil {
		return nil, err
	}
	out := make([]ServerView, 0, len(srvs))
	for _, srv := range srvs {
		v := ServerView{MCPServer: srv, Tools: []store.MCPTool{}}
		for _, t := range all {
			if t.Server != srv.Name {
				continue
			}
			v.Tools = append(v.Tools, t)
			switch {
			case t.Offered():
				v.Approved++
			case t.Status == store.MCPToolPending && t.Present:
				v.Pending++
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// Get returns one server's view, or store.ErrNotFound.
func (s *Service) Get(ctx context.Context, name string) (ServerView, error) {
	vs, err := s.List(ctx)
	if err != nil {
		return ServerView{}, err
	}
	for _, v := range vs {
		if v.Name == name {
			return v, nil
		}
	}
	return ServerView{}, store.ErrNotFound
}
