package admin

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/airlockhq/airlock/internal/logref"
	"github.com/airlockhq/airlock/orchestrator/auth"
)

// csp is the Content-Security-Policy of every response: scripts, styles
// and images from this origin only, no inline code, no framing, forms
// posting only here.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// securityHeaders sets the headers every response carries.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// principal is the authenticated admin of a request.
type principal struct {
	Admin   auth.Admin
	Session auth.Session
}

// actor names the admin in audit entries.
func (p principal) actor() string { return "admin:" + p.Admin.Username }

type principalKey struct{}

func withPrincipal(ctx context.Context, p principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// who returns the request's admin; routes behind requireAPI or
// requireSession always have one.
func who(r *http.Request) principal {
	p, _ := r.Context().Value(principalKey{}).(principal)
	return p
}

// requireAPI admits requests with a valid API bearer token.
func (s *Server) requireAPI(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || token == "" {
			s.unauthorized(w, r, "missing bearer token")
			return
		}
		a, ss, err := s.Auth.Authenticate(r.Context(), token, auth.TypeAPI)
		if err != nil {
			if !errors.Is(err, auth.ErrInvalidToken) {
				s.fail(w, r, err)
				return
			}
			s.unauthorized(w, r, "invalid or expired bearer token")
			return
		}
		next.ServeHTTP(w, r.WithContext(withPrincipal(r.Context(), principal{Admin: a, Session: ss})))
	})
}

func (s *Server) unauthorized(w http.ResponseWriter, r *http.Request, msg string) {
	s.warnRequest(r, "api auth failed", "auth_failed", true, "path", r.URL.Path)
	w.Header().Set("WWW-Authenticate", `Bearer realm="airlock"`)
	s.writeJSON(w, http.StatusUnauthorized, map[string]string{"error": msg})
}

// requireSession admits requests with a valid session cookie. Others are
// sent to the login page (a GET) or refused (anything else); while no
// admin exists, to setup.
func (s *Server) requireSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.sessionOf(r)
		if err != nil {
			if !errors.Is(err, auth.ErrInvalidToken) && !errors.Is(err, http.ErrNoCookie) {
				s.fail(w, r, err)
				return
			}
			if c, cerr := r.Cookie(sessionCookie); cerr == nil && c.Value != "" {
				clearCookie(w, sessionCookie, s.secure(r))
			}
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				s.fail(w, r, errorf(http.StatusUnauthorized, "your session has ended; sign in again"))
				return
			}
			target := "/login"
			if need, err := s.Auth.SetupNeeded(r.Context()); err == nil && need {
				target = "/setup"
			} else if r.URL.Path != "/" {
				target += "?next=" + url.QueryEscape(r.URL.RequestURI())
			}
			http.Redirect(w, r, target, http.StatusSeeOther)
			return
		}
		next.ServeHTTP(w, r.WithContext(withPrincipal(r.Context(), p)))
	})
}

// sessionOf authenticates the session cookie.
func (s *Server) sessionOf(r *http.Request) (principal, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return principal{}, err
	}
	a, ss, err := s.Auth.Authenticate(r.Context(), c.Value, auth.TypeSession)
	if err != nil {
		return principal{}, err
	}
	return principal{Admin: a, Session: ss}, nil
}

// recoverer turns a handler panic into a 500 without leaking its text.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				ref := logref.New()
				s.Logger.Error("handler panic", "path", r.URL.Path, "ref", ref, "panic", v)
				s.writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal error (reference " + ref + ")"})
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// peer returns the address of the TCP peer.
func peer(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, _ := netip.ParseAddr(strings.Trim(host, "[]"))
	return a.Unmap()
}

// trusted reports whether addr is a trusted proxy.
func (s *Server) trusted(addr netip.Addr) bool {
	for _, p := range s.TrustedProxies {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// clientIP is the client's address: the peer, or, behind trusted proxies,
// the right-most X-Forwarded-For entry that is not a trusted proxy.
func (s *Server) clientIP(r *http.Request) string {
	a := peer(r)
	if !s.trusted(a) {
		return a.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		a = h.Unmap()
		if !s.trusted(a) {
			break
		}
	}
	return a.String()
}

// secure reports whether the client reached us over TLS, directly or
// through a trusted proxy that says so.
func (s *Server) secure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	return s.trusted(peer(r)) && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}
