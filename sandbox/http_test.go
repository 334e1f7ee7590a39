package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"sync"
	"testing"
)

// recorder is a fake HTTPFunc that records what the script asked.
type recorder struct {
	mu   sync.Mutex
	reqs []HTTPRequest
	resp HTTPResponse
	err  error
}

func (rec *recorder) do(_ context.Context, r HTTPRequest) (HTTPResponse, error) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.reqs = append(rec.reqs, r)
	return rec.resp, rec.err
}

func (rec *recorder) calls() []HTTPRequest {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.reqs
}

func TestHTTPRefusedSchemes(t *testing.T) {
	r := newTestRunner(t, 1)
	tests := []struct{ name, call, want string }{
		{"file", `http.get("file:///etc/passwd")`, `http.get: only http and https URLs are allowed, not "file:"`},
		{"ftp", `http.post("ftp://example.com/x", body="x")`, `not "ftp:"`},
		{"request gopher", `http.request("GET", "gopher://example.com/")`, `not "gopher:"`},
		{"no host", `http.get("http:///path")`, "has no host"},
		{"bad method", `http.request("CONNECT", "https://example.com/")`, `method "CONNECT" is not one of`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{resp: HTTPResponse{Status: 200}}
			src := "def main():\n    return " + tt.call + "\n"
			wantError(t, r, Request{Name: "h", Source: src, Function: "main"}, rec.do, KindHTTP, "h.star:2:")
			wantError(t, r, Request{Name: "h", Source: src, Function: "main"}, rec.do, KindHTTP, tt.want)
			if n := len(rec.calls()); n != 0 {
				t.Errorf("the callback was called %d times", n)
			}
		})
	}
	checkAlive(t, r)
}

// TestHTTPRoundTrip: the callback receives exactly what the script asked,
// placeholders included, and its response comes back.
func TestHTTPRoundTrip(t *testing.T) {
	r := newTestRunner(t, 1)
	src := `def main():
    key = secret("API_KEY")
    a = http.get("https://api.example.com/v1?key=" + key, headers={"X-Token": key})
    b = http.post("http://api.example.com/post", json={"q": [1, "x"]})
    c = http.request("put", "https://api.example.com/put", headers={"Content-Type": "text/plain"}, body="raw " + key)
    d = http.post("https://api.example.com/form", body="a=1", headers={"Content-Type": "application/x-www-form-urlencoded"})
    return {"status": a.status, "headers": a.headers, "body": json.decode(a.body), "n": [b.status, c.status, d.status]}
`
	rec := &recorder{resp: HTTPResponse{Status: 201, Headers: map[string]string{"Content-Type": "application/json"}, Body: `{"ok": true}`}}
	res := mustRun(t, r, Request{Name: "h", Source: src, Function: "main", Secrets: []string{"API_KEY"}, Placeholder: "PH_"}, rec.do)
	want := `{"status":201,"headers":{"Content-Type":"application/json"},"body":{"ok":true},"n":[201,201,201]}`
	if string(res.Value) != want {
		t.Errorf("value = %s; want %s", res.Value, want)
	}
	wantReqs := []HTTPRequest{
		{Method: "GET", URL: "https://api.example.com/v1?key=PH_API_KEY__", Headers: map[string]string{"X-Token": "PH_API_KEY__"}},
		{Method: "POST", URL: "http://api.example.com/post", Headers: map[string]string{"Content-Type": "application/json"}, Body: `{"q":[1,"x"]}`},
		{Method: "PUT", URL: "https://api.example.com/put", Headers: map[string]string{"Content-Type": "text/plain"}, Body: "raw PH_API_KEY__"},
		{Method: "POST", URL: "https://api.example.com/form", Headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, Body: "a=1"},
	}
	got := rec.calls()
	if len(got) != len(wantReqs) {
		t.Fatalf("callback got %d requests; want %d", len(got), len(wantReqs))
	}
	for i, w := range wantReqs {
		g := got[i]
		if g.Method != w.Method || g.URL != w.URL || g.Body != w.Body || !maps.Equal(g.Headers, w.Headers) {
			t.Errorf("request %d = %+v; want %+v", i, g, w)
		}
	}
}

