package sandbox

import (
	"strings"
	"testing"
	"time"
)

// TestLimitsStopScripts: each limit ends the script with a clear error,
// and the next script in the same Runner runs fine.
func TestLimitsStopScripts(t *testing.T) {
	r := newTestRunner(t, 1)
	loop := "def main():\n    for i in range(1<<62):\n        pass\n"
	tests := []struct {
		name, src string
		limits    Limits
		kind      string
		want      string
	}{
		{"steps", loop, Limits{MaxSteps: 2_000_000}, KindSteps, "limit of 2000000 execution steps"},
		{"top-level steps", "for i in range(1<<62):\n    pass\n", Limits{MaxSteps: 2_000_000}, KindSteps, "execution steps"},
		{"wall clock", loop, Limits{Timeout: time.Second, MaxSteps: 1 << 62}, KindTimeout, "longer than 1s and was stopped"},
		{"cpu", loop, Limits{CPUTime: time.Second, MaxSteps: 1 << 62}, KindCPU, "more than 1s of CPU time"},
		{"one huge string", "def main():\n    return len(\"a\" * ((1<<30) - 1))\n", Limits{}, KindMemory,
			"tried to use more than 256 MiB and was stopped"},
		{"list growth", "def main():\n    l = []\n    for i in range(1<<40):\n        l.append(\"x\" * 1000 + str(i))\n",
			Limits{MaxSteps: 1 << 62}, KindMemory, "more than 256 MiB"},
		{"smaller memory limit", "def main():\n    l = []\n    for i in range(1<<40):\n        l.append(\"x\" * 1000 + str(i))\n",
			Limits{MemoryBytes: 64 << 20, MaxSteps: 1 << 62}, KindMemory, "more than 64 MiB"},
		{"result too large", "def main():\n    return \"x\" * (300 << 10)\n", Limits{}, KindOutput, "larger than 256 KiB"},
		{"result too deep", "def main():\n    l = []\n    for i in range(100):\n        l = [l]\n    return l\n", Limits{}, KindOutput, "nested deeper than 64"},
		{"result cycle", "def main():\n    l = []\n    l.append(l)\n    return l\n", Limits{}, KindOutput, "nested deeper"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, r, Request{Name: "limits", Source: tt.src, Function: "main", Limits: tt.limits}, nil, tt.kind, tt.want)
			checkAlive(t, r)
		})
	}
}

// TestPrintCapped: megabytes of print succeed with the first
// MaxPrintBytes and a note saying how much was printed.
func TestPrintCapped(t *testing.T) {
	r := newTestRunner(t, 1)
	src := "def main():\n    for i in range(4000):\n        print(\"é\" * 500)\n    return 'done'\n"
	res := mustRun(t, r, Request{Name: "print", Source: src, Function: "main"}, nil)
	if string(res.Value) != `"done"` {
		t.Errorf("value = %s", res.Value)
	}
	kept, note, ok := strings.Cut(res.Output, "\n[print output truncated")
	if !ok || len(kept) > DefaultMaxPrintBytes || len(kept) < DefaultMaxPrintBytes-4 {
		t.Fatalf("output: %d bytes kept, note found %v", len(kept), ok)
	}
	if !strings.Contains(note, "printed 4004000 bytes; only the first 64 KiB are kept") {
		t.Errorf("note = %q", note)
	}
	if !strings.HasPrefix(kept, "éé") || strings.ContainsRune(kept, '\uFFFD') {
		t.Errorf("kept output is not clean UTF-8 text")
	}
	small := mustRun(t, r, Request{Name: "print", Source: "print('a', 1)\n"}, nil)
	if small.Output != "a 1\n" {
		t.Errorf("small output = %q", small.Output)
	}
	checkAlive(t, r)
}

func TestArgsRejected(t *testing.T) {
	// No child could ever start: the arguments are refused before that.
	r, err := NewRunner(Options{Executable: "/bin/false", Warm: NoWarm})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	nested := func(n int) any {
		var v any = "leaf"
		for range n {
			v = []any{v}
		}
		return v
	}
	tests := []struct {
		name   string
		args   []any
		kwargs map[string]any
		want   string
	}{
		{"oversized", []any{strings.Repeat("x", 70<<10)}, nil, "the limit is 64 KiB"},
		{"oversized kwargs", nil, map[string]any{"k": strings.Repeat("x", 70<<10)}, "the limit is 64 KiB"},
		{"deep", []any{nested(17)}, nil, "nested deeper than 16 levels"},
		{"deep kwargs", nil, map[string]any{"k": map[string]any{"a": nested(16)}}, "nested deeper than 16 levels"},
		{"not JSON", []any{make(chan int)}, nil, "cannot be encoded as JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, r, Request{Name: "args", Source: "def f(*a, **k):\n    pass\n", Function: "f", Args: tt.args, Kwargs: tt.kwargs}, nil, KindArgs, tt.want)
		})
	}
}

// TestArgsDepthLimit: the deepest allowed arguments reach the script.
func TestArgsDepthLimit(t *testing.T) {
	r := newTestRunner(t, NoWarm)
	var v any = 1
	for range 16 {
		v = []any{v}
	}
	src := "def f(v):\n    n = 0\n    for i in range(100):\n        if type(v) != 'list':\n            break\n        v = v[0]\n        n += 1\n    return n\n"
	res := mustRun(t, r, Request{Name: "depth", Source: src, Function: "f", Args: []any{v}}, nil)
	if string(res.Value) != "16" {
		t.Errorf("depth = %s; want 16", res.Value)
	}
	// The child enforces the same bound on what it is sent.
	if _, _, err := fromJSONArgs([]byte(`[[[[1]]]]`), nil, 2); err == nil || !strings.Contains(err.Error(), "deeper than 2") {
		t.Errorf("child depth check: err = %v", err)
	}
}
