package admin

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestSecretsThroughTheAPI: the API refuses what the page refuses, with
// the same words and without the value; what it stores and deletes is
// audited with the admin, as on the page.
func TestSecretsThroughTheAPI(t *testing.T) {
	e := newEnv(t)
	e.setup()
	tok := e.apiToken()
	for _, tt := range []struct{ name, value, want string }{
		{"bad-name", secretCanary, "invalid secret name"},
		{"GOOD_NAME", " " + secretCanary, "whitespace"},
		{"GOOD_NAME", "short", "at least 8 bytes"},
	} {
		var out struct{ Error string }
		code := e.api(tok, "PUT", "/api/v1/secrets/"+tt.name, map[string]string{"value": tt.value}, &out)
		if code != http.StatusBadRequest || !strings.HasPrefix(out.Error, "invalid secret ") || !strings.Contains(out.Error, tt.want) {
			t.Errorf("PUT %s: %d %q; want 400 with %q", tt.name, code, out.Error, tt.want)
		}
		if strings.Contains(out.Error, secretCanary) {
			t.Errorf("PUT %s: the error shows the value", tt.name)
		}
	}
	if n := len(e.auditActions("secret.set")); n != 0 {
		t.Errorf("%d secret.set entries for refused secrets", n)
	}
	if code := e.api(tok, "PUT", "/api/v1/secrets/WEATHER_KEY", map[string]string{"value": secretCanary}, nil); code != http.StatusCreated {
		t.Fatalf("PUT: %d", code)
	}
	if code := e.api(tok, "DELETE", "/api/v1/secrets/WEATHER_KEY", nil, nil); code != http.StatusNoContent {
		t.Fatalf("DELETE: %d", code)
	}
	if code := e.api(tok, "DELETE", "/api/v1/secrets/WEATHER_KEY", nil, nil); code != http.StatusNotFound {
		t.Errorf("DELETE again: %d; want 404", code)
	}
	for _, action := range []string{"secret.set", "secret.deleted"} {
		ents := e.auditActions(action)
		if len(ents) != 1 || ents[0].Actor != "admin:alice" || ents[0].Target != "WEATHER_KEY" {
			t.Errorf("audit of %s: %+v", action, ents)
		}
		if b, _ := json.Marshal(ents); strings.Contains(string(b), secretCanary) {
			t.Errorf("the audit of %s holds the value", action)
		}
	}
}
