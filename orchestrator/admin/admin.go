// Package admin is the orchestrator's HTTP server: the admin web UI
// (server-rendered pages), the JSON API under /api/v1, and health checks.
//
// Invariants:
//   - Every page and API route but /healthz, /readyz, /metrics, /static/,
//     login and first-run setup requires an authenticated admin: pages a
//     session token (TypeSession) in the HttpOnly, SameSite=Strict cookie,
//     the API a TypeAPI token as Authorization: Bearer. A token of the
//     other type is refused, so a stolen cookie is no API token and the API
//     cannot be driven from a browser without the page's CSRF defences.
//   - Every state-changing page request (any method but GET, HEAD,
//     OPTIONS) passes http.CrossOriginProtection (Sec-Fetch-Site / Origin)
//     and carries a CSRF token: HMAC(csrf key, session id) for signed-in
//     pages, a double-submitted random cookie for login and setup.
//   - Security headers are set in one place (securityHeaders): a strict CSP
//     without inline script or style, frame-ancestors 'none', nosniff,
//     Referrer-Policy, COOP, no-store.
//   - Bodies are size-limited and decoded strictly; errors are JSON (API) or
//     an error page (UI) with a status code; internal error text is logged
//     with a reference, never sent. Every response body passes the
//     redactor, so no route can return a secret value.
//   - The server answers only Host headers it serves (loopback names and
//     addresses, AllowedHosts, the review URL's host): no DNS rebinding.
//     Health checks answer any host.
//   - Every state-changing API request that a browser marks cross-site is
//     refused unless it carries a bearer token; JSON bodies require
//     Content-Type: application/json, so no form or no-cors fetch can
//     post one without a CORS preflight, which is never granted.
//   - Request bodies are read under a deadline (BodyReadTimeout) before
//     any handler runs; connections are capped by the listener of
//     NewHTTPServer, whose reserve slots serve only health checks.
//   - First-run setup exists only while no admin does.
package admin

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"github.com/airlockhq/airlock/orchestrator/backup"
	"log/slog"
	"mime"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/airlockhq/airlock/internal/logref"
	"github.com/airlockhq/airlock/orchestrator"
	"github.com/airlockhq/airlock/orchestrator/approval"
	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/auth"
	"github.com/airlockhq/airlock/orchestrator/doctor"
	"github.com/airlockhq/airlock/orchestrator/integration"
	"github.com/airlockhq/airlock/orchestrator/jobs"
	"github.com/airlockhq/airlock/orchestrator/live"
	"github.com/airlockhq/airlock/orchestrator/llm"
	"github.com/airlockhq/airlock/orchestrator/secrets"
	"github.com/airlockhq/airlock/orchestrator/settings"
	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/orchestrator/worker"
	"github.com/airlockhq/airlock/secure/confine"
	"github.com/airlockhq/airlock/secure/redact"
)

// Deps are what the server needs.
type Deps struct {
	// Jobs holds the scheduled jobs (issue 14); nil: the Jobs page and
	// API answer 404.
	Jobs     *jobs.Service
	Core     *orchestrator.Core
	Store    *store.Store
	Audit    *audit.Log
	Queue    *worker.Queue
	Vault    *secrets.Vault
	Approval *approval.Service
	Logger   *slog.Logger
	Auth     *auth.Service
	// Settings holds what an admin changes at run time.
	Settings *settings.Service
	// TestLLM tries model settings with a key (empty: the stored one), for
	// the "test connection" button; nil hides the button.
	TestLLM func(ctx context.Context, s settings.LLM, key string) error
	// Live streams conversation events to web-chat viewers; nil: none.
	Live *live.Hub
	// LLM is the model gateway, for the dashboard; nil: not configured.
	LLM *llm.Gateway
	// CSRFKey keys the CSRF tokens of signed-in pages (32 bytes).
	CSRFKey []byte
	// TrustedProxies are the proxies whose X-Forwarded-For and
	// X-Forwarded-Proto headers are believed.
	TrustedProxies []netip.Prefix
	// DiscordStatus reports the bot's state for the dashboard and
	// /metrics; nil shows it as unknown.
	DiscordStatus func() DiscordStatus
	// MaxBodyBytes caps request bodies.
	MaxBodyBytes int64
	// BodyReadTimeout bounds reading a request body (default 30s).
	BodyReadTimeout time.Duration
	// AllowedHosts are the host names the server answers besides loopback
	// ones and the host of the review URL setting; other Host headers get
	// a 421 (DNS rebinding).
	AllowedHosts []string
	// Confinement is the orchestrator's own (Landlock on its files), for
	// the dashboard, /api/v1/status and /metrics; nil: not applied.
	Confinement *confine.Report
	// WorkerGrace is how long a worker counts as connected after its last poll.
	WorkerGrace time.Duration
	// Redactor scrubs secret values from every response body. Nil means
	// the shape detectors only.
	Redactor *redact.Holder
	// Integrations holds the external MCP servers (issue 15); nil hides
	// the Integrations page and API (404).
	Integrations *integration.Service

	// Doctor audits the deployment (orchestrator/doctor), for
	// GET /api/v1/doctor and the dashboard's Security card; nil hides both.
	Doctor func(ctx context.Context, deep bool) doctor.Report
	// Backups makes, lists and serves the scheduled backups (issue 18);
	// nil: the Backups page answers 404.
	Backups *backup.Scheduler
}

// DiscordStatus is the Discord bot's state, for the dashboard.
type DiscordStatus struct {
	Enabled     bool      `json:"enabled"`
	Connected   bool      `json:"connected"`
	User        string    `json:"user,omitempty"`
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
}

