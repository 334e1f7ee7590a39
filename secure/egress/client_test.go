package egress

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// server starts a loopback test server and counts the requests it gets.
func server(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s, &hits
}

func hello(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "hello") }

func mustClient(t *testing.T, p Policy) *Client {
	t.Helper()
	c, err := NewClient(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// wantRefused fails unless err is a refusal whose message contains every want.
func wantRefused(t *testing.T, err error, wants ...string) {
	t.Helper()
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("err = %v, want ErrRefused", err)
	}
	for _, w := range wants {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
}

func TestAllowlistedLoopbackReachable(t *testing.T) {
	s, hits := server(t, hello)
	port := s.Listener.Addr().(*net.TCPAddr).Port
	tests := []struct {
		name  string
		allow []string
		url   string
	}{
		{"by hostname localhost", []string{"localhost"}, fmt.Sprintf("http://localhost:%d/", port)},
		{"by hostname, other case", []string{"LocalHost"}, fmt.Sprintf("http://LOCALHOST:%d/", port)},
		{"by CIDR", []string{"127.0.0.0/8"}, s.URL},
		{"by CIDR, name resolved", []string{"127.0.0.0/8"}, fmt.Sprintf("http://localhost:%d/", port)},
		{"by single IP", []string{"127.0.0.1"}, s.URL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := hits.Load()
			resp, err := mustClient(t, Policy{Allow: tt.allow}).Get(context.Background(), tt.url)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != 200 || string(resp.Body) != "hello" || resp.Truncated {
				t.Errorf("resp = %d %q truncated=%v", resp.Status, resp.Body, resp.Truncated)
			}
			if hits.Load() != before+1 {
				t.Error("server was not reached")
			}
		})
	}
}

func TestLocalhostRefused(t *testing.T) {
	s, hits := server(t, hello)
	port := s.Listener.Addr().(*net.TCPAddr).Port
	for _, allow := range [][]string{nil, {"localhost.example"}, {"10.0.0.0/8"}} {
		c := mustClient(t, Policy{Allow: allow})
		_, err := c.Get(context.Background(), fmt.Sprintf("http://localhost:%d/", port))
		wantRefused(t, err, "egress: refused: localhost resolves to ", "a loopback address",
			"an admin can allowlist the host in settings")
	}
	if hits.Load() != 0 {
		t.Errorf("server got %d requests", hits.Load())
	}
}

func TestLiteralAddressesRefused(t *testing.T) {
	c := mustClient(t, Policy{Allow: []string{"localhost"}}) // names, not addresses
	tests := []struct{ url, want string }{
		{"http://127.0.0.1/", "127.0.0.1 is a loopback address"},
		{"http://127.1.2.3:8080/", "127.1.2.3 is a loopback address"},
		{"http://[::ffff:127.0.0.1]/", "127.0.0.1 is a loopback address"},
		{"http://[::ffff:7f00:1]/", "127.0.0.1 is a loopback address"},
		{"http://10.0.0.5/", "10.0.0.5 is a private address"},
		{"http://172.16.0.1/", "172.16.0.1 is a private address"},
		{"https://192.168.1.1/", "192.168.1.1 is a private address"},
		{"http://[::ffff:192.168.1.1]/", "192.168.1.1 is a private address"},
		{"http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address (the cloud metadata endpoint)"},
		{"http://[::ffff:169.254.169.254]/", "169.254.169.254 is a link-local address (the cloud metadata endpoint)"},
		{"http://169.254.10.1/", "169.254.10.1 is a link-local address"},
		{"http://100.64.0.1/", "100.64.0.1 is a carrier-grade NAT (shared) address"},
		{"http://0.0.0.0/", "0.0.0.0 is an unspecified address"},
		{"http://224.0.0.1/", "224.0.0.1 is a multicast address"},
		{"http://255.255.255.255/", "255.255.255.255 is the broadcast address"},
		{"http://198.18.0.1/", "198.18.0.1 is a reserved address"},
		{"http://240.0.0.1/", "240.0.0.1 is a reserved address"},
		{"http://[::1]/", "::1 is a loopback address"},
		{"http://[::]/", ":: is an unspecified address"},
		{"http://[::127.0.0.1]/", "::7f00:1 (carrying 127.0.0.1) is a loopback address"},
		{"http://[fd00::1]/", "fd00::1 is a private address"},
		{"http://[fe80::1]/", "fe80::1 is a link-local address"},
		{"http://[ff02::1]/", "ff02::1 is a multicast address"},
		{"http://[64:ff9b::a00:5]/", "64:ff9b::a00:5 (carrying 10.0.0.5) is a private address"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			_, err := c.Get(context.Background(), tt.url)
			wantRefused(t, err, tt.want)
		})
	}
}

