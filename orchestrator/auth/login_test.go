package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestLoginAndSessions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := e.withAdmin(t)
	tok, s, err := e.svc.Login(ctx, adminName, goodPassword, "192.0.2.1", "Firefox", TypeSession)
	if err != nil || tok == "" || s.AdminID != a.ID || s.Type != TypeSession || s.UserAgent != "Firefox" ||
		!s.ExpiresAt.Equal(e.clock.Now().Add(DefaultSessionTTL)) {
		t.Fatalf("Login = %q, %+v, %v", tok, s, err)
	}
	gotA, gotS, err := e.svc.Authenticate(ctx, tok, TypeSession)
	if err != nil || gotA.ID != a.ID || gotA.Username != adminName || gotS.ID != s.ID {
		t.Fatalf("Authenticate = %+v, %+v, %v", gotA, gotS, err)
	}
	_, api, err := e.svc.Login(ctx, adminName, goodPassword, "192.0.2.2", "curl", TypeAPI)
	if err != nil || !api.ExpiresAt.Equal(e.clock.Now().Add(DefaultAPITokenTTL)) {
		t.Fatalf("Login(api) = %+v, %v", api, err)
	}
	if _, _, err := e.svc.Login(ctx, adminName, goodPassword, "192.0.2.2", "x", "admin"); err == nil {
		t.Fatal("Login accepted an unknown token type")
	}
	// Authenticate records activity, at most once a minute.
	e.clock.Advance(2 * time.Minute)
	if _, s2, err := e.svc.Authenticate(ctx, tok, TypeSession); err != nil || !s2.LastSeenAt.Equal(e.clock.Now()) {
		t.Fatalf("Authenticate later = %+v, %v; want last seen now", s2, err)
	}
	list, err := e.svc.Sessions(ctx, a.ID)
	if err != nil || len(list) != 2 || list[0].ID != s.ID || list[1].ID != api.ID {
		t.Fatalf("Sessions = %+v, %v; want the browser session (seen last) then the API one", list, err)
	}
	if e.countAudit(t, ActionLogin, "ok", `"session_id":"`+s.ID+`"`) != 1 {
		t.Fatal("no auth.login ok audit entry for the session")
	}
}

func TestThousandWrongLogins(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.withAdmin(t)
	invalid, locked := 0, 0
	var lockedErr error
	for i := range 1000 {
		ip := fmt.Sprintf("198.51.100.%d", i%50)
		_, _, err := e.svc.Login(ctx, adminName, fmt.Sprintf("wrong password %d", i), ip, "bot", TypeSession)
		switch {
		case err == nil:
			t.Fatalf("wrong login %d succeeded", i)
		case errors.Is(err, ErrInvalidCredentials):
			invalid++
		case errors.Is(err, ErrLockedOut):
			locked++
			lockedErr = err
		default:
			t.Fatalf("wrong login %d: unexpected error %v", i, err)
		}
		e.clock.Advance(30 * time.Second)
	}
	_, verN, _ := e.hasher.take()
	// 500 minutes: locks of 15, 30, 60, 120 and 240 minutes, 5 guesses each.
	if invalid != 5*6 || verN != invalid || locked != 1000-invalid {
		t.Fatalf("%d checked (%d hashes), %d locked; want 30 checked and hashed, the rest locked", invalid, verN, locked)
	}
	var le *LimitError
	if !errors.As(lockedErr, &le) || le.RetryAfter <= 0 || lockedErr.Error() != "auth: login: auth: "+ErrLockedOut.Error() {
		t.Fatalf("lockout error = %v", lockedErr)
	}
	// Locked out, the right password is refused too, without hashing.
	if _, _, err := e.svc.Login(ctx, adminName, goodPassword, "192.0.2.1", "me", TypeSession); !errors.Is(err, ErrLockedOut) {
		t.Fatalf("right password while locked = %v, want ErrLockedOut", err)
	}
	if _, verN, _ := e.hasher.take(); verN != 0 {
		t.Fatalf("a locked login ran %d hashes", verN)
	}
	e.flush(t)
	if got := e.failureCount(t, ActionLogin, reasonBadCredentials); got != invalid {
		t.Fatalf("%d wrong passwords audited, want %d", got, invalid)
	}
	if got := e.failureCount(t, ActionLogin, reasonLocked); got != locked+1 {
		t.Fatalf("%d locked-out logins audited, want %d", got, locked+1)
	}
	for _, lock := range []string{"900", "1800", "3600", "7200", "14400"} {
		if e.countAudit(t, ActionLockout, "denied", `"scope":"username"`, `"retry_after_s":`+lock) < 1 {
			t.Errorf("no username lockout of %ss audited", lock)
		}
	}
	// After the lock, the right password works and clears the count.
	e.clock.Advance(4 * time.Hour)
	if _, _, err := e.svc.Login(ctx, adminName, goodPassword, "192.0.2.1", "me", TypeSession); err != nil {
		t.Fatalf("right password after the lock = %v", err)
	}
}

