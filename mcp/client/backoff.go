package client

import (
	"time"

	"github.com/airlockhq/airlock/internal/backoff"
)

// retryWait returns the wait before retry number attempt (0-based):
// MinBackoff doubled per attempt, capped at MaxBackoff, with equal jitter
// (a random wait in [d/2, d]) so restarting workers do not retry in
// lockstep.
func (c *Client) retryWait(attempt int) time.Duration {
	return backoff.EqualJitter(backoff.Ceiling(attempt, c.opts.MinBackoff, c.opts.MaxBackoff))
}
