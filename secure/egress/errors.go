package egress

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrRefused marks a request the policy refuses: scheme, credentials in
	// the URL, a refused address or port, too many redirects.
	ErrRefused = errors.New("egress: refused")
	// ErrTooLarge means the response body exceeded Policy.MaxBodyBytes and
	// the policy does not truncate.
	ErrTooLarge = errors.New("egress: response body too large")
	// ErrTimeout means the request, body included, took longer than
	// Policy.Timeout.
	ErrTimeout = errors.New("egress: timed out")
)

// refusal is a policy refusal; its message is safe to show to the model.
type refusal struct{ msg string }

func (r *refusal) Error() string        { return "egress: refused: " + r.msg }
func (r *refusal) Is(target error) bool { return target == ErrRefused }

func refusef(format string, args ...any) error {
	return &refusal{msg: fmt.Sprintf(format, args...)}
}

// limitError is a size or time limit hit; Is reports its sentinel.
type limitError struct {
	msg      string
	sentinel error
}

func (l *limitError) Error() string        { return l.msg }
func (l *limitError) Is(target error) bool { return target == l.sentinel }

func tooLarge(limit int64) error {
	return &limitError{fmt.Sprintf("egress: response body larger than %s", formatSize(limit)), ErrTooLarge}
}

func timedOut(d time.Duration) error {
	return &limitError{fmt.Sprintf("egress: timed out after %s", d), ErrTimeout}
}

// formatSize renders n bytes as "2 MiB", "512 KiB" or "1000 bytes".
func formatSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	default:
		return fmt.Sprintf("%d bytes", n)
	}
}

// cleanError turns an error from http.Client.Do or a body read into one that
// is safe and clear to show: a refusal or limit as is, a timeout as
// ErrTimeout, anything else prefixed with the host but never the full URL.
func (c *Client) cleanError(ctx, parent context.Context, host string, err error) error {
	var r *refusal
	if errors.As(err, &r) {
		return r
	}
	var l *limitError
	if errors.As(err, &l) {
		return l
	}
	if parent.Err() != nil {
		return fmt.Errorf("egress: request to %s: %w", host, parent.Err())
	}
	if errors.Is(context.Cause(ctx), ErrTimeout) || isTimeout(err) {
		return timedOut(c.policy.Timeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("egress: request to %s: %w", host, err)
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}
