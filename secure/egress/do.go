package egress

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Response is a fully read HTTP response.
type Response struct {
	// URL is the final URL, after redirects.
	URL    *url.URL
	Status int
	Header http.Header
	Body   []byte
	// Truncated reports that Body was cut at Policy.MaxBodyBytes.
	Truncated bool
}

// Get fetches rawURL with a GET request.
func (c *Client) Get(ctx context.Context, rawURL string) (*Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, refusef("the URL cannot be parsed")
	}
	if err := checkURL(u); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("egress: build request for %s: %w", u.Hostname(), err)
	}
	return c.Do(req)
}

// Do sends req under the policy and reads the whole body (capped). The
// request's context bounds it further; its Body, if any, is closed.
func (c *Client) Do(req *http.Request) (*Response, error) {
	return c.do(req, c.hc)
}

// FollowFunc decides whether a redirect may be followed: next is the
// request about to be sent, via the ones already sent, the first one first.
type FollowFunc func(next *http.Request, via []*http.Request) bool

// DoFollowing is Do for a caller with its own rule on where a request may
// go (a script's granted hosts): a redirect is followed only when the
// guard's checks pass and follow returns true. A redirect follow refuses
// is not sent anywhere; Do returns that 3xx response itself, with its
// Location header, as the final response.
func (c *Client) DoFollowing(req *http.Request, follow FollowFunc) (*Response, error) {
	hc := *c.hc // shares the transport and its connection pool
	hc.CheckRedirect = func(next *http.Request, via []*http.Request) error {
		if err := c.checkRedirect(next, via); err != nil {
			return err
		}
		if !follow(next, via) {
			return http.ErrUseLastResponse
		}
		return nil
	}
	return c.do(req, &hc)
}

func (c *Client) do(req *http.Request, hc *http.Client) (*Response, error) {
	if req.URL == nil {
		return nil, refusef("the request has no URL")
	}
	if err := checkURL(req.URL); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	parent := req.Context()
	ctx, cancel := context.WithTimeoutCause(parent, c.policy.Timeout, ErrTimeout)
	defer cancel()
	req = req.WithContext(ctx)
	if req.Header.Get("User-Agent") == "" {
		req.Header = req.Header.Clone()
		if req.Header == nil {
			req.Header = make(http.Header)
		}
		req.Header.Set("User-Agent", c.policy.UserAgent)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, c.cleanError(ctx, parent, req.URL.Hostname(), err)
	}
	defer resp.Body.Close()
	body, truncated, err := c.readBody(resp)
	if err != nil {
		return nil, c.cleanError(ctx, parent, resp.Request.URL.Hostname(), err)
	}
	return &Response{URL: resp.Request.URL, Status: resp.StatusCode, Header: resp.Header,
		Body: body, Truncated: truncated}, nil
}

// readBody reads at most MaxBodyBytes, then truncates or fails.
func (c *Client) readBody(resp *http.Response) ([]byte, bool, error) {
	limit := c.policy.MaxBodyBytes
	if resp.ContentLength > limit && !c.policy.Truncate {
		return nil, false, tooLarge(limit)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, false, err
	}
	if int64(len(body)) <= limit {
		return body, false, nil
	}
	if !c.policy.Truncate {
		return nil, false, tooLarge(limit)
	}
	return body[:limit], true, nil
}

// checkRedirect re-checks every hop's URL and counts hops. Addresses are
// re-checked when the hop is dialed. The Referer Go adds is dropped.
func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > c.policy.MaxRedirects {
		return refusef("too many redirects (more than %d)", c.policy.MaxRedirects)
	}
	req.Header.Del("Referer")
	return checkURL(req.URL)
}

// checkURL refuses anything but an http or https URL with a host and no
// credentials.
func checkURL(u *url.URL) error {
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return refusef("scheme %q is not allowed (http and https only)", u.Scheme)
	}
	if u.User != nil {
		return refusef("credentials in the URL (user:password@) are not allowed")
	}
	if u.Hostname() == "" {
		return refusef("the URL has no host")
	}
	return nil
}
