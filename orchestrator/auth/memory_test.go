package auth

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// procStatusKiB returns field (VmRSS, VmHWM) of /proc/self/status in bytes.
func procStatusKiB(t *testing.T, field string) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status on this system: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, rest, ok := bytes.Cut(sc.Bytes(), []byte(":"))
		if !ok || string(name) != field {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) == 2 && string(f[1]) == "kB" {
			n, err := strconv.ParseInt(string(f[0]), 10, 64)
			if err == nil {
				return n << 10
			}
		}
	}
	t.Fatalf("no %s in /proc/self/status", field)
	return 0
}

// TestHashingMemoryReturned verifies 20 passwords at once with the
// production parameters (64 MiB each) and checks, from the kernel's own
// figures for this process, that the resident set peaked at the memory of
// maxHashers hashes (not one per queued login, as the garbage of finished
// hashes is reclaimed before the next starts), and that it is back near
// where it started within 5 s of the last one (it used to stay up for
// minutes). Memory bounds, not timings: the 5 s is how long it may poll.
func TestHashingMemoryReturned(t *testing.T) {
	if raceEnabled {
		t.Skip("RSS bounds do not hold under the race detector: its shadow memory is not returned to the OS")
	}
	e := newEnv(t)
	e.svc.hasher = Argon2id{Params: DefaultParams()}
	encoded, err := HashPassword(goodPassword, DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	const block = 64 << 20
	debug.FreeOSMemory()
	before := procStatusKiB(t, "VmRSS")
	// Writing 5 to clear_refs resets the peak (VmHWM) to the current RSS.
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Skipf("cannot reset the peak RSS (/proc/self/clear_refs): %v", err)
	}
	const logins = 20
	var wg sync.WaitGroup
	errs := make(chan error, logins)
	for range logins {
		wg.Go(func() {
			ok, err := e.svc.verify(context.Background(), goodPassword, encoded, false)
			if err == nil && !ok {
				t.Error("the right password did not verify")
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("verify: %v", err)
		}
	}
	done := time.Now()
	peak := procStatusKiB(t, "VmHWM") - before
	t.Logf("RSS before %.1f MB; peak during %d concurrent verifications +%.1f MB", mb(before), logins, mb(peak))
	if limit := int64(maxHashers+1) * block; peak >= limit {
		t.Errorf("peak RSS grew by %.1f MB during %d concurrent verifications, want under %.1f MB (%d hashes of 64 MiB at most, plus slack)",
			mb(peak), logins, mb(limit), maxHashers)
	}
	const slack = 16 << 20
	var after int64
	for {
		after = procStatusKiB(t, "VmRSS")
		if after-before < slack || time.Since(done) > 5*time.Second {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("RSS %.1f MB after %v", mb(after), time.Since(done).Round(time.Millisecond))
	if after-before >= slack {
		t.Errorf("RSS still %.1f MB above its start 5 s after the last verification, want under %.1f MB", mb(after-before), mb(slack))
	}
}

func mb(n int64) float64 { return float64(n) / 1e6 }

// gateHasher is a hasher whose Verify waits for the gate to open once
// gated is set; it counts the verifications waiting.
type gateHasher struct {
	inner   Argon2id
	gated   atomic.Bool
	gate    chan struct{}
	waiting atomic.Int64
}

func (h *gateHasher) Hash(pw string) (string, error) { return h.inner.Hash(pw) }

func (h *gateHasher) Verify(pw, encoded string) (bool, error) {
	if h.gated.Load() {
		h.waiting.Add(1)
		<-h.gate
	}
	return h.inner.Verify(pw, encoded)
}

// TestLoginFloodIsRefusedNotQueued: with maxHashers logins hashing and
// maxLoginsQueued more waiting, another login from an unknown device is
// refused at once with ErrBusy (a LimitError, 429 for the admin UI), and
// audited as such; the admin's known device still queues and signs in.
func TestLoginFloodIsRefusedNotQueued(t *testing.T) {
	e := newEnv(t)
	e.withAdmin(t)
	first, err := e.signIn(goodPassword, "192.0.2.1", "")
	if err != nil || first.Device == "" {
		t.Fatalf("first sign-in: %+v %v", first, err)
	}
	h := &gateHasher{inner: Argon2id{Params: cheapParams}, gate: make(chan struct{})}
	e.svc.hasher = h
	h.gated.Store(true)

	ctx := context.Background()
	const flood = maxHashers + maxLoginsQueued
	var wg sync.WaitGroup
	for i := range flood {
		wg.Go(func() {
			_, err := e.svc.SignIn(ctx, LoginRequest{Username: fmt.Sprintf("nobody%d", i), Password: "x",
				IP: fmt.Sprintf("203.0.113.%d", i), Type: TypeSession})
			if !errors.Is(err, ErrInvalidCredentials) {
				t.Errorf("flooding login %d: %v, want it checked and refused as invalid", i, err)
			}
		})
	}
	// Wait until all of them hold or wait for a slot.
	deadline := time.Now().Add(10 * time.Second)
	for {
		e.svc.hashMu.Lock()
		n := e.svc.hashing
		e.svc.hashMu.Unlock()
		if n == flood {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d logins reached the hashing queue", n, flood)
		}
		time.Sleep(time.Millisecond)
	}

	_, err = e.svc.SignIn(ctx, LoginRequest{Username: "nobody-else", Password: "x", IP: "203.0.113.200", Type: TypeSession})
	var le *LimitError
	if !errors.Is(err, ErrBusy) || !errors.As(err, &le) || le.RetryAfter <= 0 {
		t.Fatalf("login beyond the queue: %v, want a LimitError matching ErrBusy", err)
	}
	if got := h.waiting.Load(); got != maxHashers {
		t.Errorf("%d verifications running, want %d", got, maxHashers)
	}

	known := make(chan error, 1)
	go func() {
		_, err := e.signIn(goodPassword, "192.0.2.1", first.Device)
		known <- err
	}()
	select {
	case err := <-known:
		t.Fatalf("known-device login returned before the queue moved: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(h.gate)
	if err := <-known; err != nil {
		t.Errorf("known-device login during the flood: %v", err)
	}
	wg.Wait()
	if got := e.failureCount(t, ActionLogin, reasonBusy); got != 1 {
		t.Errorf("%d busy refusals audited, want 1", got)
	}
}
