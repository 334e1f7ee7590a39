package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/airlockhq/airlock/orchestrator/audit"
)

// floodStep is the time between two attempts of a flood: 10,000 attempts
// span 1000 seconds, four failure windows.
const floodStep = 100 * time.Millisecond

// windowsSpanned is how many failure windows the flood of n attempts
// touches, plus the one flushed at the end.
func windowsSpanned(n int) int {
	return int(time.Duration(n)*floodStep/failureWindow) + 2
}

// checkFlood checks what a flood of n failures of action left: at most
// perWindow audit rows (and as many log lines) per window, every failure
// counted, and a chain that verifies.
func (e *env) checkFlood(t *testing.T, action string, n, rowsBefore, linesBefore, perWindow int) {
	t.Helper()
	e.flush(t)
	rows := len(e.auditRows(t)) - rowsBefore
	lines := strings.Count(e.logs.String(), "\n") - linesBefore
	bound := windowsSpanned(n) * perWindow
	t.Logf("%d failures of %s: %d audit rows, %d log lines (bound %d)", n, action, rows, lines, bound)
	if rows > bound || lines > bound {
		t.Fatalf("%d failures wrote %d audit rows and %d log lines; want at most %d each", n, rows, lines, bound)
	}
	if got := e.failureCount(t, action, ""); got != n {
		t.Fatalf("the audit log counts %d failures of %s, want %d", got, action, n)
	}
	rep, err := audit.New(e.st, e.clock.Now, nil).Verify(context.Background())
	if err != nil || !rep.OK {
		t.Fatalf("chain after the flood: %+v, %v", rep, err)
	}
}

// TestFailedLoginFloodBounded (issue 11, item 4): 10,000 failed logins
// from one client, then from four, write a bounded number of audit rows
// and log lines (per 5-minute window: two per client and lock, at most
// maxFailureWindowRows), every failure is counted, the chain verifies, and
// the admin's next login is an entry of its own.
func TestFailedLoginFloodBounded(t *testing.T) {
	for _, clients := range []int{1, 4} {
		t.Run(fmt.Sprintf("%d clients", clients), func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			e.withAdmin(t)
			rowsBefore, linesBefore := len(e.auditRows(t)), strings.Count(e.logs.String(), "\n")
			const n = 10000
			for i := range n {
				ip := fmt.Sprintf("203.0.113.%d", i%clients)
				if _, _, err := e.svc.Login(ctx, adminName, "wrong password", ip, "bot", TypeSession); err == nil {
					t.Fatal("a wrong password signed in")
				}
				e.clock.Advance(floodStep)
			}
			// Per window: a first entry and a summary for each client, and
			// for the username and client locks armed.
			e.checkFlood(t, ActionLogin, n, rowsBefore, linesBefore, 2*(clients+clients+1))

			e.clock.Advance(4 * time.Hour) // the username lock ends
			_, s, err := e.svc.Login(ctx, adminName, goodPassword, "192.0.2.1", "me", TypeSession)
			if err != nil {
				t.Fatalf("the admin after the flood: %v", err)
			}
			rows := e.auditRows(t)
			last := rows[len(rows)-1]
			if last.Action != ActionLogin || last.Outcome != "ok" || !strings.Contains(last.Details, s.ID) {
				t.Fatalf("the admin's login is not the last entry: %+v", last)
			}
		})
	}
}

// TestFailedSetupFloodBounded (issue 11, item 4): the same for setup.
func TestFailedSetupFloodBounded(t *testing.T) {
	for _, clients := range []int{1, 4} {
		t.Run(fmt.Sprintf("%d clients", clients), func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			rowsBefore, linesBefore := len(e.auditRows(t)), strings.Count(e.logs.String(), "\n")
			const n = 10000
			for i := range n {
				ip := fmt.Sprintf("203.0.113.%d", i%clients)
				_, err := e.svc.CompleteSetup(ctx, "AAAAA-BBBBB-CCCCC-DDDDD", adminName, goodPassword, ip)
				if !errors.Is(err, ErrSetupCode) && !errors.Is(err, ErrRateLimited) {
					t.Fatalf("wrong code %d = %v", i, err)
				}
				e.clock.Advance(floodStep)
			}
			// Per window: a first entry and a summary for each client and
			// for each client's lock.
			e.checkFlood(t, ActionSetup, n, rowsBefore, linesBefore, 2*(clients+clients))
			code, err := e.svc.StartSetup(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.CompleteSetup(ctx, code, adminName, goodPassword, "192.0.2.9"); err != nil {
				t.Fatalf("setup after the flood: %v", err)
			}
			if e.countAudit(t, ActionSetup, "ok") != 1 {
				t.Fatal("the setup is not an entry of its own")
			}
		})
	}
}

// TestFailuresFromManyClientsBounded: failures from more clients than
// maxFailureKeys in a window share one overflow summary per action, so the
// window's rows stay under maxFailureWindowRows.
func TestFailuresFromManyClientsBounded(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.withAdmin(t)
	rowsBefore, linesBefore := len(e.auditRows(t)), strings.Count(e.logs.String(), "\n")
	const n = 1000
	for i := range n {
		ip := fmt.Sprintf("198.51.%d.%d", i/250, i%250)
		if _, _, err := e.svc.Login(ctx, fmt.Sprintf("user%d", i), "wrong password", ip, "bot", TypeSession); err == nil {
			t.Fatal("a wrong password signed in")
		}
	}
	e.flush(t)
	rows := len(e.auditRows(t)) - rowsBefore
	lines := strings.Count(e.logs.String(), "\n") - linesBefore
	if rows > maxFailureWindowRows || lines > maxFailureWindowRows {
		t.Fatalf("1000 clients in one window wrote %d rows and %d lines; want at most %d", rows, lines, maxFailureWindowRows)
	}
	if got := e.failureCount(t, ActionLogin, ""); got != n {
		t.Fatalf("the audit log counts %d failures, want %d", got, n)
	}
	if e.countAudit(t, ActionLogin, "denied", `"client_ip":"*"`, `"aggregated":true`) != 1 {
		t.Fatal("no overflow summary")
	}
}
