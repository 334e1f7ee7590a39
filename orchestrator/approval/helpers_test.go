package approval

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/store"
)

// env is a Service on a fresh database, with the hooks' calls recorded.
type env struct {
	svc *Service
	log *audit.Log
	st  *store.Store

	mu       sync.Mutex
	proposed []tools.ScriptInfo
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "a.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clock := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(time.Second)
		return clock
	}
	e := &env{log: audit.New(st, now, nil), st: st}
	e.svc = New(st, e.log, now)
	e.svc.OnProposed(func(si tools.ScriptInfo) {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.proposed = append(e.proposed, si)
	})
	return e
}

func (e *env) hookCalls() []tools.ScriptInfo {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]tools.ScriptInfo(nil), e.proposed...)
}

// weather returns a valid script; tag makes versions differ.
func weather(tag string) string {
	return "# @description: Current weather\n" +
		"# @secrets: API_KEY\n" +
		"# @hosts: api.example.com\n" +
		"def main(city, units = \"metric\"):\n" +
		"    r = http.get(\"https://api.example.com/v1?q=\" + city + \"&key=\" + secret(\"API_KEY\"))\n" +
		"    return r.body  # " + tag + "\n"
}

func (e *env) mustPropose(t *testing.T, name, src string) tools.ScriptProposeResult {
	t.Helper()
	res, err := e.svc.Propose(context.Background(), name, src, "assistant")
	if err != nil {
		t.Fatalf("Propose(%s): %v", name, err)
	}
	return res
}

// auditDetails returns the details of the entries with an action, oldest
// first.
func (e *env) auditDetails(t *testing.T, action string) []map[string]any {
	t.Helper()
	entries, err := e.log.List(context.Background(), audit.Filter{Action: action, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for i := len(entries) - 1; i >= 0; i-- {
		var d map[string]any
		if err := json.Unmarshal(entries[i].Details, &d); err != nil {
			t.Fatal(err)
		}
		d["actor"], d["target"] = entries[i].Actor, entries[i].Target
		out = append(out, d)
	}
	return out
}
