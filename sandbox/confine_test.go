package sandbox

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// A real child confines itself before it says "ready": its own seccomp
// filter is in the kernel's view of it, and its report says the network
// is refused. What the filter and the Landlock domain refuse (TCP, Unix
// sockets, reading files, exec /bin/sh) is proven in secure/confine.
func TestChildConfinesItselfBeforeReady(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c, err := spawn(exe, DefaultMemoryBytes)
	if err != nil {
		t.Fatal(err)
	}
	defer c.release()
	if err := c.awaitReady(readyTimeout); err != nil {
		t.Fatal(err)
	}
	rep := c.confinement
	if !rep.Seccomp || !rep.NetworkRefused {
		t.Fatalf("child's report %+v; want its filter on and the network refused", rep)
	}
	if rep.LandlockABI > 0 && !rep.LandlockFiles {
		t.Fatalf("kernel has Landlock ABI %d but the child did not apply it: %v", rep.LandlockABI, rep.Problems)
	}
	status, err := os.ReadFile("/proc/" + strconv.Itoa(c.cmd.Process.Pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	var mode, filters string
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, "Seccomp:"); ok {
			mode = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(line, "Seccomp_filters:"); ok {
			filters = strings.TrimSpace(v)
		}
	}
	if mode != "2" || filters == "" || filters == "0" {
		t.Fatalf("child's /proc status: Seccomp %q, Seccomp_filters %q; want mode 2 with a filter", mode, filters)
	}
}
