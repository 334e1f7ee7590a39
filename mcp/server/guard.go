package server

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/airlockhq/airlock/secure/peercred"
)

// guard wraps the MCP handler with the per-request checks, in order: peer
// credentials, Origin/Referer, Host, path, body size.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if reason := s.refuseReason(r); reason != "" {
			s.log.Warn("mcp request refused", "reason", reason, "method", r.Method, "path", r.URL.Path)
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		if r.URL.Path != Path {
			http.NotFound(w, r)
			return
		}
		if !s.limitBody(w, r) {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		tw := &trackingWriter{ResponseWriter: w}
		if !s.fastToolCall(tw, r) {
			next.ServeHTTP(tw, r)
		}
		if !tw.wrote.Load() && r.Context().Err() != nil {
			// mcp-go returns without a response when the request's context
			// ends (client gone, or Shutdown). Abort the connection rather
			// than let net/http send an empty 200, so the client sees a
			// broken connection, not a malformed answer.
			panic(http.ErrAbortHandler)
		}
	})
}

// trackingWriter records whether anything was written to the response.
type trackingWriter struct {
	http.ResponseWriter
	wrote atomic.Bool // written from mcp-go's goroutines too
}

func (w *trackingWriter) WriteHeader(code int) {
	w.wrote.Store(true)
	w.ResponseWriter.WriteHeader(code)
}

func (w *trackingWriter) Write(b []byte) (int, error) {
	w.wrote.Store(true)
	return w.ResponseWriter.Write(b)
}

// Flush keeps streaming (SSE) working through the wrapper.
func (w *trackingWriter) Flush() {
	w.wrote.Store(true)
	http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *trackingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// limitBody caps r's body at MaxBodyBytes, since mcp-go reads it whole with
// io.ReadAll. It reports false if the body is known to be too large. A body
// of unknown length (chunked) is read here, up to the cap, so that it too is
// refused with 413 rather than a JSON-RPC parse error.
func (s *Server) limitBody(w http.ResponseWriter, r *http.Request) bool {
	if r.ContentLength > s.cfg.MaxBodyBytes {
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	if r.ContentLength >= 0 {
		return true
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return true
}

// refuseReason returns why r must be refused with 403, or "".
func (s *Server) refuseReason(r *http.Request) string {
	cred, ok := peercred.FromContext(r.Context())
	switch {
	case !ok:
		return "no peer credentials"
	case cred.UID != s.cfg.WorkerUID:
		return "peer uid is not the worker's"
	case hasHeader(r, "Origin"):
		return "Origin header present"
	case hasHeader(r, "Referer"):
		return "Referer header present"
	case !validHost(r.Host):
		return "Host is not localhost"
	}
	return ""
}

// hasHeader reports whether r carries header key at all, even empty.
func hasHeader(r *http.Request, key string) bool {
	_, ok := r.Header[key]
	return ok
}

// validHost reports whether host is "localhost" or "localhost:<port>".
func validHost(host string) bool {
	name, port, hasPort := strings.Cut(host, ":")
	if !strings.EqualFold(name, "localhost") {
		return false
	}
	if !hasPort {
		return true
	}
	if port == "" || len(port) > 5 {
		return false
	}
	for _, c := range port {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
