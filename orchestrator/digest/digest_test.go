package digest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// fakeTime is a manual clock and timer: fire runs the scheduled function.
type fakeTime struct {
	mu      sync.Mutex
	now     time.Time
	pending func()
	wait    time.Duration
}

func (f *fakeTime) Now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }

func (f *fakeTime) advance(d time.Duration) { f.mu.Lock(); f.now = f.now.Add(d); f.mu.Unlock() }

func (f *fakeTime) after(d time.Duration, fn func()) func() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending, f.wait = fn, d
	return func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.pending = nil
		return true
	}
}

// fire advances the clock to the timer and runs it; false when none is set.
func (f *fakeTime) fire() bool {
	f.mu.Lock()
	fn, d := f.pending, f.wait
	f.pending = nil
	f.now = f.now.Add(d)
	f.mu.Unlock()
	if fn == nil {
		return false
	}
	fn()
	return true
}

type delivery struct {
	events []string
	held   bool
}

func newTestDigest(window time.Duration) (*Digest[string], *fakeTime, func() []delivery) {
	ft := &fakeTime{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	var mu sync.Mutex
	var got []delivery
	d := New(window, func(ev []string, held bool) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, delivery{slices.Clone(ev), held})
	})
	d.now, d.after = ft.Now, ft.after
	return d, ft, func() []delivery { mu.Lock(); defer mu.Unlock(); return slices.Clone(got) }
}

// TestBurstIsOneSummary (issue 11 item 12): 450 events in a burst reach the
// admin as two deliveries: the first at once, the rest as one summary when
// the window ends.
func TestBurstIsOneSummary(t *testing.T) {
	d, ft, got := newTestDigest(10 * time.Minute)
	for i := range 450 {
		d.Add(fmt.Sprint("s", i))
		ft.advance(time.Second)
	}
	if g := got(); len(g) != 1 || g[0].held || !slices.Equal(g[0].events, []string{"s0"}) {
		t.Fatalf("during the burst: %+v", g)
	}
	if ft.wait != 10*time.Minute-time.Second {
		t.Errorf("the summary is scheduled in %s, want at the end of the window (10m after the first, 1s before the second)", ft.wait)
	}
	if !ft.fire() {
		t.Fatal("no summary scheduled")
	}
	g := got()
	if len(g) != 2 || !g[1].held || len(g[1].events) != 449 || g[1].events[0] != "s1" || g[1].events[448] != "s449" {
		t.Fatalf("after the window: %d deliveries, last %+v", len(g), g[len(g)-1].held)
	}
	// The summary opened a new window: the next event is held again...
	d.Add("late")
	if n := len(got()); n != 2 {
		t.Fatalf("an event right after the summary was delivered at once (%d deliveries)", n)
	}
	ft.fire()
	if g := got(); len(g) != 3 || !slices.Equal(g[2].events, []string{"late"}) || !g[2].held {
		t.Fatalf("the late event: %+v", g)
	}
	// ...and after a quiet window the next one goes out at once.
	ft.advance(11 * time.Minute)
	d.Add("quiet")
	if g := got(); len(g) != 4 || g[3].held || g[3].events[0] != "quiet" {
		t.Fatalf("after a quiet window: %+v", g)
	}
}

func TestWindowChangeAndClose(t *testing.T) {
	d, ft, got := newTestDigest(10 * time.Minute)
	d.Add("a")
	d.SetWindow(time.Minute)
	ft.advance(2 * time.Minute)
	d.Add("b") // the new, shorter window has passed
	if n := len(got()); n != 2 {
		t.Fatalf("after shortening the window: %d deliveries", n)
	}
	d.Add("c")
	if n := d.Close(); n != 1 {
		t.Errorf("Close dropped %d held events, want 1", n)
	}
	if ft.fire() {
		t.Error("the timer survived Close")
	}
	d.Add("d")
	if n := len(got()); n != 2 {
		t.Errorf("deliveries after Close: %d", n)
	}

	// A zero window delivers everything at once.
	z, _, zgot := newTestDigest(0)
	for _, ev := range []string{"x", "y", "z"} {
		z.Add(ev)
	}
	if n := len(zgot()); n != 3 {
		t.Errorf("zero window: %d deliveries, want 3", n)
	}
}

// TestConcurrentAdds: many goroutines, every event delivered exactly once.
func TestConcurrentAdds(t *testing.T) {
	d := New(time.Millisecond, func([]int, bool) {})
	var mu sync.Mutex
	seen := map[int]int{}
	d.deliver = func(ev []int, _ bool) {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range ev {
			seen[e]++
		}
	}
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() { d.Add(i) })
	}
	wg.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		if n == 200 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	for i := range 200 {
		if seen[i] != 1 {
			t.Errorf("event %d delivered %d times", i, seen[i])
		}
	}
}
