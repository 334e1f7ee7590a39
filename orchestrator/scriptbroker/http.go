package scriptbroker

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/secrets"
	"github.com/airlockhq/airlock/secure/egress"
)

// maxBodyBytes caps a script's request body.
const maxBodyBytes = 1 << 20

var methods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}

// Headers a script may not set: they belong to the transport.
var reservedHeaders = []string{"Host", "Content-Length", "Transfer-Encoding", "Connection", "Te", "Upgrade", "Trailer"}

// HTTP makes one HTTP request for a running script. It re-checks that
// the version is still approved (a revoke stops a run at its next call),
// that the host is granted, and that every secret placeholder names a
// granted secret; then it substitutes the values, sends the request
// through the egress guard and returns the response, which the caller
// redacts. Values never leave except towards a granted host: a redirect is
// followed only when redirectAllowed says so.
func (b *Broker) HTTP(ctx context.Context, task tools.Task, a tools.ScriptHTTPArgs) (tools.ScriptHTTPResult, error) {
	rn, err := b.runs.call(a.RunID, task.ID)
	if err != nil {
		return tools.ScriptHTTPResult{}, err
	}
	deny := func(reason string) error {
		b.audit(ctx, audit.Event{Actor: "script:" + rn.name, Action: "script.http", Target: audit.URLHost(a.URL), Outcome: "denied",
			Details: map[string]any{"task_id": task.ID, "sha256": rn.sha, "reason": reason}})
		return PublicError{reason}
	}
	ok, err := b.approval.IsApproved(ctx, rn.name, rn.sha)
	if err != nil {
		return tools.ScriptHTTPResult{}, err
	}
	if !ok {
		if task.ScriptTest != nil {
			return tools.ScriptHTTPResult{}, deny("HTTP is disabled when testing a version that is not approved")
		}
		return tools.ScriptHTTPResult{}, deny("script " + rn.name + " is no longer approved (revoked or superseded)")
	}
	req, err := b.request(ctx, rn, a)
	if err != nil {
		var pe PublicError
		if errors.As(err, &pe) {
			return tools.ScriptHTTPResult{}, deny(pe.Msg)
		}
		return tools.ScriptHTTPResult{}, err
	}
	// Every hop must stay within the grant: the guard re-checks only
	// addresses, and Go copies headers (and on 307/308 the body) to the next
	// hop, so an unvetted redirect would carry the substituted secrets away.
	hosts := []string{req.URL.Host}
	var notFollowed string
	resp, err := b.web.DoFollowing(req, func(next *http.Request, _ []*http.Request) bool {
		if !redirectAllowed(rn.grants.Hosts, req.URL, next.URL) {
			notFollowed = next.URL.Host
			return false
		}
		hosts = append(hosts, next.URL.Host)
		return true
	})
	if err != nil {
		outcome := audit.OutcomeError
		if errors.Is(err, egress.ErrRefused) {
			outcome = audit.OutcomeDenied
		}
		b.audit(ctx, audit.Event{Actor: "script:" + rn.name, Action: "script.http", Target: req.URL.Hostname(),
			Outcome: outcome, Details: map[string]any{"task_id": task.ID, "sha256": rn.sha, "hosts": hosts,
				"error": err.Error()}})
		if errors.Is(err, egress.ErrRefused) || errors.Is(err, egress.ErrTooLarge) || errors.Is(err, egress.ErrTimeout) {
			return tools.ScriptHTTPResult{}, PublicError{err.Error()}
		}
		return tools.ScriptHTTPResult{}, publicf("the request to %s failed", req.URL.Hostname())
	}
	details := map[string]any{"task_id": task.ID, "sha256": rn.sha, "method": req.Method, "status": resp.Status,
		"bytes": len(resp.Body), "hosts": hosts}
	if notFollowed != "" {
		details["redirect_not_followed"] = notFollowed
	}
	b.audit(ctx, audit.Event{Actor: "script:" + rn.name, Action: "script.http", Target: req.URL.Hostname(), Outcome: "ok",
		Details: details})
	out := tools.ScriptHTTPResult{Status: resp.Status, Headers: map[string]string{},
		Body: strings.ToValidUTF8(string(resp.Body), string(utf8.RuneError))}
	for k, v := range resp.Header {
		if k != "Set-Cookie" && len(v) > 0 {
			out.Headers[strings.ToLower(k)] = v[0]
		}
	}
	return out, nil
}

