package deploy_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type doctorResult struct {
	ID, Title, Severity, Status, Evidence, Fix string
}

// doctor runs `orchestrator doctor --json` in the container as
// airlock-system, as docs/doctor.md tells operators to, and returns the
// results by ID and the exit status.
func (s *stack) doctor(ctx context.Context, t *testing.T) (map[string]doctorResult, int) {
	t.Helper()
	out, err := s.exec(ctx, "airlock-system", "orchestrator", "doctor", "--json")
	code := 0
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("doctor: %v", err)
	}
	var rep struct {
		Checks []doctorResult `json:"checks"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("doctor --json: %v\n%s", err, tail(out, 40))
	}
	m := map[string]doctorResult{}
	for _, c := range rep.Checks {
		m[c.ID] = c
	}
	return m, code
}

// checkDoctor: on the shipped compose file every check passes. The test
// override gives the LLM key in a plain environment variable on purpose
// (the canary), which doctor reports; nothing else may warn or fail.
func checkDoctor(ctx context.Context, t *testing.T, s *stack) {
	res, code := s.doctor(ctx, t)
	landlockWarn := false
	for id, r := range res {
		switch {
		case id == "secrets.plain_env":
			if r.Status != "warn" || !strings.Contains(r.Evidence, "AIRLOCK_LLM_API_KEY") {
				t.Errorf("%s: %+v, want the test override's plain AIRLOCK_LLM_API_KEY", id, r)
			}
		case (id == "worker.confinement" || id == "process.landlock") && r.Status == "warn":
			// Landlock depends on the engine and kernel (as in
			// checkKernelConfinement): only its absence may warn.
			if !strings.Contains(strings.ToLower(r.Evidence), "landlock") {
				t.Errorf("%s: %+v", id, r)
			}
			t.Logf("%s warns (no Landlock here): %s", id, r.Evidence)
			landlockWarn = true
		case r.Status == "fail" || r.Status == "warn" && r.Severity != "info":
			t.Errorf("%s: %s: %s", id, r.Status, r.Evidence)
		}
	}
	for _, id := range []string{"process.not_root", "process.readonly_root", "process.container_caps", "process.cap_eff",
		"worker.connected", "worker.uid", "worker.groups", "worker.cap_eff", "worker.data_access",
		"files.database", "files.socket", "data.audit_chain"} {
		if res[id].Status != "pass" {
			t.Errorf("%s: %s (%s), want pass in the container", id, res[id].Status, res[id].Evidence)
		}
	}
	if code != 1 { // the warnings above
		t.Errorf("exit status %d, want 1 (the test override's plain-env key, landlock warning %v)", code, landlockWarn)
	}
	for _, r := range res {
		t.Logf("doctor: %-7s %-28s %s", r.Status, r.ID, r.Evidence)
	}
}

// checkDoctorWeakened recreates the container from a weakened override (no
// read_only, an added capability) and makes a data file world-readable:
// doctor reports each one and exits 2.
func checkDoctorWeakened(ctx context.Context, t *testing.T, s *stack, a api) {
	weak := filepath.Join(t.TempDir(), "weak.yaml")
	if err := os.WriteFile(weak, []byte("services:\n  airlock:\n    read_only: false\n    cap_add: [NET_ADMIN]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.composeRun(ctx, "-f", weak, "up", "-d", "--no-build"); err != nil {
		t.Fatalf("compose up with the weakened override: %v", err)
	}
	out, err := s.composeRun(ctx, "ps", "-q", "airlock")
	if s.id = strings.TrimSpace(out); err != nil || s.id == "" {
		t.Fatalf("find the airlock container: %q %v", out, err)
	}
	if _, err := a.waitReady(ctx, false, 2*time.Minute); err != nil {
		t.Fatalf("not ready after the weakened restart: %v", err)
	}
	if _, err := s.exec(ctx, "airlock-system", "chmod", "0644", "/data/secure/airlock.db"); err != nil {
		t.Fatalf("chmod: %v", err)
	}
	var res map[string]doctorResult
	var code int
	// The worker reconnects within seconds of the restart.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(time.Second) {
		res, code = s.doctor(ctx, t)
		if res["worker.connected"].Status == "pass" || time.Now().After(deadline) {
			break
		}
	}
	want := map[string]string{"process.readonly_root": "fail", "process.container_caps": "fail",
		"files.database": "fail", "files.data_modes": "warn"}
	for id, st := range want {
		if res[id].Status != st {
			t.Errorf("%s: %s (%s), want %s", id, res[id].Status, res[id].Evidence, st)
		}
	}
	if !strings.Contains(res["process.container_caps"].Evidence, "CAP_NET_ADMIN") ||
		!strings.Contains(res["files.database"].Evidence, "airlock.db 0644") {
		t.Errorf("evidence: %q, %q", res["process.container_caps"].Evidence, res["files.database"].Evidence)
	}
	if code != 2 {
		t.Errorf("exit status %d, want 2", code)
	}
}
