package admin

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/auth"
)

// TestSetupRaceThroughAPI: 20 concurrent setups with the right code make
// exactly one admin; setup is gone afterwards, for the API and the page.
func TestSetupRaceThroughAPI(t *testing.T) {
	e := newEnv(t)
	code, err := e.auth.StartSetup(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	codes := make([]int, 20)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = e.api("", "POST", "/api/v1/setup", map[string]string{"code": code,
				"username": "admin" + string(rune('a'+i)), "password": adminPass}, nil)
		}()
	}
	wg.Wait()
	created := 0
	for _, c := range codes {
		switch c {
		case http.StatusCreated:
			created++
		case http.StatusGone, http.StatusForbidden, http.StatusTooManyRequests:
		default:
			t.Errorf("a racing setup answered %d", c)
		}
	}
	if n, err := e.store.CountAdmins(context.Background()); err != nil || n != 1 || created != 1 {
		t.Fatalf("admins %d (err %v), %d setups succeeded; want exactly one", n, err, created)
	}
	var state struct {
		SetupNeeded bool `json:"setup_needed"`
	}
	if c := e.api("", "GET", "/api/v1/setup", nil, &state); c != 200 || state.SetupNeeded {
		t.Errorf("setup state after setup: %d %+v", c, state)
	}
	if c := e.api("", "POST", "/api/v1/setup", map[string]string{"code": code, "username": "late", "password": adminPass}, nil); c != http.StatusGone {
		t.Errorf("setup after setup: %d; want 410", c)
	}
	if resp, err := http.Get(e.srv.URL + "/setup"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("setup page after setup: %v %v; want 404", resp.StatusCode, err)
	}
}

// TestSetupWrongCodeRateLimited: wrong codes are refused, then rate
// limited, and the right code made no admin meanwhile.
func TestSetupWrongCodeRateLimited(t *testing.T) {
	e := newEnv(t)
	if _, err := e.auth.StartSetup(context.Background()); err != nil {
		t.Fatal(err)
	}
	seen := map[int]int{}
	for i := 0; i < 12; i++ {
		seen[e.api("", "POST", "/api/v1/setup", map[string]string{"code": "AAAAA-BBBBB-CCCCC-DDDDD",
			"username": adminUser, "password": adminPass}, nil)]++
	}
	if seen[http.StatusForbidden] == 0 || seen[http.StatusTooManyRequests] == 0 || seen[http.StatusCreated] != 0 {
		t.Fatalf("wrong codes answered %v; want 403s then 429s", seen)
	}
	if n, _ := e.store.CountAdmins(context.Background()); n != 0 {
		t.Fatalf("%d admins after wrong codes", n)
	}
}

