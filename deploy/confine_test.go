package deploy_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// checkKernelConfinement (issue 19): the live worker carries a seccomp
// filter of its own on top of the engine's, a script run in the container
// reaches nothing on 127.0.0.1:8080, and the API and /metrics report the
// confinement as the kernel allowed it.
func checkKernelConfinement(ctx context.Context, t *testing.T, s *stack, a api) {
	orch, worker, err := s.children(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wf, _ := strconv.Atoi(worker.fields["Seccomp_filters"])
	of, _ := strconv.Atoi(orch.fields["Seccomp_filters"])
	t.Logf("worker pid %d: Seccomp %s, Seccomp_filters %d (orchestrator: %d), NoNewPrivs %s", worker.pid,
		worker.fields["Seccomp"], wf, of, worker.fields["NoNewPrivs"])
	if worker.fields["Seccomp"] != "2" || wf <= of || worker.fields["NoNewPrivs"] != "1" {
		t.Errorf("the live worker's /proc status shows no filter of its own: Seccomp %q, %d filters (orchestrator %d), NoNewPrivs %q",
			worker.fields["Seccomp"], wf, of, worker.fields["NoNewPrivs"])
	}

	type confinement struct {
		Confined      bool `json:"confined"`
		KernelSeccomp bool `json:"kernel_seccomp"`
		Reported      *struct {
			Seccomp        bool     `json:"seccomp"`
			LandlockABI    int      `json:"landlock_abi"`
			LandlockFiles  bool     `json:"landlock_files"`
			LandlockNet    bool     `json:"landlock_net"`
			NetworkRefused bool     `json:"network_refused"`
			Problems       []string `json:"problems"`
		} `json:"reported"`
	}
	var st struct {
		Worker struct {
			Confinement confinement `json:"confinement"`
		} `json:"worker"`
		Orchestrator struct {
			Confinement struct {
				LandlockFiles bool     `json:"landlock_files"`
				LandlockABI   int      `json:"landlock_abi"`
				Problems      []string `json:"problems"`
			} `json:"confinement"`
		} `json:"orchestrator"`
	}
	deadline := time.Now().Add(40 * time.Second) // a respawned worker reports on its first poll
	for {
		if _, err := a.do(ctx, "GET", "/api/v1/status", nil, &st); err != nil {
			t.Fatal(err)
		}
		if st.Worker.Confinement.Reported != nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	wc := st.Worker.Confinement
	if wc.Reported == nil {
		t.Fatal("the worker never reported its confinement")
	}
	r := wc.Reported
	t.Logf("status: worker confined=%v kernel_seccomp=%v reported=%+v; orchestrator %+v", wc.Confined, wc.KernelSeccomp,
		*r, st.Orchestrator.Confinement)
	if !wc.KernelSeccomp || !r.Seccomp || !r.NetworkRefused {
		t.Errorf("status: the worker's filter or network refusal is not reported: %+v %+v", wc, *r)
	}
	// Landlock depends on the engine: Docker before 23 refuses its system
	// calls. Either it is applied, or the report says it is missing.
	if r.LandlockFiles != wc.Confined || (!r.LandlockFiles && !strings.Contains(strings.Join(r.Problems, " "), "landlock")) {
		t.Errorf("status: Landlock files %v, confined %v, problems %q: want consistent", r.LandlockFiles, wc.Confined, r.Problems)
	}
	t.Logf("PERF worker_landlock_abi=%d orchestrator_landlock=%v", r.LandlockABI, st.Orchestrator.Confinement.LandlockFiles)

	metrics := s.metrics(ctx, t)
	for _, want := range []string{"airlock_worker_seccomp 1", "airlock_worker_network_refused 1",
		"airlock_worker_confined " + map[bool]string{true: "1", false: "0"}[wc.Confined]} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	// A script that tries the admin port, its host granted: the request
	// is made by the orchestrator through the egress guard, never by the
	// sandbox, and refused.
	peek := proposeScript(ctx, t, s, a, "peek", "# @description: tries the admin port\n# @hosts: localhost\n"+
		"def main():\n    r = http.get(\"http://localhost:8080/healthz\")\n    return r.status\n")
	if code, err := a.do(ctx, "POST", "/api/v1/scripts/peek/versions/"+peek+"/approve", nil, nil); err != nil || code != http.StatusOK {
		t.Fatalf("approve: %d %v", code, err)
	}
	var tr testRun
	if code, err := a.do(ctx, "POST", "/api/v1/scripts/peek/test", map[string]any{"function": "main"}, &tr); err != nil || code != http.StatusOK {
		t.Fatalf("test run of peek: %d %v", code, err)
	}
	t.Logf("peek: %+v", tr)
	if tr.OK || strings.Contains(tr.Output, "200") {
		t.Errorf("a script reached 127.0.0.1:8080 from the container: %+v", tr)
	}
}

// metrics reads /metrics from inside the container (it answers loopback).
func (s *stack) metrics(ctx context.Context, t *testing.T) string {
	t.Helper()
	out, err := s.exec(ctx, "10001", "wget", "-q", "-O", "-", "http://127.0.0.1:8080/metrics")
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	return out
}
