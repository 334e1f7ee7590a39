package auth

import (
	"fmt"
	"testing"
	"time"
)

func TestLimiterLocksAndDoubles(t *testing.T) {
	rule := limitRule{Max: 3, Window: 10 * time.Minute, Lock: 15 * time.Minute, MaxLock: time.Hour, Forget: 24 * time.Hour}
	l := newLimiter(rule)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var locks []time.Duration
	for round := range 4 {
		for i := range 3 {
			wait, armed := l.attempt("k", now)
			if wait != 0 {
				t.Fatalf("round %d attempt %d refused (%v) before the limit", round, i, wait)
			}
			if (armed > 0) != (i == 2) {
				t.Fatalf("round %d attempt %d armed = %v", round, i, armed)
			}
			if armed > 0 {
				locks = append(locks, armed)
			}
		}
		wait, _ := l.attempt("k", now.Add(time.Second))
		if wait <= 0 {
			t.Fatalf("round %d: attempt past the limit was allowed", round)
		}
		if wait2, _ := l.attempt("other", now); wait2 != 0 {
			t.Fatal("another key was locked too")
		}
		l.reset("other")
		now = now.Add(locks[round])
	}
	want := []time.Duration{15 * time.Minute, 30 * time.Minute, time.Hour, time.Hour}
	if fmt.Sprint(locks) != fmt.Sprint(want) {
		t.Fatalf("lock lengths = %v, want %v", locks, want)
	}
	// Strikes are forgotten after a quiet day.
	now = now.Add(25 * time.Hour)
	for range 3 {
		_, armed := l.attempt("k", now)
		if armed > 0 && armed != 15*time.Minute {
			t.Fatalf("lock after a quiet day = %v, want 15m", armed)
		}
	}
	// Attempts spread wider than the window never lock.
	l.reset("k")
	for i := range 10 {
		if wait, armed := l.attempt("k", now.Add(time.Duration(i)*6*time.Minute)); wait != 0 || armed != 0 {
			t.Fatalf("spread-out attempt %d: wait %v armed %v", i, wait, armed)
		}
	}
}

func TestLimiterFull(t *testing.T) {
	rule := limitRule{Max: 1, Window: time.Minute, Lock: time.Minute, MaxLock: time.Minute, Forget: time.Minute}
	l := newLimiter(rule)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range maxLimitEntries {
		l.attempt(fmt.Sprint(i), now) // each locks at once
	}
	if wait, _ := l.attempt("new", now); wait <= 0 {
		t.Fatal("a full limiter of locked keys accepted a new key")
	}
	if len(l.entries) > maxLimitEntries {
		t.Fatalf("limiter grew to %d entries", len(l.entries))
	}
	later := now.Add(3 * time.Minute)
	if wait, _ := l.attempt("new", later); wait != 0 {
		t.Fatal("idle entries were not dropped")
	}
	if len(l.entries) != 1 {
		t.Fatalf("%d entries after dropping idle ones, want 1", len(l.entries))
	}
}

func TestIPKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"192.0.2.1", "192.0.2.1"},
		{"192.0.2.1:5555", "192.0.2.1"},
		{"::ffff:192.0.2.1", "192.0.2.1"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2::9]:443", "2001:db8:1:2::/64"},
		{"2001:db8:1:2::7", "2001:db8:1:2::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"not an ip", "?not an ip"},
	}
	for _, tc := range tests {
		if got := ipKey(tc.in); got != tc.want {
			t.Errorf("ipKey(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
