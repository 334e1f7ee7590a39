package auth

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const newPassword = "a brand new passphrase"

func TestChangePassword(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := e.withAdmin(t)
	tok, cur := e.login(t, TypeSession)
	other, _ := e.login(t, TypeAPI)
	tests := []struct {
		name, old, new string
		want           error
	}{
		{"wrong current password", "not my password", newPassword, ErrWrongPassword},
		{"weak new password", goodPassword, "short", ErrWeakPassword},
		{"new is the username", goodPassword, "Alice       ", ErrWeakPassword},
		{"new equals old", goodPassword, goodPassword, ErrWeakPassword},
	}
	for _, tc := range tests {
		if _, _, err := e.svc.ChangePassword(ctx, cur, tc.old, tc.new); !errors.Is(err, tc.want) {
			t.Fatalf("%s: ChangePassword = %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, _, err := e.svc.Authenticate(ctx, tok, TypeSession); err != nil {
		t.Fatalf("a refused change revoked the session: %v", err)
	}
	newTok, ns, err := e.svc.ChangePassword(ctx, cur, goodPassword, newPassword)
	if err != nil || ns.ID == cur.ID || ns.Type != cur.Type || ns.UserAgent != cur.UserAgent || ns.AdminID != a.ID {
		t.Fatalf("ChangePassword = %+v, %v", ns, err)
	}
	for _, old := range []struct{ tok, typ string }{{tok, TypeSession}, {other, TypeAPI}} {
		if _, _, err := e.svc.Authenticate(ctx, old.tok, old.typ); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("%s token after a password change = %v, want ErrInvalidToken", old.typ, err)
		}
	}
	if _, s, err := e.svc.Authenticate(ctx, newTok, TypeSession); err != nil || s.ID != ns.ID {
		t.Fatalf("fresh token = %+v, %v", s, err)
	}
	if list, _ := e.svc.Sessions(ctx, a.ID); len(list) != 1 || list[0].ID != ns.ID {
		t.Fatalf("Sessions after change = %+v, want only the fresh one", list)
	}
	if _, _, err := e.svc.Login(ctx, adminName, goodPassword, "192.0.2.1", "ua", TypeSession); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("old password = %v, want ErrInvalidCredentials", err)
	}
	if _, _, err := e.svc.Login(ctx, adminName, newPassword, "192.0.2.1", "ua", TypeSession); err != nil {
		t.Fatalf("new password = %v", err)
	}
	if e.countAudit(t, ActionPasswordChange, "ok") != 1 ||
		e.countAudit(t, ActionPasswordChange, "denied", `"wrong_password"`) != 1 {
		t.Fatal("password change not audited")
	}
}

func TestChangePasswordGuessingLocks(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.withAdmin(t)
	_, cur := e.login(t, TypeSession)
	for i := range 5 {
		if _, _, err := e.svc.ChangePassword(ctx, cur, "guess number "+string(rune('a'+i)), newPassword); !errors.Is(err, ErrWrongPassword) {
			t.Fatalf("guess %d = %v", i, err)
		}
	}
	if _, _, err := e.svc.ChangePassword(ctx, cur, goodPassword, newPassword); !errors.Is(err, ErrLockedOut) {
		t.Fatalf("right password after 5 guesses = %v, want ErrLockedOut", err)
	}
}

// TestCanaryNeverLeaks drives every path with a canary password and checks
// that neither it, nor a setup code, nor a token, appears in any error, log
// line, audit entry or file on disk.
func TestCanaryNeverLeaks(t *testing.T) {
	const canary = "CANARY-7f3a9c-PASSWORD"
	e := newEnv(t)
	ctx := context.Background()
	var errs []string
	note := func(err error) {
		if err != nil {
			errs = append(errs, err.Error())
		}
	}
	code, err := e.svc.StartSetup(ctx)
	note(err)
	_, err = e.svc.CompleteSetup(ctx, "WRONG-CODE", adminName, canary, "192.0.2.1")
	note(err)
	_, err = e.svc.CompleteSetup(ctx, code, adminName, strings.Repeat(canary, 60), "192.0.2.1") // too long
	note(err)
	_, err = e.svc.CompleteSetup(ctx, code, canary, canary, "192.0.2.1") // canary as a username is invalid
	note(err)
	if _, err = e.svc.CompleteSetup(ctx, code, adminName, canary, "192.0.2.1"); err != nil {
		t.Fatalf("setup: %v", err)
	}
	var secrets = []string{canary, code, strings.ReplaceAll(code, "-", "")}
	for range 4 {
		_, _, err = e.svc.Login(ctx, adminName, canary+"x", "192.0.2.2", "ua", TypeSession)
		note(err)
	}
	_, _, err = e.svc.Login(ctx, "nobody", canary, "192.0.2.3", "ua", TypeSession)
	note(err)
	res, err := e.svc.SignIn(ctx, LoginRequest{Username: adminName, Password: canary, IP: "192.0.2.4", UserAgent: "ua",
		Type: TypeSession})
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	tok, cur := res.Token, res.Session
	secrets = append(secrets, tok, res.Device)
	_, err = e.svc.SignIn(ctx, LoginRequest{Username: adminName, Password: canary + "y", IP: "192.0.2.4", Type: TypeSession,
		Device: res.Device})
	note(err)
	_, _, err = e.svc.ChangePassword(ctx, cur, canary+"wrong", canary+"new!")
	note(err)
	_, _, err = e.svc.ChangePassword(ctx, cur, canary, strings.Repeat(canary, 60)) // too long
	note(err)
	newTok, _, err := e.svc.ChangePassword(ctx, cur, canary, "X"+canary+"-2")
	if err != nil {
		t.Fatalf("change password: %v", err)
	}
	secrets = append(secrets, newTok, "X"+canary+"-2")
	_, _, err = e.svc.Authenticate(ctx, tok, TypeSession)
	note(err)
	_, _, err = e.svc.Authenticate(ctx, tok+"x", TypeSession)
	note(err)
	e.flush(t) // the summaries of the failures
	if len(errs) < 10 {
		t.Fatalf("only %d errors collected; the scenario did not run as intended: %q", len(errs), errs)
	}
	var audit strings.Builder
	for _, r := range e.auditRows(t) {
		audit.WriteString(r.Actor + " " + r.Target + " " + r.Details + "\n")
	}
	if len(e.auditRows(t)) < 10 {
		t.Fatal("too few audit entries to check")
	}
	files := readAll(t, e.dir)
	for _, s := range secrets {
		for where, text := range map[string]string{"errors": strings.Join(errs, "\n"), "audit": audit.String(),
			"logs": e.logs.String(), "files": files} {
			if strings.Contains(text, s) {
				t.Errorf("a secret (%d bytes) appears in the %s", len(s), where)
			}
		}
	}
}

// readAll returns the contents of every file under dir (the database, its
// WAL and shared memory).
func readAll(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		b.Write(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
