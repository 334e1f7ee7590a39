package admin

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/orchestrator/config"
	"github.com/airlockhq/airlock/orchestrator/doctor"
	"github.com/airlockhq/airlock/orchestrator/store"
)

// testDoctor runs the real checks over st and a data directory in dir, in
// dev mode.
func testDoctor(st *store.Store, dir string) func(context.Context, bool) doctor.Report {
	cfg := config.Defaults(true)
	cfg.DataDir = filepath.Join(dir, "data")
	return func(ctx context.Context, deep bool) doctor.Report {
		return doctor.Run(ctx, doctor.Env{Config: cfg, Store: st, Deep: deep})
	}
}

// GET /api/v1/doctor: the checks worst first in SPEC 11's shape, with the
// exit status the command would have; a bad deep value is refused.
func TestAPIDoctor(t *testing.T) {
	e := newEnv(t)
	e.setup()
	tok := e.apiToken()
	var out struct {
		Checks   []doctor.Result `json:"checks"`
		ExitCode int             `json:"exit_code"`
	}
	if code := e.api(tok, "GET", "/api/v1/doctor", nil, &out); code != http.StatusOK {
		t.Fatalf("GET /api/v1/doctor: %d", code)
	}
	if len(out.Checks) != len(doctor.IDs()) {
		t.Fatalf("%d checks, want %d", len(out.Checks), len(doctor.IDs()))
	}
	// Dev mode warns (ai.dev_mode): worst first, so a warning leads.
	if out.Checks[0].Status != doctor.Warn && out.Checks[0].Status != doctor.Fail || out.ExitCode == 0 {
		t.Fatalf("first %+v, exit %d", out.Checks[0], out.ExitCode)
	}
	r := out.Checks[len(out.Checks)-1]
	if r.Status != doctor.Pass {
		t.Fatalf("last %+v, want a pass", r)
	}
	var bad map[string]string
	if code := e.api(tok, "GET", "/api/v1/doctor?deep=yes", nil, &bad); code != http.StatusBadRequest || !strings.Contains(bad["error"], "deep") {
		t.Fatalf("deep=yes: %d %v", code, bad)
	}
	if code := e.api("", "GET", "/api/v1/doctor", nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("anonymous: %d", code)
	}
}

// The dashboard's Security card lists what did not pass, worst first,
// with the fix and a link to docs/doctor.md.
func TestDashboardSecurityCard(t *testing.T) {
	e := newEnv(t)
	e.setup()
	b := e.login()
	code, body := b.get("/")
	if code != http.StatusOK {
		t.Fatalf("dashboard: %d\n%s", code, e.logs.String())
	}
	i := strings.Index(body, `id="security"`)
	if i < 0 {
		t.Fatalf("no Security card:\n%s", body)
	}
	card := body[i:]
	card = card[:strings.Index(card, "</section>")]
	for _, want := range []string{"ai.dev_mode", "Dev mode is off", "run the container", "docs/doctor.md#aidev_mode", "checks:"} {
		if !strings.Contains(card, want) {
			t.Errorf("the card lacks %q:\n%s", want, card)
		}
	}
	if strings.Contains(card, "exposure.trusted_proxies") {
		t.Errorf("a passing check is listed:\n%s", card)
	}
}
