package admin

// Tests of the attack classes of issue 11 that this package answers:
// cross-site API requests, open redirects, slow bodies and connection
// floods, DNS rebinding, and idle event streams of revoked sessions.

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/airlockhq/airlock/orchestrator/live"
	"github.com/airlockhq/airlock/orchestrator/store"
)

// rawAPI sends a request with exactly the headers given (no default
// Content-Type) and returns the status.
func (e *env) rawAPI(method, path, body string, hdr map[string]string) int {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestAPIRefusesCrossSiteRequests (issue 11, item 5): a page on another
// origin cannot drive the JSON API. A login without Content-Type:
// application/json (what a no-cors fetch or a form sends) is refused, as
// is any state-changing API request a browser marks cross-site, unless it
// carries a bearer token; so such a page cannot lock the admin out by
// failing logins in their name.
func TestAPIRefusesCrossSiteRequests(t *testing.T) {
	e := newEnv(t)
	e.setup()
	good := `{"username":"` + adminUser + `","password":"` + adminPass + `"}`
	bad := `{"username":"` + adminUser + `","password":"wrong"}`
	json := "application/json"
	for name, c := range map[string]struct {
		body string
		hdr  map[string]string
		want int
	}{
		"no Content-Type":          {good, nil, http.StatusUnsupportedMediaType},
		"text/plain (no-cors)":     {good, map[string]string{"Content-Type": "text/plain;charset=UTF-8"}, http.StatusUnsupportedMediaType},
		"a form":                   {good, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, http.StatusUnsupportedMediaType},
		"application/jsonx":        {good, map[string]string{"Content-Type": "application/jsonx"}, http.StatusUnsupportedMediaType},
		"Sec-Fetch-Site cross":     {good, map[string]string{"Content-Type": json, "Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		"Sec-Fetch-Site same-site": {good, map[string]string{"Content-Type": json, "Sec-Fetch-Site": "same-site"}, http.StatusForbidden},
		"foreign Origin":           {good, map[string]string{"Content-Type": json, "Origin": "https://evil.example"}, http.StatusForbidden},
		"same origin":              {good, map[string]string{"Content-Type": json, "Sec-Fetch-Site": "same-origin", "Origin": e.srv.URL}, http.StatusOK},
		"a script (no browser)":    {good, map[string]string{"Content-Type": "application/json; charset=utf-8"}, http.StatusOK},
	} {
		if got := e.rawAPI("POST", "/api/v1/auth/login", c.body, c.hdr); got != c.want {
			t.Errorf("login, %s: %d; want %d", name, got, c.want)
		}
	}

	// The lockout attack: many failed logins sent the ways a foreign page
	// can send them reach no limiter, and the admin still signs in.
	for i := 0; i < 40; i++ {
		hdr := map[string]string{"Content-Type": "text/plain"}
		if i%2 == 1 {
			hdr = map[string]string{"Content-Type": json, "Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}
		}
		if got := e.rawAPI("POST", "/api/v1/auth/login", bad, hdr); got != http.StatusUnsupportedMediaType && got != http.StatusForbidden {
			t.Fatalf("cross-site failed login %d: %d", i, got)
		}
	}
	if got := e.rawAPI("POST", "/api/v1/auth/login", good, map[string]string{"Content-Type": json}); got != http.StatusOK {
		t.Fatalf("the admin's own login after the attack: %d; want 200", got)
	}

	// Every state-changing API route refuses a cross-site request without
	// a bearer token, before anything else happens.
	tok := e.apiToken()
	n := 0
	for _, rt := range allRoutes(t, e.server.Handler()) {
		if !strings.HasPrefix(rt.path, "/api/") || !unsafeMethod(rt.method) {
			continue
		}
		n++
		for name, hdr := range map[string]map[string]string{
			"Sec-Fetch-Site": {"Content-Type": json, "Sec-Fetch-Site": "cross-site"},
			"Origin":         {"Content-Type": json, "Origin": "https://evil.example"},
		} {
			if got := e.rawAPI(rt.method, rt.path, "{}", hdr); got != http.StatusForbidden {
				t.Errorf("%s %s cross-site (%s) without a token: %d; want 403", rt.method, rt.path, name, got)
			}
		}
	}
	if n < 10 {
		t.Fatalf("only %d state-changing API routes", n)
	}
	// A bearer token is no browser credential: with one, the origin does
	// not matter.
	if got := e.rawAPI("POST", "/api/v1/conversations", `{"title":"t"}`, map[string]string{"Content-Type": json,
		"Authorization": "Bearer " + tok, "Sec-Fetch-Site": "cross-site"}); got != http.StatusCreated {
		t.Errorf("a cross-site request with a bearer token: %d; want 201", got)
	}
}

// TestLoginNextRefusesOpenRedirects (issue 11, item 6): ?next= only ever
// leads to a path on this origin; tabs, newlines and other control
// characters (which browsers drop, turning "/\t/evil" into "//evil") and
// backslashes are refused.
func TestLoginNextRefusesOpenRedirects(t *testing.T) {
	for in, want := range map[string]string{
		"/scripts":              "/scripts",
		"/chat/c_1?x=1#end":     "/chat/c_1?x=1#end",
		"/scripts/a%2Fb":        "/scripts/a%2Fb",
		"/a b":                  "/a%20b",
		"/\t/evil.example":      "/",
		"/\n/evil.example":      "/",
		"/\r/evil.example":      "/",
		"/\x00/evil.example":    "/",
		"/\x7f/evil.example":    "/",
		"/\u0085/evil.example":  "/",
		"/%09/evil.example":     "/",
		"/%2F/evil.example":     "/",
		"/%5Cevil.example":      "/",
		"\t//evil.example":      "/",
		"//evil.example/":       "/",
		"///evil.example/":      "/",
		"/\\evil.example":       "/",
		"https://evil.example":  "/",
		"https:evil.example":    "/",
		"javascript:alert(1)":   "/",
		"evil.example":          "/",
		"":                      "/",
		"/a\r\nLocation: x":     "/",
		"//user@evil.example/x": "/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q; want %q", in, got, want)
		}
	}

	// The reported attack, through the page: a signed-in admin opening
	// /login?next=/%09/evil.example stays here.
	e := newEnv(t)
	e.setup()
	b := e.login()
	for _, next := range []string{"/%09/evil.example", "/%0a/evil.example", "%2F%2Fevil.example", "/%5C/evil.example"} {
		resp, err := b.c.Get(e.srv.URL + "/login?next=" + next)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/" {
			t.Errorf("/login?next=%s: %d Location %q; want 303 /", next, resp.StatusCode, loc)
		}
	}
	// And through the form: the signed-out login posts next.
	jar, _ := cookiejar.New(nil)
	b2 := &browser{e: e, c: &http.Client{Jar: jar, CheckRedirect: b.c.CheckRedirect}}
	_, body := b2.get("/login?next=/%09/evil.example")
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no CSRF token on the login page")
	}
	if strings.Contains(body, "evil.example") {
		t.Error("the login form carries the foreign next")
	}
	code, loc, _ := b2.post("/login", url.Values{"csrf_token": {m[1]}, "username": {adminUser}, "password": {adminPass},
		"next": {"/\t/evil.example"}})
	if code != http.StatusSeeOther || loc != "/" {
		t.Errorf("login with next=/<tab>/evil.example: %d %q; want 303 /", code, loc)
	}
}

