package main

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The real binaries in dev mode, without root: the worker confines itself
// (no_new_privs, its own filter, Landlock), the orchestrator sees it in
// the kernel and reports it, and limits its own files.
func TestDevModeWorkerIsConfined(t *testing.T) {
	s := startStack(t, stackOpts{dev: true})
	s.waitReady()
	type status struct {
		Worker struct {
			PID         int `json:"pid"`
			Confinement struct {
				Confined      bool `json:"confined"`
				KernelSeccomp bool `json:"kernel_seccomp"`
				NoNewPrivs    bool `json:"no_new_privs"`
				Reported      *struct {
					Seccomp        bool     `json:"seccomp"`
					LandlockABI    int      `json:"landlock_abi"`
					LandlockFiles  bool     `json:"landlock_files"`
					NetworkRefused bool     `json:"network_refused"`
					Problems       []string `json:"problems"`
				} `json:"reported"`
			} `json:"confinement"`
		} `json:"worker"`
		Orchestrator struct {
			Confinement struct {
				LandlockFiles bool     `json:"landlock_files"`
				LandlockABI   int      `json:"landlock_abi"`
				Problems      []string `json:"problems"`
			} `json:"confinement"`
		} `json:"orchestrator"`
	}
	var st status
	waitFor(t, 10*time.Second, "the worker's confinement report", func() bool {
		st = status{}
		s.do("GET", "/api/v1/status", nil, &st)
		return st.Worker.Confinement.Reported != nil
	})
	wc := st.Worker.Confinement
	if !wc.KernelSeccomp || !wc.NoNewPrivs || !wc.Reported.Seccomp || !wc.Reported.NetworkRefused {
		t.Fatalf("worker confinement %+v, reported %+v; want the kernel's filter, no_new_privs and the network refused",
			wc, *wc.Reported)
	}
	abi := wc.Reported.LandlockABI
	if abi > 0 != wc.Confined || abi > 0 != wc.Reported.LandlockFiles {
		t.Errorf("Landlock ABI %d, files %v, confined %v: want all or nothing", abi, wc.Reported.LandlockFiles, wc.Confined)
	}
	if oc := st.Orchestrator.Confinement; oc.LandlockFiles != (abi > 0) {
		t.Errorf("orchestrator confinement %+v with kernel ABI %d", oc, abi)
	}
	proc, err := os.ReadFile("/proc/" + strconv.Itoa(st.Worker.PID) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(proc), "\nSeccomp:\t2\n") {
		t.Errorf("the worker's /proc status shows no seccomp filter")
	}
	if abi > 0 && len(logLines(s.logs.String(), "NOT FULLY CONFINED")) > 0 {
		t.Errorf("a confinement warning in the logs although the kernel has Landlock:\n%s",
			strings.Join(logLines(s.logs.String(), "NOT"), "\n"))
	}
}
