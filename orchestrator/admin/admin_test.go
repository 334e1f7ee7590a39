package admin

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

func TestReadyzNeedsWorker(t *testing.T) {
	e := newEnv(t)
	srv, q := e.srv, e.queue
	get := func() (int, map[string]string) {
		resp, err := http.Get(srv.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]string
		json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	if code, body := get(); code != http.StatusServiceUnavailable || body["worker"] != "not connected" || body["database"] != "ok" {
		t.Errorf("without a worker: %d %v; want 503", code, body)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go q.Next(ctx, os.Getpid())
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, body := get()
		if code == http.StatusOK && body["status"] == "ready" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("with a polling worker: %d %v; want 200", code, body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if resp, err := http.Get(srv.URL + "/healthz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("healthz: %v %v", resp.StatusCode, err)
	}
}

func TestSecurityHeaders(t *testing.T) {
	srv := newEnv(t).srv
	for _, path := range []string{"/healthz", "/readyz", "/api/v1/status", "/nope"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		for k, want := range map[string]string{
			"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin",
			"Cross-Origin-Opener-Policy": "same-origin",
		} {
			if h.Get(k) != want {
				t.Errorf("%s: %s = %q; want %q", path, k, h.Get(k), want)
			}
		}
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
	}
}

// TestMetrics: /metrics answers the Prometheus text format with the
// system's gauges.
func TestMetrics(t *testing.T) {
	e := newEnv(t)
	resp, err := http.Get(e.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("metrics: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{"airlock_worker_connected 0", "airlock_tasks_queued 0", "airlock_llm_requests_today 0",
		"airlock_scripts_pending 0", "go_goroutines"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
