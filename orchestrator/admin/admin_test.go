package admin

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/airlockhq/airlock/orchestrator"
	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/orchestrator/worker"
	"github.com/airlockhq/airlock/orchestrator/workspace"
)

const testToken = "test-token-0123456789abcdefghijklmnop"

func newTestServer(t *testing.T) (*httptest.Server, *worker.Queue) {
	t.Helper()
	dir := t.TempDir()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(context.Background(), filepath.Join(dir, "db"), logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ws, err := workspace.Open(filepath.Join(dir, "ws"), workspace.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	al := audit.New(st, nil)
	q := worker.New(time.Now, func(int) bool { return true })
	core := orchestrator.New(orchestrator.Config{}, orchestrator.Deps{Store: st, Audit: al, Queue: q, Workspace: ws, Logger: logger})
	srv := httptest.NewServer(New(Deps{Core: core, Store: st, Audit: al, Queue: q, Logger: logger, APIToken: testToken}).Handler())
	t.Cleanup(srv.Close)
	return srv, q
}

// TestAPIRoutesRequireToken: every /api/v1 route refuses requests without
// the right bearer token, before reading the body.
func TestAPIRoutesRequireToken(t *testing.T) {
	srv, _ := newTestServer(t)
	routes := []struct{ method, path string }{
		{"GET", "/api/v1/status"}, {"GET", "/api/v1/conversations"}, {"POST", "/api/v1/conversations"},
		{"GET", "/api/v1/conversations/c_x"}, {"POST", "/api/v1/conversations/c_x/messages"},
		{"GET", "/api/v1/audit"}, {"GET", "/api/v1/audit/verify"}, {"GET", "/api/v1/nope"},
		{"GET", "/api/v1/secrets"}, {"PUT", "/api/v1/secrets/X_KEY"}, {"DELETE", "/api/v1/secrets/X_KEY"},
		{"GET", "/api/v1/scripts"}, {"GET", "/api/v1/scripts/x"}, {"POST", "/api/v1/scripts/x/revoke"},
		{"POST", "/api/v1/scripts/x/test"}, {"POST", "/api/v1/scripts/x/versions/" + strings.Repeat("a", 64) + "/approve"},
		{"POST", "/api/v1/scripts/x/versions/" + strings.Repeat("a", 64) + "/reject"},
	}
	auths := []string{"", "Bearer", "Bearer ", "Bearer wrong", "bearer " + testToken, "Basic " + testToken,
		"Bearer " + testToken + "x", "Bearer " + testToken[:len(testToken)-1]}
	for _, rt := range routes {
		for _, a := range auths {
			req, _ := http.NewRequest(rt.method, srv.URL+rt.path, strings.NewReader(`{"title":"x","text":"x"}`))
			req.Header.Set("Content-Type", "application/json")
			if a != "" {
				req.Header.Set("Authorization", a)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), `"error"`) {
				t.Errorf("%s %s with %q: %d %s; want 401 JSON", rt.method, rt.path, a, resp.StatusCode, body)
			}
		}
	}
	// And the right token gets through.
	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/conversations", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("with the token: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
}

func TestReadyzNeedsWorker(t *testing.T) {
	srv, q := newTestServer(t)
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
	srv, _ := newTestServer(t)
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

func TestLoadOrCreateToken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "api.token")
	tok, created, err := LoadOrCreateToken(path)
	if err != nil || !created || len(tok) < 40 {
		t.Fatalf("create: %q %v %v", tok, created, err)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v; want 0600", fi.Mode().Perm())
	}
	again, created, err := LoadOrCreateToken(path)
	if err != nil || created || again != tok {
		t.Fatalf("reload: %v %v; want the same token", created, err)
	}
	os.Chmod(path, 0o644)
	if _, _, err := LoadOrCreateToken(path); err == nil || strings.Contains(err.Error(), tok) {
		t.Errorf("a token readable by others was accepted (err %v)", err)
	}
}
