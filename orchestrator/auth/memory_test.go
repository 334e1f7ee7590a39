package auth

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"runtime/debug"
	"strconv"
	"sync"
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
			ok, err := e.svc.verify(context.Background(), goodPassword, encoded)
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
