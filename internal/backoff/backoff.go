// Package backoff is the one place for waiting between retries: an
// exponential ceiling, two kinds of jitter, a doubling wait that resets,
// and a sleep that ends with its context. The worker's MCP client and agent
// loop and the orchestrator's LLM client use it; it imports only the
// standard library, so the worker may link it.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Ceiling returns base doubled attempt times (attempt 0 is base), capped at
// max.
func Ceiling(attempt int, base, max time.Duration) time.Duration {
	d := base
	for i := 0; i < attempt && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

// EqualJitter returns a random wait in [d/2, d], so that clients restarted
// together do not retry in lockstep yet each waits at least half of d.
func EqualJitter(d time.Duration) time.Duration {
	half := d / 2
	return half + rand.N(half+1)
}

// FullJitter returns a random wait in [0, d]; 0 when d is not positive.
func FullJitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d + 1)
}

// Doubling is a wait without jitter that starts at Min, doubles at each
// Next up to Max, and starts again after Reset. A Doubling is used by one
// goroutine.
type Doubling struct {
	Min, Max time.Duration
	n        int // waits handed out since the last Reset
}

// Next returns the next wait.
func (b *Doubling) Next() time.Duration {
	d := Ceiling(b.n, b.Min, b.Max)
	if d < b.Max {
		b.n++
	}
	return d
}

// Reset makes the next wait Min again.
func (b *Doubling) Reset() { b.n = 0 }

// Sleep waits for d or until ctx ends, and then returns ctx's error. With
// d not positive it returns ctx.Err() at once.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