func TestLoginUnknownUserSameWork(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.withAdmin(t)
	stored, err := e.st.AdminByUsername(ctx, adminName)
	if err != nil {
		t.Fatal(err)
	}
	want, _, _, err := decodeHash(stored.PasswordHash)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for i, user := range []string{adminName, "mallory", "ALICE", "not a valid name!", ""} {
		ip := fmt.Sprintf("192.0.2.%d", 10+i)
		_, _, err := e.svc.Login(ctx, user, "not the password", ip, "ua", TypeSession)
		if !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("Login(%q) = %v, want ErrInvalidCredentials", user, err)
		}
		msgs = append(msgs, err.Error())
		hashN, verN, ver := e.hasher.take()
		if hashN != 0 || verN != 1 || ver[0] != want {
			t.Fatalf("Login(%q): %d hashes, %d verifications with %+v; want exactly 1 verification with %+v",
				user, hashN, verN, ver, want)
		}
	}
	for _, m := range msgs {
		if m != msgs[0] || m != "auth: login: invalid username or password" {
			t.Fatalf("error texts differ: %q", msgs)
		}
	}
}

func TestLoginLimitPerIPAndConcurrent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.withAdmin(t)
	// Spraying usernames from one client locks the client.
	for i := range 10 {
		if _, _, err := e.svc.Login(ctx, fmt.Sprintf("user%d", i), "guess guess guess", "203.0.113.5", "ua",
			TypeSession); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("spray %d = %v", i, err)
		}
	}
	if _, _, err := e.svc.Login(ctx, adminName, goodPassword, "203.0.113.5", "ua", TypeSession); !errors.Is(err, ErrLockedOut) {
		t.Fatalf("the spraying client = %v, want ErrLockedOut", err)
	}
	if _, _, err := e.svc.Login(ctx, adminName, goodPassword, "2001:db8::1", "ua", TypeSession); err != nil {
		t.Fatalf("another client = %v", err)
	}
	if e.countAudit(t, ActionLockout, "denied", `"scope":"client_ip"`) != 1 {
		t.Fatal("no client lockout audited")
	}
	// Concurrent guesses cannot pass the limit: attempts count when they start.
	e.hasher.take()
	var wg sync.WaitGroup
	var mu sync.Mutex
	checked := 0
	for i := range 20 {
		wg.Go(func() {
			_, _, err := e.svc.Login(ctx, adminName, "wrong", fmt.Sprintf("2001:db8:%x::1", i), "ua", TypeSession)
			mu.Lock()
			defer mu.Unlock()
			if errors.Is(err, ErrInvalidCredentials) {
				checked++
			} else if !errors.Is(err, ErrLockedOut) {
				t.Errorf("concurrent guess: %v", err)
			}
		})
	}
	wg.Wait()
	if _, verN, _ := e.hasher.take(); checked != 5 || verN != 5 {
		t.Fatalf("%d of 20 concurrent guesses were checked (%d hashes); want 5", checked, verN)
	}
}