func TestHTTPFailures(t *testing.T) {
	r := newTestRunner(t, 1)
	loop := "def main():\n    for i in range(10):\n        http.get(\"https://example.com/\" + str(i))\n"
	rec := &recorder{resp: HTTPResponse{Status: 200}}
	wantError(t, r, Request{Name: "h", Source: loop, Function: "main", Limits: Limits{MaxHTTPCalls: 3}}, rec.do,
		KindHTTP, "h.star:3:17: in main: http.get: the script may make at most 3 HTTP calls")
	if n := len(rec.calls()); n != 3 {
		t.Errorf("callback called %d times; want 3", n)
	}
	failing := &recorder{err: errors.New("host api.example.com is not granted to this script")}
	wantError(t, r, Request{Name: "h", Source: loop, Function: "main"}, failing.do,
		KindHTTP, "http.get https://example.com/0: host api.example.com is not granted to this script")
	wantError(t, r, Request{Name: "h", Source: loop, Function: "main"}, nil, KindHTTP, "HTTP is not available")
	big := "def main():\n    http.post(\"https://example.com/\", body=\"x\" * (2 << 20))\n"
	wantError(t, r, Request{Name: "h", Source: big, Function: "main"}, rec.do, KindHTTP, "request body is larger than 1 MiB")
	checkAlive(t, r)
}

// TestHTTPParentCountsCalls: the parent refuses calls beyond the limit
// even if a child asked for more.
func TestHTTPParentCountsCalls(t *testing.T) {
	r := &Runner{}
	rec := &recorder{resp: HTTPResponse{Status: 200}}
	m := childMsg{Type: msgHTTP, ID: 7, HTTP: &HTTPRequest{Method: "GET", URL: "https://example.com/"}}
	l := Limits{}.withDefaults()
	if rep := r.doHTTP(context.Background(), rec.do, m, l.MaxHTTPCalls, l); rep.Error != "" || rep.Response == nil || rep.ID != 7 {
		t.Errorf("call at the limit: %+v", rep)
	}
	if rep := r.doHTTP(context.Background(), rec.do, m, l.MaxHTTPCalls+1, l); rep.Error == "" {
		t.Errorf("call over the limit: %+v", rep)
	}
	if n := len(rec.calls()); n != 1 {
		t.Errorf("callback called %d times; want 1", n)
	}
}

func TestSecrets(t *testing.T) {
	r := newTestRunner(t, 1)
	src := `def main():
    p = secret("API_KEY")
    rev = "".join(reversed(p.elems()))
    return {"p": p, "rev": rev, "slice": p[3:9], "ords": [ord(c) for c in p.elems()], "upper": p.upper()}
`
	res := mustRun(t, r, Request{Name: "s", Source: src, Function: "main", Secrets: []string{"API_KEY"}, Placeholder: "AIRLOCK_SECRET_x1y2_"}, nil)
	var got struct {
		P, Rev, Slice, Upper string
		Ords                 []int
	}
	if err := json.Unmarshal(res.Value, &got); err != nil {
		t.Fatal(err)
	}
	p := "AIRLOCK_SECRET_x1y2_API_KEY__"
	if got.P != p || got.Slice != p[3:9] || len(got.Ords) != len(p) || got.Ords[0] != int(p[0]) {
		t.Errorf("script saw %+v; want only the placeholder %q", got, p)
	}
	wantError(t, r, Request{Name: "s", Source: src, Function: "main", Secrets: []string{"OTHER"}}, nil,
		KindRuntime, "s.star:2:15: in main: secret API_KEY is not granted to this script")
	// The default placeholder, when the caller sets none.
	res = mustRun(t, r, Request{Name: "s", Source: "result = secret('K')\n", Secrets: []string{"K"}}, nil)
	if string(res.Value) != `"`+DefaultPlaceholder+`K__"` {
		t.Errorf("default placeholder: %s", res.Value)
	}
}
