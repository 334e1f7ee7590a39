package admin

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/audit"
)

// TestRejectThroughTheAPI: the API refuses a rejection without a reason,
// as the page does (the rule is approval.Reject's), with a 400 that says
// why; the version stays pending. With a reason it is rejected.
func TestRejectThroughTheAPI(t *testing.T) {
	e := newEnv(t)
	e.setup()
	tok := e.apiToken()
	sha := e.proposeScript("weather", reviewScript("x"))
	path := "/api/v1/scripts/weather/versions/" + sha + "/reject"
	for name, body := range map[string]any{"no body": nil, "a blank reason": map[string]string{"reason": " \t "}} {
		var out struct{ Error string }
		if code := e.api(tok, "POST", path, body, &out); code != http.StatusBadRequest || !strings.Contains(out.Error, "Give a reason") {
			t.Errorf("%s: %d %q; want 400 asking for a reason", name, code, out.Error)
		}
	}
	if st := e.versionStatus("weather", sha); st != tools.ScriptPending {
		t.Fatalf("after refused rejections: %s", st)
	}
	if code := e.api(tok, "POST", path, map[string]string{"reason": "posts the key to a pastebin"}, nil); code != http.StatusOK {
		t.Fatalf("reject with a reason: %d", code)
	}
	if st := e.versionStatus("weather", sha); st != tools.ScriptRejected {
		t.Errorf("after rejecting: %s", st)
	}
}

// TestTestRunThroughTheAPI: the API's test runs follow the core's rules,
// as the page's do: no version named and none approved is a 409; with no
// worker connected the run is refused at once (503), nothing is queued
// and nothing audited.
func TestTestRunThroughTheAPI(t *testing.T) {
	e := newEnv(t)
	e.setup()
	tok := e.apiToken()
	sha := e.proposeScript("weather", reviewScript("x"))
	path := "/api/v1/scripts/weather/test"
	if code := e.api(tok, "POST", path, map[string]any{"function": "main"}, nil); code != http.StatusConflict {
		t.Errorf("no version named, none approved: %d; want 409", code)
	}
	var out struct{ Error string }
	if code := e.api(tok, "POST", path, map[string]any{"sha256": sha, "function": "main"}, &out); code != http.StatusServiceUnavailable ||
		!strings.Contains(out.Error, "worker is not connected") {
		t.Errorf("without a worker: %d %q; want 503", code, out.Error)
	}
	if st := e.queue.Status(time.Minute); st.Queued != 0 || st.InFlight != 0 {
		t.Errorf("queue after refused runs: %+v", st)
	}
	if entries, _ := e.audit.List(context.Background(), audit.Filter{Action: "script.test"}); len(entries) != 0 {
		t.Errorf("%d test runs audited; want none", len(entries))
	}
}
