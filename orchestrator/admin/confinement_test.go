package admin

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/worker"
	"github.com/airlockhq/airlock/secure/confine"
)

// The worker's confinement, as the orchestrator knows it, shows on the
// dashboard's worker card, in /api/v1/status and in /metrics; so does
// the orchestrator's own.
func TestConfinementIsVisible(t *testing.T) {
	own := &confine.Report{LandlockABI: 7, LandlockFiles: true}
	e := newEnv(t, func(d *Deps) { d.Confinement = own })
	e.setup()
	e.queue.SetConfinement(4242, worker.Confinement{KernelSeccomp: true, KernelNoNewPrivs: true,
		Reported: &tools.Confinement{Seccomp: true, LandlockABI: 7, LandlockFiles: true, LandlockNet: true, NetworkRefused: true}})

	b := e.login()
	code, page := b.get("/")
	if code != http.StatusOK {
		t.Fatalf("dashboard: %d", code)
	}
	for _, want := range []string{`<span class="badge ok">confined</span>`, "on (seen by the kernel)",
		"ABI 7, files and TCP", "network: refused", "orchestrator files: limited by Landlock ABI 7"} {
		if !strings.Contains(page, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}

	var st struct {
		Worker struct {
			Confinement struct {
				Confined      bool               `json:"confined"`
				KernelSeccomp bool               `json:"kernel_seccomp"`
				Reported      *tools.Confinement `json:"reported"`
			} `json:"confinement"`
		} `json:"worker"`
		Orchestrator struct {
			Confinement struct {
				LandlockFiles bool `json:"landlock_files"`
				LandlockABI   int  `json:"landlock_abi"`
			} `json:"confinement"`
		} `json:"orchestrator"`
	}
	if code := e.api(e.apiToken(), "GET", "/api/v1/status", nil, &st); code != http.StatusOK {
		t.Fatalf("status: %d", code)
	}
	wc := st.Worker.Confinement
	if !wc.Confined || !wc.KernelSeccomp || wc.Reported == nil || wc.Reported.LandlockABI != 7 || !wc.Reported.NetworkRefused {
		t.Errorf("status worker confinement %+v", wc)
	}
	if oc := st.Orchestrator.Confinement; !oc.LandlockFiles || oc.LandlockABI != 7 {
		t.Errorf("status orchestrator confinement %+v", oc)
	}

	metrics := func() string {
		resp, err := http.Get(e.srv.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	m := metrics()
	for _, want := range []string{"airlock_worker_confined 1", "airlock_worker_seccomp 1", "airlock_worker_network_refused 1",
		"airlock_worker_landlock_abi 7", "airlock_orchestrator_landlock 1"} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q", want)
		}
	}

	// A worker the kernel shows unfiltered, that says it has no Landlock.
	e.queue.SetConfinement(4243, worker.Confinement{Reported: &tools.Confinement{LandlockABI: 0,
		Problems: []string{"landlock is missing <b>here</b>"}}})
	_, page = b.get("/")
	for _, want := range []string{`<span class="badge warn">not confined</span>`, "seccomp filter: not seen",
		"Landlock: absent", "network: NOT refused", "landlock is missing &lt;b&gt;here&lt;/b&gt;"} {
		if !strings.Contains(page, want) {
			t.Errorf("dashboard of an unconfined worker lacks %q", want)
		}
	}
	m = metrics()
	for _, want := range []string{"airlock_worker_confined 0", "airlock_worker_seccomp 0", "airlock_worker_landlock_abi 0"} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics of an unconfined worker lack %q", want)
		}
	}
}
