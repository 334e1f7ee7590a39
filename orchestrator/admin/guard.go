package admin

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"
)

// healthPath reports whether r is for a health check, which every host,
// and a reserve connection, may ask.
func healthPath(r *http.Request) bool {
	return r.URL.Path == "/healthz" || r.URL.Path == "/readyz"
}

// reserveOnly serves the health checks only on reserve connections (the
// slots beyond the connection cap), and closes each after one answer.
func (s *Server) reserveOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !onReserveConn(r) {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Connection", "close")
		defer dropBody(w, r)
		if !healthPath(r) {
			w.Header().Set("Retry-After", "1")
			s.fail(w, r, errorf(http.StatusServiceUnavailable, "the server is at its connection limit; try again shortly"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// dropBody makes the server give up the rest of a body no handler wants,
// on a connection that closes after this answer: otherwise it would read
// (up to 256 KiB) until the read deadline, holding the connection. Call
// it after the answer is written.
func dropBody(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength != 0 {
		_ = http.NewResponseController(w).SetReadDeadline(time.Now())
	}
}

// normHost returns the host name of a Host header or a configured entry:
// no port, no brackets, lower case, no trailing dot.
func normHost(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	return strings.TrimSuffix(strings.ToLower(strings.Trim(h, "[]")), ".")
}

// loopbackHost reports whether h (normalised) is localhost or a loopback
// address: names no DNS answer can point elsewhere.
func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(h)
	return err == nil && a.Unmap().IsLoopback()
}

// hostAllowed reports whether the server answers to the Host header h:
// loopback names and addresses, Deps.AllowedHosts, and the host of the
// review URL setting (read now: it changes at run time).
func (s *Server) hostAllowed(h string) bool {
	h = normHost(h)
	if h == "" {
		return false
	}
	if loopbackHost(h) {
		return true
	}
	for _, a := range s.AllowedHosts {
		if normHost(a) == h {
			return true
		}
	}
	if s.Settings != nil {
		if u, err := url.Parse(s.Settings.Get().Discord.ReviewBaseURL); err == nil && u.Host != "" && normHost(u.Hostname()) == h {
			return true
		}
	}
	return false
}

// hostRefusalLog keeps the log of refused hosts to one line a minute.
type hostRefusalLog struct {
	mu         sync.Mutex
	last       time.Time
	suppressed int
}

// checkHost refuses a request for a host name the server does not serve:
// a DNS-rebinding page reaches us under its own name, which is not on the
// list. Health checks answer any host.
func (s *Server) checkHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if healthPath(r) || s.hostAllowed(r.Host) {
			next.ServeHTTP(w, r)
			return
		}
		s.logRefusedHost(r)
		defer dropBody(w, r)
		w.Header().Set("Connection", "close")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusMisdirectedRequest)
		_, _ = io.WriteString(w, "Airlock does not answer to this host name. If you serve it under this name, "+
			"add the name to AIRLOCK_ALLOWED_HOSTS (http.allowed_hosts in the config file) and restart.\n")
	})
}

func (s *Server) logRefusedHost(r *http.Request) {
	l := &s.hostLog
	l.mu.Lock()
	if time.Since(l.last) < time.Minute {
		l.suppressed++
		l.mu.Unlock()
		return
	}
	suppressed := l.suppressed
	l.last, l.suppressed = time.Now(), 0
	l.mu.Unlock()
	host := r.Host
	if len(host) > 100 {
		host = host[:100] + "…"
	}
	s.Logger.Warn("refused a request for a host name that is not allowed (DNS rebinding defence); "+
		"if Airlock is served under this name, add it to AIRLOCK_ALLOWED_HOSTS (comma-separated) or http.allowed_hosts",
		"host", host, "client_ip", s.clientIP(r), "path", r.URL.Path, "refused_since_last_line", suppressed)
}

// readBody reads a request's body (at most MaxBodyBytes) before any
// handler runs, under a read deadline of BodyReadTimeout: a client that
// trickles its body is cut with a 408 and its connection closed. The
// deadline is lifted once the body is in, so that a long handler is not
// cancelled. Requests without a body (event streams among them) are
// untouched.
func (s *Server) readBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
			next.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		deadline := rc.SetReadDeadline(time.Now().Add(s.BodyReadTimeout)) == nil
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.MaxBodyBytes))
		if err != nil {
			w.Header().Set("Connection", "close")
			defer dropBody(w, r)
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				s.fail(w, r, err)
				return
			}
			s.fail(w, r, &httpError{Code: http.StatusRequestTimeout, Msg: "the request body did not arrive in time", Err: err})
			return
		}
		if deadline {
			_ = rc.SetReadDeadline(time.Time{})
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

// apiOrigin refuses a state-changing API request that a browser marks as
// cross-site (Sec-Fetch-Site, or a foreign Origin) unless it carries a
// bearer token, which a page on another origin cannot attach without a
// CORS preflight that this server never grants. It guards login and
// setup, which take no token, against pages that would lock the admin out.
func (s *Server) apiOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if unsafeMethod(r.Method) && !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			if err := crossOrigin.Check(r); err != nil {
				s.warnRequest(r, "refused a cross-origin API request", "path", r.URL.Path)
				s.fail(w, r, errorf(http.StatusForbidden, "cross-origin request refused"))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
