package llm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/airlockhq/airlock/internal/backoff"
)

// Body size caps.
const (
	maxResponseBody = 8 << 20
	maxErrorBody    = 64 << 10
)

// attemptError is the outcome of one failed attempt.
type attemptError struct {
	err        error
	retry      bool
	retryAfter time.Duration
	hasAfter   bool
}

// post sends body to the provider, retrying transient failures, and
// returns the body of the first 2xx answer.
func (c *Client) post(ctx context.Context, body []byte, header http.Header) ([]byte, error) {
	var data []byte
	err := c.send(ctx, body, header, func(resp *http.Response) *attemptError {
		var err error
		data, err = readCapped(resp.Body, maxResponseBody)
		if err != nil {
			return c.readError(err)
		}
		return nil
	})
	return data, err
}

// send passes body through the redactor and sends it to the provider until
// an attempt gets a 2xx answer that read accepts, retrying transient
// failures with backoff. read consumes the body of a 2xx answer; its
// attemptError says whether the failure may be retried.
func (c *Client) send(ctx context.Context, body []byte, header http.Header, read func(*http.Response) *attemptError) error {
	body = c.redactor.Load().Bytes(body)
	for attempt := 0; ; attempt++ {
		ae := c.attempt(ctx, body, header, read)
		if ae == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("llm: %s call: %w", c.cfg.Provider, context.Cause(ctx))
		}
		if !ae.retry || attempt >= c.cfg.MaxRetries {
			if attempt > 0 {
				return fmt.Errorf("%w (after %d attempts)", ae.err, attempt+1)
			}
			return ae.err
		}
		d := c.backoff(attempt, ae)
		c.logger.WarnContext(ctx, "llm call failed, retrying", "provider", c.cfg.Provider,
			"attempt", attempt+1, "delay", d, "error", c.scrub(ae.err.Error()))
		if err := c.sleep(ctx, d); err != nil {
			return fmt.Errorf("llm: %s call: waiting to retry: %w (last error: %s)", c.cfg.Provider, err, ae.err)
		}
	}
}

// attempt makes one HTTP call under the per-attempt timeout, which bounds
// read too.
func (c *Client) attempt(ctx context.Context, body []byte, header http.Header, read func(*http.Response) *attemptError) *attemptError {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return &attemptError{err: fmt.Errorf("llm: %s: build request: %w", c.cfg.Provider, err)}
	}
	req.Header = header.Clone()
	resp, err := c.hc.Do(req)
	if err != nil {
		return &attemptError{err: fmt.Errorf("llm: %s request: %w", c.cfg.Provider, err), retry: true}
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		data, _ := readCapped(resp.Body, maxErrorBody)
		ae := &attemptError{err: c.apiError(resp.StatusCode, data), retry: retryableStatus(resp.StatusCode)}
		ae.retryAfter, ae.hasAfter = parseRetryAfter(resp.Header.Get("Retry-After"), c.now())
		return ae
	}
	return read(resp)
}

// readError describes a failure to read a 2xx answer: retried, unless the
// answer was too large.
func (c *Client) readError(err error) *attemptError {
	return &attemptError{err: fmt.Errorf("llm: %s: read response: %w", c.cfg.Provider, err),
		retry: !errors.Is(err, errTooLarge)}
}

var errTooLarge = errors.New("body too large")

// readCapped reads r up to limit bytes and fails if there is more.
func readCapped(r io.Reader, limit int64) ([]byte, error) {
	return io.ReadAll(&cappedReader{r: r, limit: limit})
}

// cappedReader reads r and fails with errTooLarge once more than limit
// bytes arrive; the bytes past the limit are not returned.
type cappedReader struct {
	r     io.Reader
	limit int64
	n     int64 // bytes returned so far
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.n >= c.limit {
		// One byte more tells a body of exactly limit bytes from a larger one.
		var one [1]byte
		k, err := c.r.Read(one[:])
		if k > 0 {
			return 0, fmt.Errorf("more than %d bytes: %w", c.limit, errTooLarge)
		}
		return 0, err
	}
	if rest := c.limit - c.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	k, err := c.r.Read(p)
	c.n += int64(k)
	return k, err
}

// retryableStatus reports whether an HTTP status is worth retrying.
func retryableStatus(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooManyRequests,
		http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout, 529:
		return true
	}
	return false
}

// backoff returns the wait before retry number attempt+1: Retry-After when
// the provider sent one, else full jitter over an exponential ceiling; both
// capped at RetryMaxDelay.
func (c *Client) backoff(attempt int, ae *attemptError) time.Duration {
	if ae.hasAfter {
		return min(ae.retryAfter, c.cfg.RetryMaxDelay)
	}
	return c.jitter(backoff.Ceiling(attempt, c.cfg.RetryBaseDelay, c.cfg.RetryMaxDelay))
}

// parseRetryAfter parses a Retry-After value: delta-seconds or HTTP-date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(min(secs, 1<<20)) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}
