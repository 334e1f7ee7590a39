package layering

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

// synthetic builds a graph from direct imports. A path outside the module
// without a dot in its first element is standard.
func synthetic(imports map[string][]string) graph {
	g := graph{}
	var add func(path string)
	add = func(path string) {
		if _, ok := g[path]; ok {
			return
		}
		first, _, _ := strings.Cut(path, "/")
		g[path] = pkg{ImportPath: path, Imports: imports[path], Standard: !inModule(path) && !strings.Contains(first, ".")}
		for _, d := range imports[path] {
			add(d)
		}
	}
	for path := range imports {
		add(path)
	}
	for path, p := range g {
		seen := map[string]bool{}
		var walk func(string)
		walk = func(q string) {
			for _, d := range g[q].Imports {
				if !seen[d] {
					seen[d] = true
					walk(d)
				}
			}
		}
		walk(path)
		p.Deps = slices.Sorted(maps.Keys(seen))
		g[path] = p
	}
	return g
}

// cleanGraph is a small module that keeps every rule.
func cleanGraph() map[string][]string {
	return map[string][]string{
		m + "cmd/aiworker":                   {m + "aiworker/agent", m + "mcp/client", "fmt"},
		m + "aiworker/agent":                 {m + "mcp/tools", m + "sandbox", m + "secure/redact", m + "internal/backoff"},
		m + "mcp/client":                     {"github.com/mark3labs/mcp-go/client", m + "internal/backoff"},
		"github.com/mark3labs/mcp-go/client": {"github.com/google/uuid", "net/http"},
		"github.com/google/uuid":             {"database/sql/driver"},
		m + "sandbox":                        {"go.starlark.net/starlark", m + "secure/confine"},
		m + "secure/confine":                 {"golang.org/x/sys/unix", "github.com/landlock-lsm/go-landlock/landlock", "time/tzdata"},
		m + "cmd/orchestrator":               {m + "orchestrator/admin", m + "orchestrator", m + "orchestrator/discord"},
		m + "orchestrator/admin":             {m + "orchestrator", m + "orchestrator/store"},
		m + "orchestrator/discord":           {m + "orchestrator", m + "mcp/tools"},
		m + "orchestrator":                   {m + "orchestrator/store", m + "orchestrator/llm", m + "mcp/tools", m + "orchestrator/approval"},
		m + "orchestrator/approval":          {m + "orchestrator/store", m + "mcp/tools"},
		m + "orchestrator/store":             {"database/sql", "modernc.org/sqlite"},
		m + "orchestrator/llm":               {m + "secure/redact", m + "internal/backoff", "net/http"},
		m + "orchestrator/worker":            {m + "mcp/tools"},
		m + "secure/vault":                   {"crypto/aes"},
		m + "mcp/tools":                      {"encoding/json"},
		m + "internal/backoff":               {"time"},
	}
}

func violations(g graph) []string {
	var out []string
	for _, r := range rules {
		out = append(out, r.check(g)...)
	}
	return out
}

// TestRulesCatchBreaks shows that each rule fails when broken: one import
// added to a graph that keeps them all must be reported, by name.
func TestRulesCatchBreaks(t *testing.T) {
	if v := violations(synthetic(cleanGraph())); len(v) != 0 {
		t.Fatalf("the clean graph breaks rules:\n%s", strings.Join(v, "\n"))
	}
	tests := []struct {
		name     string
		from, to string // the import added
		want     string // in the report
	}{
		{"worker links the vault", m + "aiworker/agent", m + "secure/vault", "cmd/aiworker imports " + m + "secure/vault"},
		{"worker links database/sql", m + "mcp/client", "database/sql", "cmd/aiworker imports database/sql:"},
		{"worker links SQLite through a library", "github.com/google/uuid", "modernc.org/sqlite", "cmd/aiworker imports modernc.org/sqlite"},
		{"worker links orchestrator code", m + "aiworker/agent", m + "orchestrator/llm", "cmd/aiworker imports " + m + "orchestrator/llm"},
		{"worker links an unlisted library", m + "mcp/client", "github.com/gorilla/websocket", "cmd/aiworker imports github.com/gorilla/websocket"},
		{"secure/* not a leaf", m + "secure/redact", m + "orchestrator/store", m + "secure/redact imports " + m + "orchestrator/store"},
		{"secure/* imports secure/*", m + "secure/vault", m + "secure/redact", m + "secure/vault imports " + m + "secure/redact"},
		{"sandbox not a leaf", m + "sandbox", m + "secure/vault", m + "sandbox imports " + m + "secure/vault"},
		{"mcp/tools imports a library", m + "mcp/tools", "github.com/google/uuid", m + "mcp/tools imports github.com/google/uuid"},
		{"internal/* imports the module", m + "internal/backoff", m + "mcp/tools", m + "internal/backoff imports " + m + "mcp/tools"},
		{"a service imports admin", m + "orchestrator/approval", m + "orchestrator/admin", m + "orchestrator/approval imports " + m + "orchestrator/admin"},
		{"Core imports admin", m + "orchestrator", m + "orchestrator/admin", m + "orchestrator imports " + m + "orchestrator/admin"},
		{"a service imports Core", m + "orchestrator/worker", m + "orchestrator", m + "orchestrator/worker imports " + m + "orchestrator:"},
		{"store imports mcp/tools", m + "orchestrator/store", m + "mcp/tools", m + "orchestrator/store imports " + m + "mcp/tools"},
		{"llm links mcp/tools through another package", m + "orchestrator/llm", m + "orchestrator/worker", m + "orchestrator/llm imports " + m + "mcp/tools"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			imports := cleanGraph()
			imports[tt.from] = append(slices.Clone(imports[tt.from]), tt.to)
			v := violations(synthetic(imports))
			if !slices.ContainsFunc(v, func(s string) bool { return strings.Contains(s, tt.want) }) {
				t.Errorf("adding %s → %s: reports\n%s\nwant one containing %q", tt.from, tt.to, strings.Join(v, "\n"), tt.want)
			}
		})
	}
}