// TestSetupPageFlow: the setup page needs its code and the double-submit
// CSRF token, creates the admin, signs them in and continues the wizard.
func TestSetupPageFlow(t *testing.T) {
	e := newEnv(t)
	code, err := e.auth.StartSetup(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	b := &browser{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
	if c, _ := b.get("/"); c != http.StatusSeeOther {
		t.Fatalf("dashboard before setup: %d; want a redirect", c)
	}
	c, body := b.get("/setup")
	m := csrfRE.FindStringSubmatch(body)
	if c != 200 || m == nil {
		t.Fatalf("setup page: %d", c)
	}
	form := url.Values{"csrf_token": {m[1]}, "username": {adminUser}, "password": {adminPass}, "password_again": {adminPass}}
	form.Set("code", "AAAAA-BBBBB-CCCCC-DDDDD")
	if c, _, body := b.post("/setup", form); c != http.StatusForbidden || !strings.Contains(body, auth.ErrSetupCode.Error()) {
		t.Fatalf("wrong code: %d", c)
	}
	form.Set("code", strings.ToLower(code))
	form.Set("csrf_token", "forged")
	if c, _, _ := b.post("/setup", form); c != http.StatusForbidden {
		t.Fatalf("forged CSRF token: %d; want 403", c)
	}
	form.Set("csrf_token", m[1])
	c, loc, _ := b.post("/setup", form)
	if c != http.StatusSeeOther || loc != "/welcome/llm" {
		t.Fatalf("setup: %d %s", c, loc)
	}
	if c, body := b.get("/welcome/llm"); c != 200 || !strings.Contains(body, `name="llm.model"`) {
		t.Fatalf("wizard after setup: %d", c)
	}
	if c, _ := b.get("/setup"); c != http.StatusNotFound {
		t.Errorf("setup page after setup: %d; want 404", c)
	}
}

// TestThousandWrongLogins: 1000 wrong passwords through the API give no
// session, lock the username out (the right password too, meanwhile), and
// are in the audit log with the lockout.
func TestThousandWrongLogins(t *testing.T) {
	e := newEnv(t)
	e.setup()
	seen := map[int]int{}
	for i := 0; i < 1000; i++ {
		seen[e.api("", "POST", "/api/v1/auth/login", map[string]string{"username": adminUser, "password": "wrong password " + string(rune('a'+i%26))}, nil)]++
	}
	if seen[http.StatusOK] != 0 || seen[http.StatusUnauthorized] == 0 || seen[http.StatusTooManyRequests] < 900 {
		t.Fatalf("1000 wrong logins answered %v", seen)
	}
	if c := e.api("", "POST", "/api/v1/auth/login", map[string]string{"username": adminUser, "password": adminPass}, nil); c != http.StatusTooManyRequests {
		t.Errorf("the right password during the lockout: %d; want 429", c)
	}
	// Failed logins are aggregated: an entry for the client's first failure
	// in a 5-minute window, one summary with a count for the rest (written
	// when the window has ended; this test may cross one boundary).
	ctx := context.Background()
	page, err := e.audit.List(ctx, audit.Filter{Action: auth.ActionLogin, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	if len(page) == 0 || len(page) > 3 {
		t.Errorf("audit: %d auth.login rows for 1001 failed logins from one client; want 1 to 3", len(page))
	}
	locks, _ := e.audit.List(ctx, audit.Filter{Action: auth.ActionLockout, Limit: 100})
	if len(locks) == 0 {
		t.Error("no lockout audited")
	}
	// The login page says the same, with Retry-After.
	jar, _ := cookiejar.New(nil)
	b := &browser{e: e, c: &http.Client{Jar: jar}}
	_, body := b.get("/login")
	m := csrfRE.FindStringSubmatch(body)
	req, _ := http.NewRequest("POST", e.srv.URL+"/login", strings.NewReader(url.Values{"csrf_token": {m[1]},
		"username": {adminUser}, "password": {adminPass}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("login page during lockout: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

// TestLoginNextStaysLocal: ?next= never sends the admin to another site.
func TestLoginNextStaysLocal(t *testing.T) {
	for in, want := range map[string]string{"/scripts": "/scripts", "//evil.example/": "/", "https://evil.example": "/",
		"/\\evil.example": "/", "": "/", "/a\r\nLocation: x": "/"} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q; want %q", in, got, want)
		}
	}
}

// TestKnownDeviceDuringLockout (issue 11, item 3): wrong passwords from
// anywhere (here even from the admin's own address) lock the username for
// unknown devices, but a browser or API client that signed in before sends
// its known-device cookie and signs in at once.
func TestKnownDeviceDuringLockout(t *testing.T) {
	e := newEnv(t)
	e.setup()
	b := e.login()
	var dev *http.Cookie
	for _, c := range b.c.Jar.Cookies(mustURL(t, e.srv.URL)) {
		if c.Name == deviceCookie {
			dev = c
		}
	}
	if dev == nil || dev.Value == "" {
		t.Fatal("the login did not set a known-device cookie")
	}
	// The API client's known device, from its own login.
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/auth/login",
		strings.NewReader(`{"username":"`+adminUser+`","password":"`+adminPass+`"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var apiDev *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == deviceCookie {
			apiDev = c
		}
	}
	if apiDev == nil || !apiDev.HttpOnly || apiDev.SameSite != http.SameSiteStrictMode || apiDev.Secure ||
		apiDev.Expires.IsZero() {
		t.Fatalf("API login's device cookie = %+v; want HttpOnly, SameSite=Strict, not Secure over http, expiring", apiDev)
	}
	if c, _, _ := b.post("/logout", nil); c != http.StatusSeeOther {
		t.Fatalf("logout: %d", c)
	}
	for i := range 30 {
		e.api("", "POST", "/api/v1/auth/login", map[string]string{"username": adminUser, "password": "wrong password " + string(rune('a'+i))}, nil)
	}
	if c := e.api("", "POST", "/api/v1/auth/login", map[string]string{"username": adminUser, "password": adminPass}, nil); c != http.StatusTooManyRequests {
		t.Fatalf("an unknown device with the right password during the attack: %d; want 429", c)
	}
	// The browser signs in through the form.
	_, body := b.get("/login")
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no CSRF token on the login page")
	}
	if c, loc, _ := b.post("/login", url.Values{"csrf_token": {m[1]}, "username": {adminUser}, "password": {adminPass}}); c != http.StatusSeeOther || loc != "/" {
		t.Fatalf("the known browser during the attack: %d %s; want 303 to /", c, loc)
	}
	// The API client sends its cookie back.
	req, _ = http.NewRequest("POST", e.srv.URL+"/api/v1/auth/login",
		strings.NewReader(`{"username":"`+adminUser+`","password":"`+adminPass+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.AddCookie(&http.Cookie{Name: deviceCookie, Value: apiDev.Value})
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the known API client during the attack: %d; want 200", resp.StatusCode)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
