package admin

import (
	"context"
	"database/sql"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/airlockhq/airlock/orchestrator/auth"
	"github.com/airlockhq/airlock/orchestrator/store"
)

const newPass = "a much longer new passphrase"

// cookieOf returns the browser's session cookie.
func (b *browser) cookieOf() *http.Cookie {
	u, _ := url.Parse(b.e.srv.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == sessionCookie {
			return c
		}
	}
	b.e.t.Fatal("no session cookie")
	return nil
}

// withCookie returns a browser holding only cookie c.
func (e *env) withCookie(c *http.Cookie) *browser {
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(e.srv.URL)
	jar.SetCookies(u, []*http.Cookie{{Name: c.Name, Value: c.Value, Path: "/"}})
	return &browser{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// signedIn reports whether b's session is accepted.
func (b *browser) signedIn() bool {
	b.e.t.Helper()
	code, _ := b.get("/account")
	return code == http.StatusOK
}

func (e *env) canLogin(password string) bool {
	e.t.Helper()
	return e.api("", "POST", "/api/v1/auth/login", map[string]string{"username": adminUser, "password": password}, nil) == http.StatusOK
}

func (e *env) adminID() string {
	e.t.Helper()
	a, err := e.store.AdminByUsername(context.Background(), adminUser)
	if err != nil {
		e.t.Fatal(err)
	}
	return a.ID
}

func TestAccountPageListsSessions(t *testing.T) {
	e := newEnv(t)
	e.setup()
	b := e.login()
	e.login()
	code, body := b.get("/account")
	if code != http.StatusOK || !strings.Contains(body, adminUser) || strings.Count(body, "this session") != 1 ||
		strings.Count(body, `/revoke"`) != 2 || !strings.Contains(body, "Sign out all other sessions") {
		t.Errorf("account page: %d\n%s", code, body)
	}
}

func TestChangePassword(t *testing.T) {
	e := newEnv(t)
	e.setup()
	b := e.login()
	old := b.cookieOf()
	other := e.login()
	token := e.apiToken()

	code, loc, _ := b.post("/account/password", url.Values{"current_password": {adminPass},
		"new_password": {newPass}, "new_password_again": {newPass}})
	if code != http.StatusSeeOther || loc != "/account" {
		t.Fatalf("change password: %d %q", code, loc)
	}
	if b.cookieOf().Value == old.Value {
		t.Fatalf("the session cookie was not replaced")
	}
	if code, body := b.get("/account"); code != http.StatusOK || !strings.Contains(body, "password is changed") {
		t.Errorf("the new cookie: %d", code)
	}
	if e.withCookie(old).signedIn() {
		t.Errorf("the old cookie is still accepted")
	}
	if other.signedIn() {
		t.Errorf("another browser's session survived the password change")
	}
	if e.api(token, "GET", "/api/v1/status", nil, nil) != http.StatusUnauthorized {
		t.Errorf("an API token survived the password change")
	}
	if e.canLogin(adminPass) {
		t.Errorf("the old password still logs in")
	}
	if !e.canLogin(newPass) {
		t.Errorf("the new password does not log in")
	}
}

func TestChangePasswordRefusals(t *testing.T) {
	e := newEnv(t)
	e.setup()
	b := e.login()
	tests := []struct {
		name             string
		cur, next, again string
		code             int
		want             string
	}{
		{"wrong current", "not the password at all", newPass, newPass, http.StatusForbidden, "the current password is wrong"},
		{"too short", adminPass, "short", "short", http.StatusBadRequest, "password must be at least 12 characters long"},
		{"mismatch", adminPass, newPass, newPass + "x", http.StatusBadRequest, "the two new passwords differ"},
		{"same", adminPass, adminPass, adminPass, http.StatusBadRequest, "must differ"},
	}
	for _, tt := range tests {
		code, _, body := b.post("/account/password", url.Values{"current_password": {tt.cur},
			"new_password": {tt.next}, "new_password_again": {tt.again}})
		if code != tt.code || !strings.Contains(body, tt.want) || !strings.Contains(body, `action="/account/password"`) {
			t.Errorf("%s: %d, want %d and %q on the account page", tt.name, code, tt.code, tt.want)
		}
		if strings.Contains(body, tt.cur) || strings.Contains(body, newPass) {
			t.Errorf("%s: the page shows a password", tt.name)
		}
	}
	if !b.signedIn() || !e.canLogin(adminPass) {
		t.Errorf("a refused change changed something")
	}
	// Wrong current passwords count towards the username's lockout.
	var code int
	var body string
	for i := 0; i < 20 && code != http.StatusTooManyRequests; i++ {
		code, _, body = b.post("/account/password", url.Values{"current_password": {"wrong wrong wrong"},
			"new_password": {newPass}, "new_password_again": {newPass}})
	}
	if code != http.StatusTooManyRequests || !strings.Contains(body, "too many failed attempts") {
		t.Errorf("no lockout after repeated wrong passwords: %d", code)
	}
}

func TestSignOutOthers(t *testing.T) {
	e := newEnv(t)
	e.setup()
	b := e.login()
	other := e.login()
	token := e.apiToken()
	code, loc, _ := b.post("/account/sessions/revoke-others", nil)
	if code != http.StatusSeeOther || loc != "/account" {
		t.Fatalf("sign out others: %d %q", code, loc)
	}
	if other.signedIn() {
		t.Errorf("the other browser is still signed in")
	}
	if e.api(token, "GET", "/api/v1/status", nil, nil) != http.StatusUnauthorized {
		t.Errorf("the API token still works")
	}
	if code, body := b.get("/account"); code != http.StatusOK || !strings.Contains(body, "Signed out 2 other sessions.") {
		t.Errorf("this browser after signing out the others: %d", code)
	}
}

func TestRevokeSession(t *testing.T) {
	e := newEnv(t)
	e.setup()
	b := e.login()
	ctx := context.Background()
	var out struct {
		Token     string
		SessionID string `json:"session_id"`
	}
	if e.api("", "POST", "/api/v1/auth/login", map[string]string{"username": adminUser, "password": adminPass}, &out) != http.StatusOK {
		t.Fatal("api login")
	}
	code, loc, _ := b.post("/account/sessions/"+out.SessionID+"/revoke", nil)
	if code != http.StatusSeeOther || loc != "/account" {
		t.Fatalf("revoke: %d %q", code, loc)
	}
	if e.api(out.Token, "GET", "/api/v1/status", nil, nil) != http.StatusUnauthorized {
		t.Errorf("the revoked token still works")
	}
	if !b.signedIn() {
		t.Errorf("revoking another session signed this one out")
	}

	// Unknown ids and another admin's sessions are not found, and stay.
	otherID := "adm_other"
	err := e.store.WriteTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO admins (id, username, password_hash, token_key, created_by, created_at, updated_at)"+
			" VALUES (?, 'bob', '$argon2id$x', ?, 'admin', 1, 1)", otherID, make([]byte, 32))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	bobs, err := e.store.CreateAdminSession(ctx, store.NewAdminSession{AdminID: otherID, Type: auth.TypeSession,
		At: now, ExpiresAt: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{bobs.ID, "ses_nope", "..%2F..%2Faccount"} {
		if code, _, body := b.post("/account/sessions/"+id+"/revoke", nil); code != http.StatusNotFound || !strings.Contains(body, "no such session") {
			t.Errorf("revoke %s: %d, want 404", id, code)
		}
	}
	if ss, err := e.store.GetAdminSession(ctx, bobs.ID); err != nil || !ss.RevokedAt.IsZero() {
		t.Errorf("another admin's session was revoked: %+v %v", ss, err)
	}

	// Revoking this session signs out.
	var mine string
	list, err := e.auth.Sessions(ctx, e.adminID())
	if err != nil {
		t.Fatal(err)
	}
	_, body := b.get("/account")
	for _, ss := range list {
		if strings.Contains(body, ss.ID) && ss.Type == auth.TypeSession && len(list) == 1 {
			mine = ss.ID
		}
	}
	if mine == "" {
		t.Fatalf("cannot find this session among %+v", list)
	}
	code, loc, _ = b.post("/account/sessions/"+mine+"/revoke", nil)
	if code != http.StatusSeeOther || loc != "/login" {
		t.Errorf("revoking this session: %d %q, want a redirect to /login", code, loc)
	}
	if b.signedIn() {
		t.Errorf("still signed in after revoking this session")
	}
}

func TestAccountActionsNeedCSRF(t *testing.T) {
	e := newEnv(t)
	e.setup()
	b := e.login()
	other := e.login()
	for _, path := range []string{"/account/password", "/account/sessions/revoke-others"} {
		code, _, _ := b.post(path, url.Values{"csrf_token": {""}, "current_password": {adminPass},
			"new_password": {newPass}, "new_password_again": {newPass}})
		if code != http.StatusForbidden {
			t.Errorf("%s without CSRF token: %d, want 403", path, code)
		}
	}
	list, err := e.auth.Sessions(context.Background(), e.adminID())
	if err != nil {
		t.Fatal(err)
	}
	for _, ss := range list {
		if code, _, _ := b.post("/account/sessions/"+ss.ID+"/revoke", url.Values{"csrf_token": {"forged"}}); code != http.StatusForbidden {
			t.Errorf("revoke without CSRF token: %d, want 403", code)
		}
	}
	if !b.signedIn() || !other.signedIn() || !e.canLogin(adminPass) || e.canLogin(newPass) {
		t.Errorf("a refused request changed something")
	}
}
