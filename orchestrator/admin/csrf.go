package admin

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"time"
)

// Cookies.
const (
	sessionCookie = "airlock_session" // the session token (JWT)
	preCSRFCookie = "airlock_csrf"    // the double-submit token of signed-out forms
	csrfField     = "csrf_token"      // the form field
	csrfHeader    = "X-CSRF-Token"    // the header, for fetch()
)

var errBadCSRF = errorf(http.StatusForbidden, "missing or invalid CSRF token; reload the page and try again")

// crossOrigin refuses cross-site state changes using Sec-Fetch-Site and
// Origin (Go's own implementation of the current browser defences).
var crossOrigin = http.NewCrossOriginProtection()

// csrfToken is the CSRF token of a signed-in session: an HMAC of its id,
// so it needs no storage and dies with the session.
func (s *Server) csrfToken(sessionID string) string {
	m := hmac.New(sha256.New, s.CSRFKey)
	m.Write([]byte("airlock csrf v1\x00"))
	m.Write([]byte(sessionID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// submittedCSRF returns the token a request carries, in the header or the
// form. Reading the form honours MaxBytesReader set by the caller.
func submittedCSRF(r *http.Request) string {
	if t := r.Header.Get(csrfHeader); t != "" {
		return t
	}
	return r.PostFormValue(csrfField)
}

func equalTokens(a, b string) bool {
	return a != "" && b != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

// checkOrigin refuses cross-origin state changes.
func (s *Server) checkOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := crossOrigin.Check(r); err != nil {
			s.warnRequest(r, "refused a cross-origin request", "path", r.URL.Path)
			s.fail(w, r, errorf(http.StatusForbidden, "cross-origin request refused"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// csrfSession requires the session's CSRF token on state changes. It runs
// after requireSession.
func (s *Server) csrfSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if unsafeMethod(r.Method) {
			r.Body = http.MaxBytesReader(w, r.Body, s.MaxBodyBytes)
			if !equalTokens(submittedCSRF(r), s.csrfToken(who(r).Session.ID)) {
				s.fail(w, r, errBadCSRF)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// preSessionCSRF returns the double-submit token of signed-out forms
// (login, setup), setting its cookie when the request has none.
func (s *Server) preSessionCSRF(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(preCSRFCookie); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	var b [32]byte
	_, _ = rand.Read(b[:])
	t := base64.RawURLEncoding.EncodeToString(b[:])
	http.SetCookie(w, &http.Cookie{Name: preCSRFCookie, Value: t, Path: "/", HttpOnly: true,
		Secure: s.secure(r), SameSite: http.SameSiteStrictMode, MaxAge: int((12 * time.Hour).Seconds())})
	return t
}

// csrfSignedOut requires the double-submitted token of signed-out forms
// (login, setup) on state changes.
func (s *Server) csrfSignedOut(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if unsafeMethod(r.Method) {
			r.Body = http.MaxBytesReader(w, r.Body, s.MaxBodyBytes)
			c, err := r.Cookie(preCSRFCookie)
			if err != nil || !equalTokens(c.Value, submittedCSRF(r)) {
				s.fail(w, r, errBadCSRF)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) setSessionCookie(w http.ResponseWriter, r *http.Request, token string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true,
		Secure: s.secure(r), SameSite: http.SameSiteStrictMode, Expires: expires})
}

func clearCookie(w http.ResponseWriter, name string, secure bool) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", HttpOnly: true, Secure: secure,
		SameSite: http.SameSiteStrictMode, MaxAge: -1})
}
