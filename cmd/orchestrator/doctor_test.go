package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
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
	usedBefore := s.requestsToday()
	deep, _, _ := s.runDoctorCmd("--deep")
	for _, id := range []string{"deep.egress_guard", "deep.model"} {
		if r, _ := deep.Find(id); r.Status != doctor.Pass {
			t.Errorf("deep %s: %s (%s)", id, r.Status, r.Evidence)
		}
	}
	if len(s.llm.Requests()) != before+1 {
		t.Errorf("the model probe made %d requests, want 1", len(s.llm.Requests())-before)
	}
	// The probe is counted in the budget: its usage row is in today's
	// usage, as the running orchestrator sees it.
	if r, _ := deep.Find("deep.model"); !strings.Contains(r.Evidence, "counted in today's budget") || strings.Contains(r.Evidence, "NOT") {
		t.Errorf("deep.model evidence %q", r.Evidence)
	}
	if used := s.requestsToday(); used != usedBefore+1 {
		t.Errorf("today's requests went from %d to %d after the probe, want +1", usedBefore, used)
	}
	// The API's deep probe is recorded the same way.
	var api doctor.Report
	if code := s.do("GET", "/api/v1/doctor?deep=1", nil, &api); code != http.StatusOK {
		t.Fatalf("GET /api/v1/doctor?deep=1: %d", code)
	}
	if r, _ := api.Find("deep.model"); r.Status != doctor.Pass || !strings.Contains(r.Evidence, "counted in today's budget") {
		t.Errorf("API deep.model: %s (%s)", r.Status, r.Evidence)
	}
	if used := s.requestsToday(); used != usedBefore+2 {
		t.Errorf("today's requests after the API's probe: %d, want %d", used, usedBefore+2)
	}
	// With the day's request budget used up, the probe is not sent.
	if code := s.do("PUT", "/api/v1/settings", map[string]any{"llm": map[string]any{"requests_per_day": usedBefore + 2}}, nil); code != http.StatusOK {
		t.Fatalf("setting the budget: %d", code)
	}
	before = len(s.llm.Requests())
	deep, _, _ = s.runDoctorCmd("--deep")
	if r, _ := deep.Find("deep.model"); r.Status != doctor.Skipped || !strings.Contains(r.Evidence, "not sent, nothing counted") {
		t.Errorf("deep.model over budget: %s (%s)", r.Status, r.Evidence)
	}
	if n := len(s.llm.Requests()) - before; n != 0 {
		t.Errorf("the model probe over budget made %d requests", n)
	}
}

// requestsToday is today's model calls as GET /api/v1/usage counts them.
func (s *stack) requestsToday() int {
	s.t.Helper()
	var u struct {
		Today struct {
			Requests int `json:"requests"`
		} `json:"today"`
	}
	if code := s.do("GET", "/api/v1/usage", nil, &u); code != http.StatusOK {
		s.t.Fatalf("usage: %d", code)
	}
	return u.Today.Requests
}
