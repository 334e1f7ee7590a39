package sandbox

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"
)

func TestMain(m *testing.M) {
	MaybeChild()
	os.Exit(m.Run())
}

// newTestRunner returns a Runner closed at the end of the test.
func newTestRunner(t testing.TB, warm int) *Runner {
	t.Helper()
	r, err := NewRunner(Options{Warm: warm, Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

// mustRun runs req and fails the test on error.
func mustRun(t *testing.T, r *Runner, req Request, hf HTTPFunc) Result {
	t.Helper()
	res, err := r.Run(context.Background(), req, hf)
	if err != nil {
		t.Fatalf("run %s: %v", req.Name, err)
	}
	return res
}

// wantError runs req and checks it fails with an *Error of kind whose
// message contains want.
func wantError(t *testing.T, r *Runner, req Request, hf HTTPFunc, kind, want string) *Error {
	t.Helper()
	_, err := r.Run(context.Background(), req, hf)
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("%s: err = %v; want a sandbox error of kind %q", req.Name, err, kind)
	}
	if se.Kind != kind || !strings.Contains(se.Message, want) {
		t.Fatalf("%s: err = %v; want kind %q mentioning %q", req.Name, err, kind, want)
	}
	return se
}

// checkAlive runs a trivial script in r: after any failure, the next run
// must work.
func checkAlive(t *testing.T, r *Runner) {
	t.Helper()
	res := mustRun(t, r, Request{Name: "alive", Source: "def main(x):\n    return x + 1\n", Function: "main", Args: []any{41}}, nil)
	if string(res.Value) != "42" {
		t.Fatalf("next run: value = %s; want 42", res.Value)
	}
}

// testWriter sends the Runner's log (crash diagnostics) to the test log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
