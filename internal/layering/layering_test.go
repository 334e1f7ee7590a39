package layering

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// load returns the graph of every package of the module and all they link.
func load(t *testing.T) graph {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-json=ImportPath,Standard,Imports,Deps", m+"...").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	g := graph{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		g[p.ImportPath] = p
	}
	return g
}

// TestLayering checks every rule of rules_test.go on the real graph.
func TestLayering(t *testing.T) {
	g := load(t)
	if len(g.sorted()) < 20 || !g["fmt"].Standard {
		t.Fatalf("go list gave %d packages of the module; the check is not looking at the real graph", len(g.sorted()))
	}
	for _, r := range rules {
		for _, s := range r.subjects() {
			if !slices.ContainsFunc(g.sorted(), func(p pkg) bool { return match(g, s, p.ImportPath) }) {
				t.Errorf("a rule is about %s, which matches no package: it checks nothing", s)
			}
		}
		for _, v := range r.check(g) {
			t.Error(v)
		}
	}
	// The worker rule looks at what is really linked.
	for _, must := range []string{m + "aiworker/agent", m + "mcp/client", "go.starlark.net/starlark"} {
		if !slices.Contains(g[m+"cmd/aiworker"].Deps, must) {
			t.Errorf("cmd/aiworker does not link %s; the dependency list looks wrong", must)
		}
	}
}
