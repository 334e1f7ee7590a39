package admin

import (
	"context"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/airlockhq/airlock/orchestrator/audit"
)

func TestZZSecAcctShots(t *testing.T) {
	if os.Getenv("SHOTS2") == "" {
		t.Skip()
	}
	e := newEnv(t)
	e.setup()
	b := e.login()
	e.login()
	e.apiToken()
	ctx := context.Background()
	e.vault.Set(ctx, "WEATHER_API_KEY", "abcdefgh12345678")
	e.vault.Set(ctx, "GITHUB_TOKEN", "abcdefgh12345678x")
	e.vault.AddEnv("LLM_API_KEY", "AIRLOCK_LLM_API_KEY", "sk-xxxxxxxxxxxxxxxxxxxx")
	for i := 0; i < 120; i++ {
		e.audit.Append(ctx, audit.Event{Actor: "worker", Action: "task.completed", Target: "conv_abc", Outcome: audit.OutcomeOK,
			Details: map[string]any{"i": i, "long": "some long detail text that goes on and on to show how the truncation of details in the table looks when it is long enough"}})
	}
	e.audit.Append(ctx, audit.Event{Actor: "peer:uid=65534", Action: "mcp.peer_refused", Outcome: audit.OutcomeDenied})
	e.audit.Append(ctx, audit.Event{Actor: "system", Action: "task.failed", Outcome: audit.OutcomeError, Details: map[string]any{"x": 1}})
	u, _ := url.Parse(e.srv.URL)
	cookies := b.c.Jar.Cookies(u)
	rp := httputil.NewSingleHostReverseProxy(u)
	mux := http.NewServeMux()
	mux.HandleFunc("/__badsecret", func(w http.ResponseWriter, r *http.Request) {
		_, _, body := b.post("/secrets", url.Values{"name": {"bad-name"}, "value": {"x"}})
		w.Write([]byte(body))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		for _, c := range cookies {
			r.AddCookie(c)
		}
		rp.ServeHTTP(w, r)
	})
	go http.ListenAndServe("127.0.0.1:18788", mux)
	os.WriteFile("/tmp/shots2_ready", []byte("ok"), 0o644)
	time.Sleep(300 * time.Second)
}
