package auth

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSetupConcurrentExactlyOneAdmin(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if need, err := e.svc.SetupNeeded(ctx); err != nil || !need {
		t.Fatalf("SetupNeeded on a fresh store = %v, %v", need, err)
	}
	code, err := e.svc.StartSetup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[A-Z2-7]{5}(-[A-Z2-7]{5}){3}$`).MatchString(code) {
		t.Fatalf("setup code %q is not 4 groups of 5 base32 characters", code)
	}
	const racers = 20
	var wg sync.WaitGroup
	admins := make([]Admin, racers)
	errs := make([]error, racers)
	for i := range racers {
		wg.Go(func() {
			// Distinct clients, so every racer passes the per-client limit
			// and reaches the transaction.
			admins[i], errs[i] = e.svc.CompleteSetup(ctx, strings.ToLower(code), fmt.Sprintf("admin%d", i),
				goodPassword, fmt.Sprintf("198.51.100.%d", i))
		})
	}
	wg.Wait()
	winners := 0
	for i, err := range errs {
		switch {
		case err == nil:
			winners++
			if admins[i].ID == "" || admins[i].Username != fmt.Sprintf("admin%d", i) {
				t.Errorf("winner's admin = %+v", admins[i])
			}
		case !errors.Is(err, ErrSetupDone):
			t.Errorf("racer %d: %v, want ErrSetupDone", i, err)
		}
	}
	if n, err := e.st.CountAdmins(ctx); winners != 1 || n != 1 || err != nil {
		t.Fatalf("%d racers won, %d admins (%v); want exactly 1", winners, n, err)
	}
	if got := e.countAudit(t, ActionSetup, "ok"); got != 1 {
		t.Fatalf("%d auth.setup ok entries, want 1", got)
	}
	// Setup is gone for good.
	if need, err := e.svc.SetupNeeded(ctx); err != nil || need {
		t.Fatalf("SetupNeeded after setup = %v, %v", need, err)
	}
	if _, err := e.svc.StartSetup(ctx); !errors.Is(err, ErrSetupDone) {
		t.Fatalf("StartSetup after setup = %v, want ErrSetupDone", err)
	}
	if _, err := e.svc.CompleteSetup(ctx, code, "mallory", goodPassword, "203.0.113.9"); !errors.Is(err, ErrSetupDone) {
		t.Fatalf("CompleteSetup after setup = %v, want ErrSetupDone", err)
	}
}

func TestSetupWrongCodeRateLimited(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	code, err := e.svc.StartSetup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const ip = "203.0.113.7"
	// Policy errors are not attempts.
	for range 10 {
		if _, err := e.svc.CompleteSetup(ctx, "WRONG", adminName, "short", ip); !errors.Is(err, ErrWeakPassword) {
			t.Fatalf("weak password = %v, want ErrWeakPassword", err)
		}
	}
	for i := range 5 {
		if _, err := e.svc.CompleteSetup(ctx, "AAAAA-BBBBB-CCCCC-DDDDD", adminName, goodPassword, ip); !errors.Is(err, ErrSetupCode) {
			t.Fatalf("wrong code %d = %v, want ErrSetupCode", i, err)
		}
	}
	_, err = e.svc.CompleteSetup(ctx, code, adminName, goodPassword, ip)
	var le *LimitError
	if !errors.Is(err, ErrRateLimited) || !errors.As(err, &le) || le.RetryAfter <= 0 || le.RetryAfter > 5*time.Minute {
		t.Fatalf("right code after 5 wrong ones = %v, want ErrRateLimited with a retry-after", err)
	}
	if n, _ := e.st.CountAdmins(ctx); n != 0 {
		t.Fatal("a rate-limited setup created an admin")
	}
	e.flush(t) // also waits out the 5-minute lock
	if e.failureCount(t, ActionSetup, reasonBadCode) != 5 ||
		e.failureCount(t, ActionSetup, reasonRateLimited) != 1 ||
		e.failureCount(t, ActionLockout, "setup_ip") != 1 {
		t.Fatalf("audit entries missing: %+v", e.auditRows(t))
	}
	// The limited client may try again after the wait.
	if _, err := e.svc.CompleteSetup(ctx, code, adminName, goodPassword, ip); err != nil {
		t.Fatalf("right code after the wait = %v", err)
	}
}

// TestSetupNotBlockedByOthers (issue 11, item 8): wrong codes from several
// clients lock those clients only; the owner's right code from a fresh
// client works at once. There is no global limit: the code has 100 bits.
func TestSetupNotBlockedByOthers(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	code, err := e.svc.StartSetup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	limited := 0
	for i := range 24 {
		ip := fmt.Sprintf("198.51.100.%d", i%4)
		_, err := e.svc.CompleteSetup(ctx, "AAAAA-BBBBB-CCCCC-DDDDD", adminName, goodPassword, ip)
		switch {
		case errors.Is(err, ErrRateLimited):
			limited++
		case !errors.Is(err, ErrSetupCode):
			t.Fatalf("wrong code %d from %s = %v", i, ip, err)
		}
	}
	if limited != 4 {
		t.Fatalf("%d of 24 wrong codes from 4 clients were rate limited; want the 6th of each client", limited)
	}
	// Per-client limits hold: a locked client is refused even the right code.
	if _, err := e.svc.CompleteSetup(ctx, code, adminName, goodPassword, "198.51.100.0"); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("the right code from a locked client = %v, want ErrRateLimited", err)
	}
	if _, err := e.svc.CompleteSetup(ctx, code, adminName, goodPassword, "192.0.2.200"); err != nil {
		t.Fatalf("the right code from a fresh client = %v, want success", err)
	}
}

func TestSetupCodeExpiresAndIsReplaced(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	first, err := e.svc.StartSetup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.svc.StartSetup(ctx)
	if err != nil || second == first {
		t.Fatalf("second StartSetup = %q, %v; want a new code", second, err)
	}
	if _, err := e.svc.CompleteSetup(ctx, first, adminName, goodPassword, "192.0.2.1"); !errors.Is(err, ErrSetupCode) {
		t.Fatalf("replaced code = %v, want ErrSetupCode", err)
	}
	e.clock.Advance(SetupCodeTTL)
	if _, err := e.svc.CompleteSetup(ctx, second, adminName, goodPassword, "192.0.2.2"); !errors.Is(err, ErrSetupCode) {
		t.Fatalf("expired code = %v, want ErrSetupCode", err)
	}
	third, _ := e.svc.StartSetup(ctx)
	if _, err := e.svc.CompleteSetup(ctx, " "+strings.ReplaceAll(third, "-", " ")+" ", "Alice", goodPassword,
		"192.0.2.3"); err != nil {
		t.Fatalf("fresh code, typed with spaces = %v", err)
	}
	if _, err := e.svc.CompleteSetup(ctx, third, "bob", goodPassword, "192.0.2.3"); !errors.Is(err, ErrSetupDone) {
		t.Fatalf("reused code = %v, want ErrSetupDone", err)
	}
	if _, _, err := e.svc.Login(ctx, "ALICE", goodPassword, "192.0.2.3", "ua", TypeSession); err != nil {
		t.Fatalf("login of the set-up admin, username in another case = %v", err)
	}
}
