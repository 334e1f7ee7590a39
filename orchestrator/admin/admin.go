// Package admin is the orchestrator's HTTP server: health checks and the
// JSON API under /api/v1.
//
// Every /api/v1 route requires the bearer token (compared in constant time
// on its SHA-256); bodies are size-limited and decoded strictly; errors are
// JSON with a status code, and internal error text is logged, never sent.
package admin

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/airlockhq/airlock/orchestrator"
	"github.com/airlockhq/airlock/orchestrator/approval"
	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/secrets"
	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/orchestrator/worker"
)

// Deps are what the server needs.
type Deps struct {
	Core     *orchestrator.Core
	Store    *store.Store
	Audit    *audit.Log
	Queue    *worker.Queue
	Vault    *secrets.Vault
	Approval *approval.Service
	Logger   *slog.Logger
	// APIToken is the bearer token for /api/v1.
	APIToken string
	// MaxBodyBytes caps request bodies.
	MaxBodyBytes int64
	// WorkerGrace is how long a worker counts as connected after its last poll.
	WorkerGrace time.Duration
	// Redact scrubs secret values from every response body. Nil means none.
	Redact func([]byte) []byte
}

// Server serves the admin HTTP interface.
type Server struct {
	Deps
	tokenHash [32]byte
}

// New returns a Server.
func New(d Deps) *Server {
	if d.MaxBodyBytes <= 0 {
		d.MaxBodyBytes = 1 << 20
	}
	if d.WorkerGrace <= 0 {
		d.WorkerGrace = 45 * time.Second
	}
	if d.Redact == nil {
		d.Redact = func(b []byte) []byte { return b }
	}
	return &Server{Deps: d, tokenHash: hashToken(d.APIToken)}
}

// httpError separates what the client sees from what is logged.
type httpError struct {
	Code int    // status code sent
	Msg  string // message sent
	Err  error  // logged only
}

func (e *httpError) Error() string { return e.Msg }

func errorf(code int, msg string) error { return &httpError{Code: code, Msg: msg} }

// handlerFunc is an HTTP handler that returns its error.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle adapts a handlerFunc: known errors become their status and message,
// anything else a 500 with a reference that is logged with the detail.
func (s *Server) handle(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil {
			return
		}
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
			ref := newRef()
			s.Logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "ref", ref, "err", err)
			he = &httpError{Code: http.StatusInternalServerError, Msg: "internal error (reference " + ref + ")"}
		}
		if he.Err != nil {
			s.Logger.Warn("request refused", "method", r.Method, "path", r.URL.Path, "status", he.Code, "err", he.Err)
		}
		s.writeJSON(w, he.Code, map[string]string{"error": he.Msg})
	}
}

// writeJSON sends v as JSON. The whole encoded body passes the redactor,
// so no route can return a secret value, whatever it holds.
func (s *Server) writeJSON(w http.ResponseWriter, code int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(true)
	if err := enc.Encode(v); err != nil {
		s.Logger.Error("encoding a response failed", "err", err)
		code, buf = http.StatusInternalServerError, *bytes.NewBufferString(`{"error":"internal error"}` + "\n")
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(s.Redact(buf.Bytes()))
}

// decodeJSON reads one JSON object from a size-limited body, refusing
// unknown fields and trailing data.
func (s *Server) decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !isJSON(ct) {
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

func isJSON(ct string) bool {
	return len(ct) >= 16 && ct[:16] == "application/json"
}

func newRef() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
