package client

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"syscall"
	"time"
)

// idleConnTimeout is kept well below the server's idle timeout (2 min), so
// the client drops an idle connection before the server closes it under a
// request.
const idleConnTimeout = 30 * time.Second

// httpLink is the HTTP client every session shares: it dials the Unix socket
// and marks each failure as happening before or after the request was
// written.
type httpLink struct {
	base   *http.Transport
	client *http.Client
}

func newHTTPLink(socketPath string) *httpLink {
	var d net.Dialer
	base := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, "unix", socketPath)
		},
		MaxIdleConns:        8,
		MaxIdleConnsPerHost: 8,
		IdleConnTimeout:     idleConnTimeout,
		DisableCompression:  true,
	}
	return &httpLink{base: base, client: &http.Client{Transport: &markingTransport{base: base}}}
}

func (l *httpLink) closeIdle() { l.base.CloseIdleConnections() }

// unsentError is a request failure that happened before any byte of the
// request was written: the server cannot have seen it.
type unsentError struct{ err error }

func (e *unsentError) Error() string { return "request not sent: " + e.err.Error() }
func (e *unsentError) Unwrap() error { return e.err }

// lostError is a connection failure after the request may have been
// written: the server may have run it.
type lostError struct{ err error }

func (e *lostError) Error() string { return "connection lost: " + e.err.Error() }
func (e *lostError) Unwrap() error { return e.err }

// markingTransport wraps the Unix transport. It classifies transport errors
// as sent or not with httptrace hooks, turns a 403 into ErrRefused, and
// marks response body read failures as lost.
//
// "Not sent" means the final attempt never finished buffering its headers:
// WroteHeaders fires before any byte of the request can reach the socket
// (headers are small and buffered). GetConn starts every attempt, and
// net/http makes another attempt for a POST only when the previous one
// wrote nothing to its connection (a stale pooled connection), so the flag
// is reset there.
type markingTransport struct{ base http.RoundTripper }

func (t *markingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{
		GetConn:      func(string) { wrote.Store(false) },
		WroteHeaders: func() { wrote.Store(true) },
	}
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		if wrote.Load() {
			return nil, &lostError{err}
		}
		return nil, &unsentError{err}
	}
	if resp.StatusCode == http.StatusForbidden {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		resp.Body.Close()
		return nil, ErrRefused
	}
	resp.Body = &markingBody{resp.Body}
	return resp, nil
}

// markingBody marks read failures other than a clean EOF as lost.
type markingBody struct{ io.ReadCloser }

func (b *markingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		err = &lostError{err}
	}
	return n, err
}

// isUnsent reports whether err is a failure before the request was written.
func isUnsent(err error) bool {
	var u *unsentError
	return errors.As(err, &u)
}

// isLost reports whether err is a connection failure after the request may
// have been written. Besides errors the transport marked, it recognizes
// broken-connection errors surfacing through mcp-go's response parsing.
func isLost(err error) bool {
	var l *lostError
	return errors.As(err, &l) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE)
}

// isConnectionError reports whether err is a connection-level failure, sent
// or not: worth retrying for an idempotent request.
func isConnectionError(err error) bool {
	return isUnsent(err) || isLost(err)
}
