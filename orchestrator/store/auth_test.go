package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"testing"
	"time"
)

func testAdmin(name string, at time.Time) Admin {
	return Admin{Username: name, PasswordHash: "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA",
		TokenKey: bytes.Repeat([]byte{7}, 32), CreatedAt: at}
}

func TestSetupAdminOnce(t *testing.T) {
	s, clk, path := newTestStore(t)
	ctx := context.Background()
	good := sha256.Sum256([]byte("right code"))
	bad := sha256.Sum256([]byte("wrong code"))
	if _, err := s.GetSetupCode(ctx); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetSetupCode before any = %v, want ErrNotFound", err)
	}
	if _, err := s.CreateSetupAdmin(ctx, good[:], testAdmin("alice", clk.Now())); !errors.Is(err, ErrNotFound) {
		t.Fatalf("CreateSetupAdmin without a code = %v, want ErrNotFound", err)
	}
	if err := s.PutSetupCode(ctx, good[:], clk.Now(), clk.Now().Add(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if c, err := s.GetSetupCode(ctx); err != nil || !bytes.Equal(c.Hash, good[:]) || !c.UsedAt.IsZero() {
		t.Fatalf("GetSetupCode = %+v, %v", c, err)
	}
	if _, err := s.CreateSetupAdmin(ctx, bad[:], testAdmin("alice", clk.Now())); !errors.Is(err, ErrNotFound) {
		t.Fatalf("CreateSetupAdmin(wrong hash) = %v, want ErrNotFound", err)
	}
	late := clk.Now().Add(31 * time.Minute)
	if _, err := s.CreateSetupAdmin(ctx, good[:], testAdmin("alice", late)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("CreateSetupAdmin(expired) = %v, want ErrNotFound", err)
	}

	const racers = 20
	var wg sync.WaitGroup
	errs := make([]error, racers)
	for i := range racers {
		wg.Go(func() {
			_, errs[i] = s.CreateSetupAdmin(ctx, good[:], testAdmin("admin"+string(rune('a'+i)), clk.Now()))
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, ErrAdminExists):
			t.Errorf("racer error = %v, want ErrAdminExists", err)
		}
	}
	if ok != 1 || countRows(t, rawDB(t, path), "admins") != 1 {
		t.Fatalf("%d racers succeeded, %d admins; want exactly 1", ok, countRows(t, rawDB(t, path), "admins"))
	}
	if c, err := s.GetSetupCode(ctx); err != nil || c.UsedAt.IsZero() {
		t.Fatalf("setup code after use = %+v, %v; want used", c, err)
	}
	if err := s.PutSetupCode(ctx, good[:], clk.Now(), clk.Now().Add(time.Hour)); !errors.Is(err, ErrAdminExists) {
		t.Fatalf("PutSetupCode after setup = %v, want ErrAdminExists", err)
	}
	if n, err := s.CountAdmins(ctx); err != nil || n != 1 {
		t.Fatalf("CountAdmins = %d, %v", n, err)
	}
}

func TestSetupAdminUniqueInDatabase(t *testing.T) {
	s, clk, path := newTestStore(t)
	ctx := context.Background()
	h := sha256.Sum256([]byte("code"))
	if err := s.PutSetupCode(ctx, h[:], clk.Now(), clk.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateSetupAdmin(ctx, h[:], testAdmin("alice", clk.Now())); err != nil {
		t.Fatal(err)
	}
	// Bypassing the code: the partial unique index still refuses a second
	// admin created by setup.
	_, err := rawDB(t, path).Exec("INSERT INTO admins (id, username, password_hash, token_key, created_by," +
		" created_at, updated_at) VALUES ('x', 'mallory', '$argon2id$x', zeroblob(32), 'setup', 0, 0)")
	if err == nil {
		t.Fatal("a second setup-created admin was accepted by the database")
	}
}

func setupAdmin(t *testing.T, s *Store, at time.Time) Admin {
	t.Helper()
	ctx := context.Background()
	h := sha256.Sum256([]byte("code"))
	if err := s.PutSetupCode(ctx, h[:], at, at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	a, err := s.CreateSetupAdmin(ctx, h[:], testAdmin("alice", at))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAdminLookup(t *testing.T) {
	s, clk, _ := newTestStore(t)
	ctx := context.Background()
	a := setupAdmin(t, s, clk.Now())
	for _, get := range []func() (Admin, error){
		func() (Admin, error) { return s.AdminByID(ctx, a.ID) },
		func() (Admin, error) { return s.AdminByUsername(ctx, "alice") },
	} {
		got, err := get()
		if err != nil || got.ID != a.ID || got.Username != "alice" || got.PasswordHash != a.PasswordHash ||
			!bytes.Equal(got.TokenKey, a.TokenKey) || !got.CreatedAt.Equal(clk.Now()) {
			t.Fatalf("lookup = %+v, %v; want %+v", got, err, a)
		}
	}
	if _, err := s.AdminByUsername(ctx, "bob"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("AdminByUsername(unknown) = %v, want ErrNotFound", err)
	}
	if _, err := s.AdminByID(ctx, "adm_nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("AdminByID(unknown) = %v, want ErrNotFound", err)
	}
}

func TestAdminSessions(t *testing.T) {
	s, clk, _ := newTestStore(t)
	ctx := context.Background()
	a := setupAdmin(t, s, clk.Now())
	now := clk.Now()
	mk := func(typ string, ttl time.Duration) AdminSession {
		t.Helper()
		as, err := s.CreateAdminSession(ctx, NewAdminSession{AdminID: a.ID, Type: typ, UserAgent: "ua", IP: "192.0.2.1",
			At: now, ExpiresAt: now.Add(ttl)})
		if err != nil {
			t.Fatal(err)
		}
		return as
	}
	s1, s2, s3 := mk("session", time.Hour), mk("api", 24*time.Hour), mk("session", time.Minute)
	if _, err := s.CreateAdminSession(ctx, NewAdminSession{AdminID: "adm_nope", Type: "session", At: now,
		ExpiresAt: now.Add(time.Hour)}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("CreateAdminSession(unknown admin) = %v, want ErrNotFound", err)
	}
	if err := s.TouchAdminSession(ctx, s2.ID, now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetAdminSession(ctx, s2.ID)
	if err != nil || got.Type != "api" || got.AdminID != a.ID || !got.LastSeenAt.Equal(now.Add(time.Second)) ||
		!got.RevokedAt.IsZero() || got.IP != "192.0.2.1" {
		t.Fatalf("GetAdminSession = %+v, %v", got, err)
	}
	active, err := s.ActiveAdminSessions(ctx, a.ID, now.Add(2*time.Minute))
	if err != nil || len(active) != 2 || active[0].ID != s2.ID || active[1].ID != s1.ID {
		t.Fatalf("ActiveAdminSessions = %+v, %v; want s2, s1 (s3 expired)", active, err)
	}
	if err := s.RevokeAdminSession(ctx, s1.ID, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeAdminSession(ctx, s1.ID, now.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetAdminSession(ctx, s1.ID); !got.RevokedAt.Equal(now.Add(time.Minute)) {
		t.Fatalf("revoked_at = %v, want the first revocation time", got.RevokedAt)
	}
	if err := s.RevokeAdminSession(ctx, "ses_nope", now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("RevokeAdminSession(unknown) = %v, want ErrNotFound", err)
	}
	if n, err := s.RevokeOtherAdminSessions(ctx, a.ID, s2.ID, now); err != nil || n != 1 {
		t.Fatalf("RevokeOtherAdminSessions = %d, %v; want 1 (s3)", n, err)
	}
	if active, _ := s.ActiveAdminSessions(ctx, a.ID, now); len(active) != 1 || active[0].ID != s2.ID {
		t.Fatalf("active after sign-out-others = %+v, want only s2", active)
	}
	if n, err := s.DeleteStaleAdminSessions(ctx, now.Add(time.Hour)); err != nil || n != 2 {
		t.Fatalf("DeleteStaleAdminSessions = %d, %v; want 2 (s1 and s3)", n, err)
	}
	if _, err := s.GetAdminSession(ctx, s3.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("stale session still there: %v", err)
	}
}

func TestChangeAdminPassword(t *testing.T) {
	s, clk, _ := newTestStore(t)
	ctx := context.Background()
	a := setupAdmin(t, s, clk.Now())
	now := clk.Now()
	old, err := s.CreateAdminSession(ctx, NewAdminSession{AdminID: a.ID, Type: "session", At: now,
		ExpiresAt: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	newKey := bytes.Repeat([]byte{9}, 32)
	ns := NewAdminSession{Type: "session", At: now.Add(time.Minute), ExpiresAt: now.Add(time.Hour)}
	if _, err := s.ChangeAdminPassword(ctx, a.ID, "$argon2id$stale", "$argon2id$new", newKey, ns); !errors.Is(err, ErrPasswordChanged) {
		t.Fatalf("ChangeAdminPassword(stale old hash) = %v, want ErrPasswordChanged", err)
	}
	if _, err := s.ChangeAdminPassword(ctx, "adm_nope", a.PasswordHash, "$argon2id$new", newKey, ns); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ChangeAdminPassword(unknown) = %v, want ErrNotFound", err)
	}
	fresh, err := s.ChangeAdminPassword(ctx, a.ID, a.PasswordHash, "$argon2id$new", newKey, ns)
	if err != nil || fresh.AdminID != a.ID || fresh.ID == old.ID {
		t.Fatalf("ChangeAdminPassword = %+v, %v", fresh, err)
	}
	got, _ := s.AdminByID(ctx, a.ID)
	if got.PasswordHash != "$argon2id$new" || !bytes.Equal(got.TokenKey, newKey) || !got.UpdatedAt.Equal(ns.At) {
		t.Fatalf("admin after change = %+v", got)
	}
	if o, _ := s.GetAdminSession(ctx, old.ID); o.RevokedAt.IsZero() {
		t.Fatal("the old session survived a password change")
	}
	if active, _ := s.ActiveAdminSessions(ctx, a.ID, now.Add(time.Minute)); len(active) != 1 || active[0].ID != fresh.ID {
		t.Fatalf("active after change = %+v, want only the fresh session", active)
	}
}