// request checks a script's request against its grants and builds
// it with the secret values substituted.
func (b *Broker) request(ctx context.Context, rn run, a tools.ScriptHTTPArgs) (*http.Request, error) {
	method := strings.ToUpper(a.Method)
	if !slices.Contains(methods, method) {
		return nil, publicf("HTTP method %q is not allowed", a.Method)
	}
	if len(a.Body) > maxBodyBytes {
		return nil, publicf("request body larger than %d bytes", maxBodyBytes)
	}
	u, err := url.Parse(a.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, publicf("only absolute http and https URLs are allowed")
	}
	if strings.Contains(u.Host, rn.placeholder) {
		return nil, publicf("a secret may not be part of the host name")
	}
	host := strings.ToLower(u.Hostname())
	if !hostGranted(rn.grants.Hosts, host) {
		return nil, publicf("host %s is not granted to script %s (granted: %s)", host, rn.name, strings.Join(rn.grants.Hosts, ", "))
	}
	sub := b.substituter(ctx, rn)
	rawURL, err := sub(a.URL)
	if err != nil {
		return nil, err
	}
	body, err := sub(a.Body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, strings.NewReader(body))
	if err != nil || !strings.EqualFold(req.URL.Hostname(), host) {
		return nil, publicf("invalid request URL")
	}
	for k, v := range a.Headers {
		if slices.ContainsFunc(reservedHeaders, func(h string) bool { return strings.EqualFold(h, k) }) {
			return nil, publicf("header %s may not be set by a script", k)
		}
		if v, err = sub(v); err != nil {
			return nil, err
		}
		req.Header.Set(k, v)
	}
	return req, nil
}

func hostGranted(granted []string, host string) bool {
	return slices.ContainsFunc(granted, func(h string) bool { return strings.EqualFold(h, host) })
}

// redirectAllowed reports whether a script's request, first sent to
// first, may follow a redirect to next. A grant names a host, and the
// script's URL a port, so a redirect stays where the script itself could
// have sent the request: a granted host, on the port of the script's URL
// or the standard port of the hop's scheme, and never from https down to
// http. Anything else is not followed: the script gets the 3xx and its
// Location, and no header, query or body carrying a secret goes there.
func redirectAllowed(granted []string, first, next *url.URL) bool {
	scheme := strings.ToLower(next.Scheme)
	if !hostGranted(granted, strings.ToLower(next.Hostname())) ||
		strings.EqualFold(first.Scheme, "https") && scheme != "https" {
		return false
	}
	port := next.Port()
	if port == "" {
		port = defaultPort(scheme)
	}
	firstPort := first.Port()
	if firstPort == "" {
		firstPort = defaultPort(strings.ToLower(first.Scheme))
	}
	return port == firstPort || port == defaultPort(scheme)
}

func defaultPort(scheme string) string {
	if scheme == "https" {
		return "443"
	}
	return "80"
}

// substituter replaces this run's placeholders with secret values, only
// for secrets granted to the approved version.
func (b *Broker) substituter(ctx context.Context, rn run) func(string) (string, error) {
	re := rn.secretRE
	return func(s string) (string, error) {
		var firstErr error
		out := re.ReplaceAllStringFunc(s, func(m string) string {
			name := re.FindStringSubmatch(m)[1]
			if !slices.Contains(rn.grants.Secrets, name) || secrets.IsSystem(name) {
				firstErr = cmpErr(firstErr, publicf("secret %s is not granted to script %s", name, rn.name))
				return m
			}
			v, err := b.secret(ctx, name)
			if err != nil {
				firstErr = cmpErr(firstErr, publicf("secret %s is not set", name))
				return m
			}
			return v
		})
		return out, firstErr
	}
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}
