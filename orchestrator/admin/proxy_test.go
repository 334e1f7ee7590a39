package admin

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

// TestTrustedProxy: X-Forwarded-For and X-Forwarded-Proto count only from
// a trusted proxy: then the client address is the first untrusted hop and
// the session cookie is Secure; from anyone else they are ignored.
func TestTrustedProxy(t *testing.T) {
	s := &Server{Deps: Deps{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}}
	req := func(remote, xff, proto string) *http.Request {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		if xff != "" {
			r.Header.Set("X-Forwarded-For", xff)
		}
		if proto != "" {
			r.Header.Set("X-Forwarded-Proto", proto)
		}
		return r
	}
	for _, c := range []struct {
		remote, xff, proto, ip string
		secure                 bool
	}{
		{"192.0.2.7:5000", "203.0.113.9", "https", "192.0.2.7", false},                     // not a proxy: headers ignored
		{"10.1.2.3:5000", "203.0.113.9", "https", "203.0.113.9", true},                     // trusted proxy
		{"10.1.2.3:5000", "198.51.100.1, 203.0.113.9, 10.9.9.9", "", "203.0.113.9", false}, // right-most untrusted hop
		{"10.1.2.3:5000", "garbage", "http", "10.1.2.3", false},
		{"[::ffff:10.1.2.3]:5000", "2001:db8::1", "HTTPS", "2001:db8::1", true},
	} {
		r := req(c.remote, c.xff, c.proto)
		if got := s.clientIP(r); got != c.ip {
			t.Errorf("clientIP(%s, XFF %q) = %s; want %s", c.remote, c.xff, got, c.ip)
		}
		if got := s.secure(r); got != c.secure {
			t.Errorf("secure(%s, proto %q) = %v; want %v", c.remote, c.proto, got, c.secure)
		}
	}
}

// TestSessionCookieAttributes: the session and known-device cookies are
// HttpOnly and SameSite=Strict, and Secure behind a trusted TLS proxy.
func TestSessionCookieAttributes(t *testing.T) {
	e := newEnv(t, func(d *Deps) { d.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")} })
	e.setup()
	for _, proto := range []string{"", "https"} {
		b := &browser{e: e, c: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
		resp, err := b.c.Get(e.srv.URL + "/login")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var pre string
		for _, c := range resp.Cookies() {
			if c.Name == preCSRFCookie {
				pre = c.Value
			}
		}
		form := url.Values{"csrf_token": {pre}, "username": {adminUser}, "password": {adminPass}}
		r, _ := http.NewRequest("POST", e.srv.URL+"/login", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.AddCookie(&http.Cookie{Name: preCSRFCookie, Value: pre})
		if proto != "" {
			r.Header.Set("X-Forwarded-Proto", proto)
		}
		resp, err = b.c.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		seen := map[string]bool{}
		for _, set := range resp.Header.Values("Set-Cookie") {
			name, _, _ := strings.Cut(set, "=")
			if name != sessionCookie && name != deviceCookie {
				continue
			}
			seen[name] = true
			if !strings.Contains(set, "HttpOnly") || !strings.Contains(set, "SameSite=Strict") {
				t.Fatalf("%s cookie %q", name, set)
			}
			if strings.Contains(set, "Secure") != (proto == "https") {
				t.Errorf("behind proxy proto %q: cookie %q", proto, set)
			}
		}
		if !seen[sessionCookie] || !seen[deviceCookie] {
			t.Fatalf("login set cookies %q; want the session and the known-device cookie", resp.Header.Values("Set-Cookie"))
		}
	}
}
