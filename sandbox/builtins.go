package sandbox

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// httpError is a failed or refused HTTP call; it makes the run's error
// kind "http".
type httpError struct{ msg string }

func (e *httpError) Error() string { return e.msg }

func httpErrorf(format string, args ...any) error {
	return &httpError{msg: fmt.Sprintf(format, args...)}
}

var httpMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

// secret returns the opaque placeholder of a granted secret. No secret
// value ever exists in the child.
func (r *run) secret(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &name); err != nil {
		return nil, err
	}
	if !slices.Contains(r.job.Secrets, name) {
		return nil, fmt.Errorf("secret %s is not granted to this script", name)
	}
	return starlark.String(r.job.Placeholder + name + "__"), nil
}

func (r *run) httpModule() *starlarkstruct.Module {
	return &starlarkstruct.Module{Name: "http", Members: starlark.StringDict{
		"get":     starlark.NewBuiltin("http.get", r.httpGet),
		"post":    starlark.NewBuiltin("http.post", r.httpPost),
		"request": starlark.NewBuiltin("http.request", r.httpRequest),
	}}
}

// httpGet is http.get(url, headers=None).
func (r *run) httpGet(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var u string
	var headers *starlark.Dict
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "url", &u, "headers?", &headers); err != nil {
		return nil, err
	}
	return r.do(b.Name(), "GET", u, headers, starlark.None, nil)
}

// httpPost is http.post(url, body=None, json=None, headers=None).
func (r *run) httpPost(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var u string
	var headers *starlark.Dict
	var body, js starlark.Value = starlark.None, nil
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "url", &u, "body?", &body, "json?", &js, "headers?", &headers); err != nil {
		return nil, err
	}
	return r.do(b.Name(), "POST", u, headers, body, js)
}

// httpRequest is http.request(method, url, headers=None, body=None).
func (r *run) httpRequest(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var method, u string
	var headers *starlark.Dict
	var body starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "method", &method, "url", &u, "headers?", &headers, "body?", &body); err != nil {
		return nil, err
	}
	method = strings.ToUpper(method)
	if !slices.Contains(httpMethods, method) {
		return nil, httpErrorf("%s: method %q is not one of %s", b.Name(), method, strings.Join(httpMethods, ", "))
	}
	return r.do(b.Name(), method, u, headers, body, nil)
}

// do checks one request, counts it and hands it to the parent.
func (r *run) do(fn, method, rawURL string, headers *starlark.Dict, body, js starlark.Value) (starlark.Value, error) {
	if err := checkURL(rawURL); err != nil {
		return nil, httpErrorf("%s: %v", fn, err)
	}
	req := HTTPRequest{Method: method, URL: rawURL}
	var err error
	if req.Headers, err = stringDict(headers); err != nil {
		return nil, httpErrorf("%s: headers: %v", fn, err)
	}
	if req.Body, err = r.body(body, js, &req); err != nil {
		return nil, httpErrorf("%s: %v", fn, err)
	}
	if r.httpCalls++; r.httpCalls > r.job.Limits.MaxHTTPCalls {
		return nil, httpErrorf("%s: the script may make at most %d HTTP calls", fn, r.job.Limits.MaxHTTPCalls)
	}
	resp, err := r.link.call(req)
	if err != nil {
		return nil, httpErrorf("%s %s: %v", fn, rawURL, err)
	}
	return response(resp), nil
}

// checkURL refuses everything but absolute http and https URLs. The
// orchestrator checks hosts and addresses again.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("invalid URL: %v", err)
	}
	if s := strings.ToLower(u.Scheme); s != "http" && s != "https" {
		return fmt.Errorf("only http and https URLs are allowed, not %q", u.Scheme+":")
	}
	if u.Host == "" {
		return fmt.Errorf("URL %q has no host", raw)
	}
	return nil
}

// body is the request body from body= (a string) or json= (any value,
// encoded, with a JSON content type unless the script set one).
func (r *run) body(body, js starlark.Value, req *HTTPRequest) (string, error) {
	var out string
	switch b := body.(type) {
	case starlark.NoneType:
	case starlark.String:
		out = string(b)
	case starlark.Bytes:
		out = string(b)
	default:
		return "", fmt.Errorf("body must be a string, not %s", body.Type())
	}
	if js != nil && js != starlark.None {
		if out != "" {
			return "", fmt.Errorf("give body or json, not both")
		}
		raw, err := toJSON(js, maxHTTPBodyBytes)
		if err != nil {
			return "", fmt.Errorf("json %v", err)
		}
		out = string(raw)
		if !hasHeader(req.Headers, "Content-Type") {
			req.Headers = setHeader(req.Headers, "Content-Type", "application/json")
		}
	}
	if len(out) > maxHTTPBodyBytes {
		return "", fmt.Errorf("the request body is larger than %s", byteSize(maxHTTPBodyBytes))
	}
	return out, nil
}

func hasHeader(h map[string]string, name string) bool {
	for k := range h {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

func setHeader(h map[string]string, k, v string) map[string]string {
	if h == nil {
		h = map[string]string{}
	}
	h[k] = v
	return h
}

// stringDict converts a dict of strings (None: an empty map).
func stringDict(d *starlark.Dict) (map[string]string, error) {
	out := map[string]string{}
	if d == nil {
		return out, nil
	}
	for _, kv := range d.Items() {
		k, ok1 := starlark.AsString(kv[0])
		v, ok2 := starlark.AsString(kv[1])
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("want a dict of strings, got %s: %s", kv[0].Type(), kv[1].Type())
		}
		out[k] = v
	}
	return out, nil
}

// response is what a script gets back: a struct of status, headers, body.
func response(resp HTTPResponse) starlark.Value {
	headers := starlark.NewDict(len(resp.Headers))
	keys := make([]string, 0, len(resp.Headers))
	for k := range resp.Headers {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		_ = headers.SetKey(starlark.String(k), starlark.String(resp.Headers[k]))
	}
	return starlarkstruct.FromStringDict(starlark.String("http.response"), starlark.StringDict{
		"status":  starlark.MakeInt(resp.Status),
		"headers": headers,
		"body":    starlark.String(resp.Body),
	})
}
