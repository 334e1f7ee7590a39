package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/airlockhq/airlock/orchestrator/doctor"
)

// runDoctorCmd runs `orchestrator doctor --dev --json` (the real binary)
// against the stack's data and returns its report and exit status.
func (s *stack) runDoctorCmd(args ...string) (doctor.Report, int, string) {
	s.t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "orchestrator"), append([]string{"doctor", "--dev", "--json"}, args...)...)
	cmd.Dir, cmd.Env = s.dir, s.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	code := 0
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			s.t.Fatalf("doctor: %v", err)
		}
		code = ee.ExitCode()
	}
	var rep doctor.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		s.t.Fatalf("doctor --json: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	return rep, code, stdout.String() + stderr.String()
}

// The command finds the running orchestrator and its live worker (the PID
// the socket's peer credentials gave), reads the database without
// changing it, names the plain-env key without showing it, and exits 1
// for dev mode's warnings. --deep probes the egress guard and the model.
func TestDoctorCommand(t *testing.T) {
	s := startStack(t, stackOpts{dev: true})
	s.waitReady()
	pid := s.workerPID()
	var rep doctor.Report
	var code int
	var out string
	waitFor(t, 10*time.Second, "doctor to see the live worker", func() bool {
		rep, code, out = s.runDoctorCmd()
		r, _ := rep.Find("worker.connected")
		return r.Status == doctor.Pass
	})
	if strings.Contains(out, canaryKey) {
		t.Fatal("the LLM key is in doctor's output")
	}
	want := map[string]doctor.Status{"worker.connected": doctor.Pass, "ai.dev_mode": doctor.Warn,
		"secrets.plain_env": doctor.Warn, "data.audit_chain": doctor.Pass, "data.integrity": doctor.Pass,
		"setup.window": doctor.Pass, "files.data_dir": doctor.Pass, "files.database": doctor.Pass,
		"worker.uid": doctor.Skipped, "deep.model": doctor.Skipped}
	for id, st := range want {
		if r, _ := rep.Find(id); r.Status != st {
			t.Errorf("%s: %s (%s), want %s", id, r.Status, r.Evidence, st)
		}
	}
	if r, _ := rep.Find("worker.connected"); !strings.Contains(r.Evidence, "pid "+strconv.Itoa(pid)) {
		t.Errorf("worker.connected evidence %q, want pid %d", r.Evidence, pid)
	}
	if r, _ := rep.Find("worker.confinement"); r.Status == doctor.Skipped {
		t.Errorf("worker.confinement skipped: %s", r.Evidence)
	}
	if code != 1 && code != 2 {
		t.Errorf("exit status %d with dev mode's warning", code)
	}
	before := len(s.llm.Requests())
	deep, _, _ := s.runDoctorCmd("--deep")
	for _, id := range []string{"deep.egress_guard", "deep.model"} {
		if r, _ := deep.Find(id); r.Status != doctor.Pass {
			t.Errorf("deep %s: %s (%s)", id, r.Status, r.Evidence)
		}
	}
	if len(s.llm.Requests()) != before+1 {
		t.Errorf("the model probe made %d requests, want 1", len(s.llm.Requests())-before)
	}
}