// Server serves the admin HTTP interface.
type Server struct {
	Deps
	pages    pageSet
	hostLog  hostRefusalLog
	logLimit logLimiter
	doctor   doctorCache

	// life is the server's lifetime, cancelled by Close; work that
	// outlives a request (background) runs under it, counted in wg and
	// holding one of slots.
	life  context.Context
	stop  context.CancelFunc
	wg    sync.WaitGroup
	slots chan struct{}
}

// redact scrubs secret values, and credentials of a known shape, from b.
func (s *Server) redact(b []byte) []byte { return s.Redactor.Load().Bytes(b) }

// New returns a Server.
func New(d Deps) *Server {
	if d.MaxBodyBytes <= 0 {
		d.MaxBodyBytes = 1 << 20
	}
	if d.BodyReadTimeout <= 0 {
		d.BodyReadTimeout = 30 * time.Second
	}
	if d.WorkerGrace <= 0 {
		d.WorkerGrace = worker.DefaultGrace
	}
	if len(d.CSRFKey) == 0 {
		d.CSRFKey = make([]byte, 32)
		_, _ = rand.Read(d.CSRFKey)
	}
	life, stop := context.WithCancel(context.Background())
	return &Server{Deps: d, pages: mustParsePages(), life: life, stop: stop,
		slots: make(chan struct{}, maxBackgroundPosts)}
}

// httpError separates what the client sees from what is logged.
type httpError struct {
	Code int    // status code sent
	Msg  string // message sent
	Err  error  // logged only

	retryAfter time.Duration // sent as Retry-After when set
}

func (e *httpError) Error() string { return e.Msg }

func errorf(code int, msg string) error { return &httpError{Code: code, Msg: msg} }

// handlerFunc is an HTTP handler that returns its error.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle adapts a handlerFunc: its error is answered by fail.
func (s *Server) handle(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.fail(w, r, err)
		}
	}
}

// fail answers err: known errors become their status and message, anything
// else a 500 with a reference that is logged with the detail. API routes
// answer JSON, pages an error page.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var he *httpError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &he):
	case errors.As(err, &mbe):
		he = &httpError{Code: http.StatusRequestEntityTooLarge, Msg: "request body too large"}
	case errors.Is(err, store.ErrNotFound):
		he = &httpError{Code: http.StatusNotFound, Msg: "not found"}
	case errors.Is(err, context.Canceled):
		return
	default:
		ref := logref.New()
		s.Logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "ref", ref, "err", err)
		he = &httpError{Code: http.StatusInternalServerError, Msg: "internal error (reference " + ref + ")"}
	}
	if he.Err != nil {
		s.warnRequest(r, "request refused", "method", r.Method, "path", r.URL.Path, "status", he.Code, "err", he.Err)
	}
	setRetryAfter(w, he)
	if isAPI(r) {
		s.writeJSON(w, he.Code, map[string]string{"error": he.Msg})
		return
	}
	s.errorPage(w, r, he.Code, he.Msg)
}

// isAPI reports whether r is for the JSON API (or a JSON endpoint of the
// pages, which scripts call with Accept: application/json).
func isAPI(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/") || r.URL.Path == "/healthz" || r.URL.Path == "/readyz" ||
		strings.HasPrefix(r.Header.Get("Accept"), "application/json")
}

// writeJSON sends v as JSON. The whole encoded body passes the redactor,
// so no route can return a secret value, whatever it holds.
func (s *Server) writeJSON(w http.ResponseWriter, code int, v any) { s.sendJSON(w, code, v, "") }

// tokenSlot stands for a freshly issued token in a body while the body
// passes the redactor; tokenSlotJSON is how it reads once encoded.
const tokenSlot = "\u0000airlock-token-slot\u0000"

var tokenSlotJSON, _ = json.Marshal(tokenSlot)

// writeToken sends fields plus "token": tok. The body passes the redactor
// like every other, except the token itself, which the redactor's JWT
// shape detector would otherwise blank: it is signed here, now, and holds
// nothing but its claims.
func (s *Server) writeToken(w http.ResponseWriter, code int, tok string, fields map[string]any) {
	fields["token"] = tokenSlot
	s.sendJSON(w, code, fields, tok)
}

// sendJSON encodes v, redacts it, puts tok (if any) in its slot and sends
// it.
func (s *Server) sendJSON(w http.ResponseWriter, code int, v any, tok string) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(true)
	if err := enc.Encode(v); err != nil {
		s.Logger.Error("encoding a response failed", "err", err)
		code, buf, tok = http.StatusInternalServerError, *bytes.NewBufferString(`{"error":"internal error"}` + "\n"), ""
	}
	body := s.redact(buf.Bytes())
	if tok != "" {
		body = bytes.Replace(body, tokenSlotJSON, []byte(strconv.Quote(tok)), 1)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

// decodeJSON reads one JSON object from a size-limited body, refusing
// unknown fields and trailing data. The body must be declared as
// application/json: a browser sends that type cross-origin only after a
// CORS preflight, which this server never grants, while a form or a
// no-cors fetch can send a JSON-looking body as text/plain.
func (s *Server) decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if !isJSON(r.Header.Get("Content-Type")) {
		return errorf(http.StatusUnsupportedMediaType, "Content-Type must be application/json")
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.MaxBodyBytes)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return &httpError{Code: http.StatusBadRequest, Msg: "malformed JSON body", Err: err}
	}
	if dec.More() {
		return errorf(http.StatusBadRequest, "malformed JSON body: trailing data")
	}
	return nil
}

// isJSON reports whether the Content-Type ct is application/json (with
// parameters, such as a charset, or not).
func isJSON(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/json"
}
