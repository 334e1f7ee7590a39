// Package digest spaces out notifications to people: the first event after
// a quiet period is delivered at once, the events that follow within the
// window are held and delivered together, as one summary, when the window
// ends. A burst of hundreds of events thus reaches an admin as two
// messages, not hundreds.
//
// Invariants: at most one delivery starts per window; no event is
// dropped while the digest is open (held events are delivered when the
// window ends); deliver never runs under the digest's lock, so it may
// block or call back into the digest.
package digest

import (
	"sync"
	"time"
)

// Digest holds events of type T between deliveries. It is safe for
// concurrent use.
type Digest[T any] struct {
	deliver func(events []T, held bool)
	// now and after are the clock and the timer; tests replace them.
	now   func() time.Time
	after func(d time.Duration, f func()) (stop func() bool)

	mu        sync.Mutex
	window    time.Duration
	last      time.Time // start of the last delivery; zero: none yet
	held      []T
	scheduled bool
	stop      func() bool
	closed    bool
}

// New returns a Digest that delivers at most once per window. deliver gets
// either one event delivered at once (held false) or the events held
// during a window (held true), oldest first. A window of zero or less
// delivers every event at once.
func New[T any](window time.Duration, deliver func(events []T, held bool)) *Digest[T] {
	return &Digest[T]{deliver: deliver, window: window, now: time.Now,
		after: func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }}
}

// Add records an event: delivered now if the last delivery is a window
// old, held otherwise. After Close, Add does nothing.
func (d *Digest[T]) Add(ev T) {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	now := d.now()
	if !d.scheduled && (d.last.IsZero() || now.Sub(d.last) >= d.window) {
		d.last = now
		d.mu.Unlock()
		d.deliver([]T{ev}, false)
		return
	}
	d.held = append(d.held, ev)
	if !d.scheduled {
		d.scheduled = true
		d.stop = d.after(d.last.Add(d.window).Sub(now), d.flush)
	}
	d.mu.Unlock()
}

// flush delivers the held events at the end of a window.
func (d *Digest[T]) flush() {
	d.mu.Lock()
	events := d.held
	d.held, d.scheduled, d.stop = nil, false, nil
	if d.closed || len(events) == 0 {
		d.mu.Unlock()
		return
	}
	d.last = d.now()
	d.mu.Unlock()
	d.deliver(events, true)
}

// SetWindow changes the window from the next event on; events held now
// are still delivered when their window ends.
func (d *Digest[T]) SetWindow(w time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.window = w
}

// Close stops the timer and drops the events held; it returns how many
// there were, for the caller to log.
func (d *Digest[T]) Close() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	if d.stop != nil {
		d.stop()
	}
	n := len(d.held)
	d.held, d.scheduled, d.stop = nil, false, nil
	return n
}