func TestSchemesAndCredentialsRefused(t *testing.T) {
	s, hits := server(t, hello)
	c := mustClient(t, Policy{Allow: []string{"127.0.0.0/8"}})
	u, _ := url.Parse(s.URL)
	tests := []struct{ url, want string }{
		{"file:///etc/passwd", `scheme "file" is not allowed (http and https only)`},
		{"ftp://" + u.Host + "/x", `scheme "ftp" is not allowed (http and https only)`},
		{"gopher://" + u.Host + "/", `scheme "gopher" is not allowed`},
		{"data:text/plain,hello", `scheme "data" is not allowed`},
		{"javascript:alert(1)", `scheme "javascript" is not allowed`},
		{"//" + u.Host + "/", `scheme "" is not allowed`},
		{"http:///nohost", "the URL has no host"},
		{"http://user:hunter2@" + u.Host + "/", "credentials in the URL (user:password@) are not allowed"},
		{"http://user@" + u.Host + "/", "credentials in the URL"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			_, err := c.Get(context.Background(), tt.url)
			wantRefused(t, err, "egress: refused: "+tt.want)
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
	if hits.Load() != 0 {
		t.Errorf("server got %d requests", hits.Load())
	}
}

func TestEnvProxyIgnored(t *testing.T) {
	proxy, proxyHits := server(t, func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "via proxy") })
	for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"} {
		t.Setenv(k, proxy.URL)
	}
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")
	target, _ := server(t, func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "direct") })
	port := target.Listener.Addr().(*net.TCPAddr).Port
	// A non-loopback name: Go's environment proxy logic would proxy it.
	res := startFakeDNS(t, static(map[string][]netip.Addr{"site.test": {netip.MustParseAddr("127.0.0.1")}}))
	c, err := newClient(Policy{Allow: []string{"site.test"}}, res)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Get(context.Background(), fmt.Sprintf("http://site.test:%d/", port))
	if err != nil {
		t.Fatal(err)
	}
	if string(resp.Body) != "direct" || proxyHits.Load() != 0 {
		t.Errorf("body %q, proxy hits %d: the environment proxy was used", resp.Body, proxyHits.Load())
	}
	if c.hc.Transport.(*http.Transport).Proxy != nil {
		t.Error("transport has a Proxy func")
	}
}

func TestErrorsHideURL(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	c := mustClient(t, Policy{Allow: []string{"127.0.0.0/8"}})
	for _, u := range []string{"http://" + closed + "/p?key=SUPERSECRETVALUE", "http://10.0.0.1/?key=SUPERSECRETVALUE"} {
		_, err := c.Get(context.Background(), u)
		if err == nil || !strings.HasPrefix(err.Error(), "egress: ") || strings.Contains(err.Error(), "SUPERSECRETVALUE") {
			t.Errorf("Get(%s) error = %v", u, err)
		}
	}
}

func TestCanceledContext(t *testing.T) {
	s, _ := server(t, hello)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := mustClient(t, Policy{Allow: []string{"127.0.0.1"}}).Get(ctx, s.URL)
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestPolicyDefaults(t *testing.T) {
	p := Policy{}.withDefaults()
	if p.MaxBodyBytes != 2<<20 || p.Timeout != 20*time.Second || p.MaxRedirects != 5 || p.UserAgent == "" ||
		len(p.Ports) != 2 {
		t.Errorf("defaults = %+v", p)
	}
	if got := (Policy{MaxRedirects: -1}).withDefaults().MaxRedirects; got != 0 {
		t.Errorf("MaxRedirects -1 → %d, want 0", got)
	}
	for n, want := range map[int64]string{2 << 20: "2 MiB", 512 << 10: "512 KiB", 1000: "1000 bytes"} {
		if got := formatSize(n); got != want {
			t.Errorf("formatSize(%d) = %q, want %q", n, got, want)
		}
	}
	if got := timedOut(20 * time.Second).Error(); got != "egress: timed out after 20s" {
		t.Errorf("timeout message %q", got)
	}
}

func TestDoWithBody(t *testing.T) {
	s, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Method", r.Method)
		w.Write(b)
	})
	c := mustClient(t, Policy{Allow: []string{"127.0.0.1"}})
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, s.URL, strings.NewReader("payload"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil || string(resp.Body) != "payload" || resp.Header.Get("X-Method") != "POST" {
		t.Fatalf("Do = %+v, %v", resp, err)
	}
	if req.Header.Get("User-Agent") != "" {
		t.Error("Do modified the caller's headers")
	}
	bad, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, "gopher://x/", strings.NewReader("p"))
	if _, err := c.Do(bad); !errors.Is(err, ErrRefused) {
		t.Errorf("gopher Do: err = %v", err)
	}
}

// TestSetAllow: the allowlist changes at run time, for the client and the
// truncating copy alike, and an invalid list leaves the old one.
func TestSetAllow(t *testing.T) {
	s, hits := server(t, hello)
	c := mustClient(t, Policy{})
	trunc := c.Truncating()
	for _, cl := range []*Client{c, trunc} {
		if _, err := cl.Get(context.Background(), s.URL); !errors.Is(err, ErrRefused) {
			t.Fatalf("before SetAllow: err %v; want refused", err)
		}
	}
	if err := c.SetAllow([]string{"127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	for _, cl := range []*Client{c, trunc} {
		if resp, err := cl.Get(context.Background(), s.URL); err != nil || resp.Status != 200 {
			t.Fatalf("after SetAllow: %v", err)
		}
	}
	if err := c.SetAllow([]string{"not a host!"}); err == nil {
		t.Fatal("an invalid allowlist was accepted")
	}
	if _, err := c.Get(context.Background(), s.URL); err != nil {
		t.Fatalf("an invalid SetAllow dropped the old list: %v", err)
	}
	if err := c.SetAllow(nil); err != nil {
		t.Fatal(err)
	}
	before := hits.Load()
	if _, err := c.Get(context.Background(), s.URL); !errors.Is(err, ErrRefused) || hits.Load() != before {
		t.Fatalf("after clearing the list: err %v; want refused without reaching the server", err)
	}
}
