package admin

import (
	"net/http"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/mcp/tools"
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
