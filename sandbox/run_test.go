package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
)

func TestRunEntry(t *testing.T) {
	r := newTestRunner(t, 1)
	tests := []struct {
		name, src, fn string
		args          []any
		kwargs        map[string]any
		want          string
	}{
		{"top level result", "result = {'n': 1}\n", "", nil, nil, `{"n":1}`},
		{"top level without result", "x = 1\n", "", nil, nil, `null`},
		{"args and kwargs", "def f(a, b, c=0, **kw):\n    return [a, b, c, kw]\n", "f",
			[]any{1, 2.5}, map[string]any{"c": "x", "d": map[string]any{"y": []any{true, nil}}},
			`[1,2.5,"x",{"d":{"y":[true,null]}}]`},
		{"big int", "def f(n):\n    return n * n\n", "f", []any{json.Number("123456789012345678901")}, nil,
			`15241578753238836750437433565526596567801`},
		{"struct tuple and str()", "def f():\n    return struct(b=(1, 2), a=time.parse_duration('1s'))\n", "f", nil, nil,
			`{"a":"1s","b":[1,2]}`},
		{"non-string keys and floats", "def f():\n    return {1: float('nan'), 'k': 1e300, 'h': '<&>'}\n", "f", nil, nil,
			`{"1":"nan","k":1e+300,"h":"<&>"}`},
		{"builtins", "def f():\n    return [json.decode(json.encode({'a': 1})), math.sqrt(16), len(dir(http))]\n", "f", nil, nil,
			`[{"a":1},4,3]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := mustRun(t, r, Request{Name: "e", Source: tt.src, Function: tt.fn, Args: tt.args, Kwargs: tt.kwargs}, nil)
			if string(res.Value) != tt.want {
				t.Errorf("value = %s; want %s", res.Value, tt.want)
			}
		})
	}
}

func TestRunErrors(t *testing.T) {
	r := newTestRunner(t, 1)
	tests := []struct {
		name, src, fn, kind, want string
	}{
		{"runtime with position", "def f():\n    x = {}\n    return x['missing']\n", "f", KindRuntime, "e.star:3:13: in f: key \"missing\" not in dict"},
		{"fail", "def f():\n    fail('boom')\n", "f", KindRuntime, "e.star:2:9: in f: fail: boom"},
		{"top level error", "x = 1 // 0\n", "", KindRuntime, "e.star:1:7: in <toplevel>"},
		{"no such function", "def f():\n    pass\n", "g", KindRuntime, `no function "g"`},
		{"not callable", "g = 1\n", "g", KindRuntime, `"g" is a int, not a function`},
		{"indirect recursion", "def a(n=1):\n    return b(n)\ndef b(n):\n    return a(n)\n", "a", KindRuntime, "called recursively"},
		{"module is frozen", "def f():\n    json.x = 1\n", "f", KindRuntime, "e.star:2:9"},
		{"while", "def f():\n    while True:\n        pass\n", "f", KindCompile, "while"},
		{"recursion", "def f(n):\n    return f(n)\n", "f", KindCompile, "recursion is not allowed"},
		{"load", "load('x.star', 'y')\n", "", KindCompile, "load is not allowed"},
		{"set", "def f():\n    return set([1])\n", "f", KindCompile, "does not support sets"},
		{"no open", "def f():\n    return open('/etc/passwd')\n", "f", KindCompile, "undefined: open"},
		{"syntax", "def f(:\n", "f", KindCompile, "e.star:1:8: got ':'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, r, Request{Name: "e", Source: tt.src, Function: tt.fn}, nil, tt.kind, tt.want)
			checkAlive(t, r)
		})
	}
}

func TestPredeclaredMatchesCheck(t *testing.T) {
	var names []string
	for name := range (&run{}).predeclared() {
		names = append(names, name)
	}
	slices.Sort(names)
	want := slices.Sorted(slices.Values(Predeclared))
	if !slices.Equal(names, want) {
		t.Errorf("child predeclares %v; Check allows %v", names, want)
	}
}

func TestRunCancel(t *testing.T) {
	r := newTestRunner(t, NoWarm)
	ctx, cancel := context.WithCancel(context.Background())
	src := "def f():\n    http.get('https://example.test/')\n    for i in range(1 << 62):\n        pass\n"
	hf := func(context.Context, HTTPRequest) (HTTPResponse, error) {
		cancel() // the script is running now
		return HTTPResponse{Status: 200}, nil
	}
	_, err := r.Run(ctx, Request{Name: "c", Source: src, Function: "f", Limits: Limits{MaxSteps: 1 << 62}}, hf)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v; want context.Canceled", err)
	}
	checkAlive(t, r)
}

func TestClose(t *testing.T) {
	r, err := NewRunner(Options{Warm: 2})
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	r.Close()
	if _, err := r.Run(context.Background(), Request{Source: "result = 1\n"}, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("run after Close: err = %v; want ErrClosed", err)
	}
}

func TestLimitsDefaults(t *testing.T) {
	got := Limits{Timeout: 5 * 60e9}.withDefaults()
	if got.Timeout != MaxTimeout || got.CPUTime != maxCPUTime || got.MemoryBytes != DefaultMemoryBytes ||
		got.MaxSteps != DefaultMaxSteps || got.MaxPrintBytes != DefaultMaxPrintBytes {
		t.Errorf("withDefaults = %+v", got)
	}
	if got := (Limits{}).withDefaults(); got.Timeout != DefaultTimeout || got.CPUTime != DefaultTimeout+1e9 {
		t.Errorf("zero withDefaults = %+v", got)
	}
}