// TestHostAllowlist (issue 11, item 9): a DNS-rebinding page reaches the
// server under its own host name, which is refused with a 421 that tells
// what to set, and a log line naming AIRLOCK_ALLOWED_HOSTS (once a
// minute, not once a request). Loopback names, configured hosts and the
// review URL's host are served; health checks answer any host.
func TestHostAllowlist(t *testing.T) {
	e := newEnv(t, func(d *Deps) { d.AllowedHosts = []string{"airlock.example.org", "192.168.1.20"} })
	e.setup()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(e.srv.URL, "http://"))
	for _, host := range []string{"rebind.evil.example", "rebind.evil.example:" + port, "10.0.0.1", "localhost.evil.example",
		"airlock.example.org.evil.example", "127.0.0.1.nip.io"} {
		for _, path := range []string{"/metrics", "/login", "/api/v1/setup"} {
			if got := e.rawAPI("GET", path, "", map[string]string{"Host": host}); got != http.StatusMisdirectedRequest {
				t.Errorf("GET %s with Host %q: %d; want 421", path, host, got)
			}
		}
	}
	if got := e.rawAPI("POST", "/api/v1/auth/login", `{"username":"alice","password":"x"}`,
		map[string]string{"Host": "rebind.evil.example", "Content-Type": "application/json"}); got != http.StatusMisdirectedRequest {
		t.Errorf("a login with a foreign Host: %d; want 421", got)
	}
	req, _ := http.NewRequest("GET", e.srv.URL+"/metrics", nil)
	req.Host = "rebind.evil.example"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "AIRLOCK_ALLOWED_HOSTS") || strings.Contains(string(body), "airlock_") {
		t.Errorf("the refusal says:\n%s", body)
	}
	if n := strings.Count(e.logs.String(), "add it to AIRLOCK_ALLOWED_HOSTS"); n != 1 {
		t.Errorf("%d log lines about refused hosts; want 1 (rate-limited):\n%s", n, e.logs.String())
	}

	for _, host := range []string{"127.0.0.1:" + port, "localhost:" + port, "LOCALHOST", "[::1]:" + port, "127.0.0.2",
		"airlock.example.org", "Airlock.Example.ORG.:8443", "192.168.1.20:" + port} {
		if got := e.rawAPI("GET", "/metrics", "", map[string]string{"Host": host}); got != http.StatusOK {
			t.Errorf("GET /metrics with Host %q: %d; want 200", host, got)
		}
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if got := e.rawAPI("GET", path, "", map[string]string{"Host": "rebind.evil.example"}); got == http.StatusMisdirectedRequest {
			t.Errorf("GET %s with a foreign Host: 421; health checks answer any host", path)
		}
	}

	// The review URL's host is served as soon as it is set.
	if got := e.rawAPI("GET", "/metrics", "", map[string]string{"Host": "review.example.net"}); got != http.StatusMisdirectedRequest {
		t.Fatalf("review host before the setting: %d", got)
	}
	next := e.settings.Get()
	next.Discord.ReviewBaseURL = "https://review.example.net:8443/airlock"
	if _, err := e.settings.Update(context.Background(), "admin:"+adminUser, next); err != nil {
		t.Fatal(err)
	}
	if got := e.rawAPI("GET", "/metrics", "", map[string]string{"Host": "review.example.net"}); got != http.StatusOK {
		t.Errorf("the review URL's host: %d; want 200", got)
	}
}

