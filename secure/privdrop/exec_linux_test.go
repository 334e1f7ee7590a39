package privdrop

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestExecDropsEverything runs Exec for real, as root, in a child process
// (the test binary again) that becomes nobody with one extra group and
// prints its own /proc status through /bin/cat.
func TestExecDropsEverything(t *testing.T) {
	if os.Getenv("PRIVDROP_CHILD") == "1" {
		err := Exec(Spec{UID: 65534, GID: 65534, Groups: []int{65533, 65533}, Path: "/bin/sh",
			Args: []string{"sh", "-c", `cat /proc/self/status; echo "environ: $(cat /proc/self/environ | tr '\0' ' ')"`},
			Env:  []string{"X=1", "PATH=/usr/bin:/bin"}})
		os.Stderr.WriteString("exec returned: " + err.Error())
		os.Exit(3)
	}
	needRoot(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestExecDropsEverything$")
	cmd.Env = append(os.Environ(), "PRIVDROP_CHILD=1")
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("child: %v\n%s%s", err, out, stderr)
	}
	s := string(out)
	if !strings.Contains(s, "Name:\tcat") {
		t.Fatalf("the program did not run:\n%s", s)
	}
	// The program's environment is exactly Spec.Env: nothing of the
	// parent's (which holds PRIVDROP_CHILD) is left.
	_, environ, _ := strings.Cut(s, "environ: ")
	got := map[string]bool{}
	for _, kv := range strings.Fields(environ) {
		if !strings.HasPrefix(kv, "PWD=") { // set by sh itself
			got[kv] = true
		}
	}
	if len(got) != 2 || !got["X=1"] || !got["PATH=/usr/bin:/bin"] {
		t.Errorf("the program's environment is %v, want exactly Spec.Env (X=1, PATH)", got)
	}
	if err := checkStatus(out, Spec{UID: 65534, GID: 65534, Groups: []int{65533}}); err != nil {
		t.Errorf("%v\n%s", err, s)
	}
}

// TestExecRefusedWithoutRoot: a process that cannot change user gets an
// error and keeps running; the program never starts.
func TestExecRefusedWithoutRoot(t *testing.T) {
	if os.Getenv("PRIVDROP_CHILD") == "2" {
		err := Exec(Spec{UID: 65533, GID: 65533, Path: "/bin/true", Args: []string{"true"}})
		if err == nil {
			os.Exit(4)
		}
		os.Stdout.WriteString("refused: " + err.Error())
		os.Exit(0)
	}
	needRoot(t) // to become someone else first
	// The child starts as nobody, without capabilities: Exec must fail. It
	// runs from a copy of the test binary that nobody may execute.
	dir, err := os.MkdirTemp("", "privdrop")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "privdrop.test")
	if err := os.WriteFile(exe, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestExecRefusedWithoutRoot$")
	cmd.Env = append(os.Environ(), "PRIVDROP_CHILD=2")
	cmd.SysProcAttr = nobody()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "refused: bounding set") {
		t.Errorf("want a refusal at the first step (bounding set), got:\n%s", out)
	}
}

// needRoot skips a test that must change user, unless AIRLOCK_REQUIRE_E2E=1
// (CI), where not being root is a failure.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("AIRLOCK_REQUIRE_E2E") == "1" {
		t.Fatal("needs root (AIRLOCK_REQUIRE_E2E=1 forbids skipping)")
	}
	t.Skip("needs root")
}

// TestExecValidatesFirst: a Spec Validate refuses never reaches the drop
// (replaced here, so that a regression cannot change this test process's
// own identity).
func TestExecValidatesFirst(t *testing.T) {
	reached := false
	defer func(d func(Spec) error) { drop = d }(drop)
	drop = func(Spec) error { reached = true; return nil }
	for _, s := range []Spec{
		{UID: 0, GID: 10002, Path: "/bin/true", Args: []string{"true"}},
		{UID: 10002, GID: 10002, Path: "true", Args: []string{"true"}},
		{UID: 10002, GID: 10002, Groups: []int{0}, Path: "/bin/true", Args: []string{"true"}},
	} {
		if err := Exec(s); err == nil || reached {
			t.Fatalf("Exec(%+v) = %v, drop reached %v", s, err, reached)
		}
	}
	if err := Exec(Spec{UID: 10002, GID: 10002, Path: "/bin/true", Args: []string{"true"}}); err != nil || !reached {
		t.Fatalf("a valid Spec: %v, drop reached %v", err, reached)
	}
}
