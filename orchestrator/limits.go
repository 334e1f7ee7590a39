package orchestrator

import "time"

// SetLimits changes the model calls and the wall-clock budget of the tasks
// started from now on (the settings page); running tasks keep theirs.
// Values that are not positive leave that limit as it is.
func (c *Core) SetLimits(maxRounds int, taskTimeout time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if maxRounds > 0 {
		c.cfg.MaxRounds = maxRounds
	}
	if taskTimeout > 0 {
		c.cfg.TaskTimeout = taskTimeout
	}
}

// limits returns the current model-call cap and task budget.
func (c *Core) limits() (maxRounds int, taskTimeout time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cfg.MaxRounds, c.cfg.TaskTimeout
}

// DefaultHistoryTokens is the history budget when none is configured.
const DefaultHistoryTokens = 8000

// SetHistoryTokens changes the estimated token budget of the history sent
// with the tasks started from now on (the settings page). A value that is
// not positive leaves it as it is.
func (c *Core) SetHistoryTokens(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n > 0 {
		c.cfg.HistoryTokens = n
	}
}

// historyLimits returns the history's message cap and token budget.
func (c *Core) historyLimits() (maxMessages, tokens int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cfg.HistoryLimit, c.cfg.HistoryTokens
}