// slowServer serves e's handler on a real loopback listener through
// NewHTTPServer, with lim; it returns the address and the listener.
func slowServer(t *testing.T, e *env, lim Limits) (string, *limitListener) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, limited := NewHTTPServer(e.server.Handler(), ln, lim, nil)
	go srv.Serve(limited)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), limited.(*limitListener)
}

// slowBody opens a connection that sends a request's headers and the
// start of its body, and then nothing.
func slowBody(t *testing.T, addr string) net.Conn { return slowBodyFor(t, addr, addr) }

func slowBodyFor(t *testing.T, addr, host string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_, err = io.WriteString(c, "POST /api/v1/auth/login HTTP/1.1\r\nHost: "+host+"\r\nContent-Type: application/json\r\n"+
		"Content-Length: 100000\r\n\r\n{\"username\":\"al")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// closed reports whether the server closes c (within a bound that only
// keeps a failure from hanging).
func closed(c net.Conn) bool {
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	var ne net.Error
	_, err := io.Copy(io.Discard, c)
	return !errors.As(err, &ne) || !ne.Timeout()
}

// stillOpen reports whether the server has neither answered nor closed c.
func stillOpen(c net.Conn) bool {
	_ = c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	var b [1]byte
	_, err := c.Read(b[:])
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// statusOf reads the status line the server sends on c, "" if it closes
// c without one; the read is bounded so that a failure cannot hang.
func statusOf(c net.Conn) string {
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return ""
	}
	return strings.TrimSpace(line)
}

// TestSlowBodiesAndConnectionCap (issue 11, item 7): a client that
// trickles its body is cut with a 408 after the body deadline; beyond
// the connection cap, more slow clients get a 503 at once, while
// /healthz and /readyz still answer through the reserve.
func TestSlowBodiesAndConnectionCap(t *testing.T) {
	t.Run("cut after the deadline", func(t *testing.T) {
		e := newEnv(t, func(d *Deps) { d.BodyReadTimeout = 200 * time.Millisecond })
		addr, _ := slowServer(t, e, Limits{MaxConns: 8})
		c := slowBody(t, addr)
		if st := statusOf(c); !strings.Contains(st, "408") {
			t.Fatalf("a slow body got %q; want a 408", st)
		}
		if !closed(c) {
			t.Error("the connection of a slow body stays open")
		}
		// A body that arrives in time is served as before.
		if code := postJSON(t, addr, `{"username":"nobody","password":"x"}`); code != http.StatusUnauthorized {
			t.Errorf("a prompt login: %d; want 401", code)
		}
	})

	t.Run("health checks under a flood", func(t *testing.T) {
		const maxConns, reserve = 4, 2
		e := newEnv(t, func(d *Deps) { d.BodyReadTimeout = time.Minute })
		addr, ln := slowServer(t, e, Limits{MaxConns: maxConns, Reserve: reserve})
		// A slow body for a foreign host is refused and its connection
		// closed at once, not drained until the body deadline.
		c := slowBodyFor(t, addr, "rebind.evil.example")
		if st := statusOf(c); !strings.Contains(st, "421") || !closed(c) {
			t.Errorf("a slow body for a foreign host: %q, or its connection stays open", st)
		}
		waitFor(t, func() bool { return len(ln.slots) == 0 })
		var held, refused []net.Conn
		for range maxConns {
			held = append(held, slowBody(t, addr))
		}
		// The first maxConns take every ordinary slot.
		waitFor(t, func() bool { return len(ln.slots) == maxConns })
		for range 2 * reserve {
			refused = append(refused, slowBody(t, addr))
		}
		for i, c := range refused {
			if st := statusOf(c); !strings.Contains(st, "503") {
				t.Errorf("slow client %d beyond the cap got %q; want a 503", i, st)
			}
		}
		client := &http.Client{Timeout: 20 * time.Second}
		for _, path := range []string{"/healthz", "/readyz", "/healthz"} {
			resp, err := client.Get("http://" + addr + path)
			if err != nil {
				t.Fatalf("%s during the flood: %v", path, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			// No worker runs here: /readyz answers 503 "not ready".
			if path == "/healthz" && resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"status"`) {
				t.Errorf("%s during the flood: %d %s", path, resp.StatusCode, body)
			}
		}
		for i, c := range held {
			if !stillOpen(c) {
				t.Errorf("slow client %d within the cap was answered or closed already", i)
			}
		}
		// A page on a reserve connection is refused, not served.
		resp, err := client.Get("http://" + addr + "/login")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("/login while the cap is full: %d; want 503", resp.StatusCode)
		}
	})
}

func postJSON(t *testing.T, addr, body string) int {
	t.Helper()
	resp, err := http.Post("http://"+addr+"/api/v1/auth/login", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestIdleChatEventsEndWithSession (issue 11, item 10): an event stream
// with nothing to send ends within a second or so of its session's
// revocation, not at the next keep-alive (15 seconds).
func TestIdleChatEventsEndWithSession(t *testing.T) {
	hub := live.New()
	e := newEnv(t, func(d *Deps) { d.Live = hub })
	e.setup()
	b := e.login()
	ctx := context.Background()
	conv, _ := e.store.CreateConversation(ctx, store.SourceWeb, "")
	_, cancel := openEvents(t, b, hub, conv.ID)
	defer cancel()
	sessions, err := e.auth.Sessions(ctx, mustAdminID(t, e))
	if err != nil {
		t.Fatal(err)
	}
	for _, ss := range sessions {
		if err := e.auth.Logout(ctx, ss.ID); err != nil {
			t.Fatal(err)
		}
	}
	// waitFor gives up after 5 s, a third of the keep-alive interval.
	waitFor(t, func() bool { return hub.Subscribers(conv.ID) == 0 })
}
