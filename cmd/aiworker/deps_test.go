package main

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// TestWorkerLinksNoSecrets fails if the worker binary links anything that
// touches the database, the vault or tokens: the worker must not even
// contain that code (SPEC 1).
func TestWorkerLinksNoSecrets(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-json=ImportPath", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	bad := map[string]string{
		"database/sql":                                 "the worker has no database",
		"modernc.org/sqlite":                           "the worker has no database",
		"github.com/golang-jwt/jwt":                    "the worker verifies no tokens",
		"github.com/golang-jwt/jwt/":                   "the worker verifies no tokens",
		"github.com/airlockhq/airlock/orchestrator":    "orchestrator code stays on the system side",
		"github.com/airlockhq/airlock/secure/vault":    "the worker holds no secret",
		"github.com/airlockhq/airlock/secure/token":    "the worker holds no secret",
		"github.com/airlockhq/airlock/secure/peercred": "socket policy is the orchestrator's",
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := 0
	for dec.More() {
		var p struct{ ImportPath string }
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		seen++
		for prefix, why := range bad {
			exact := prefix == "database/sql"
			if p.ImportPath == prefix || !exact && strings.HasPrefix(p.ImportPath, strings.TrimSuffix(prefix, "/")+"/") {
				t.Errorf("cmd/aiworker links %s: %s", p.ImportPath, why)
			}
		}
	}
	if seen < 10 {
		t.Fatalf("go list returned only %d packages; the check is not looking at the real graph", seen)
	}
	for _, must := range []string{"github.com/airlockhq/airlock/aiworker/agent", "github.com/airlockhq/airlock/mcp/client"} {
		if !strings.Contains(string(out), `"`+must+`"`) {
			t.Errorf("expected the worker to link %s; the dependency list looks wrong", must)
		}
	}
}
