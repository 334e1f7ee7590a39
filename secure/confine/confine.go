package confine

import (
	"fmt"
	"strings"
)

// Report says how far a process confined itself.
type Report struct {
	// Seccomp is set when the socket filter is installed on every thread.
	Seccomp bool
	// LandlockABI is the kernel's Landlock ABI version; 0 when it has none
	// or the container engine refuses the Landlock system calls.
	LandlockABI int
	// LandlockFiles is set when the file and program rules are enforced.
	LandlockFiles bool
	// LandlockNet is set when Landlock also refuses TCP bind and connect
	// (ABI 4 and later).
	LandlockNet bool
	// NetworkRefused is set when a probe after confinement found that
	// opening an IPv4 or IPv6 socket fails with EPERM.
	NetworkRefused bool
	// Problems lists what could not be applied, in words for the log.
	Problems []string
}

// Confined reports whether the network is refused and the file rules are
// in force: the state every worker should be in.
func (r Report) Confined() bool { return r.Seccomp && r.NetworkRefused && r.LandlockFiles }

// String is a one-line summary for logs and the dashboard.
func (r Report) String() string {
	var parts []string
	parts = append(parts, onOff("seccomp", r.Seccomp))
	if r.LandlockABI == 0 {
		parts = append(parts, "landlock absent")
	} else {
		ll := fmt.Sprintf("landlock ABI %d", r.LandlockABI)
		switch {
		case r.LandlockFiles && r.LandlockNet:
			ll += " (files, TCP)"
		case r.LandlockFiles:
			ll += " (files)"
		default:
			ll += " (not applied)"
		}
		parts = append(parts, ll)
	}
	if r.NetworkRefused {
		parts = append(parts, "network refused")
	} else {
		parts = append(parts, "network NOT refused")
	}
	return strings.Join(parts, ", ")
}

func onOff(name string, on bool) string {
	if on {
		return name + " on"
	}
	return name + " off"
}

func (r *Report) problem(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// WorkerPaths are what the worker may still touch once confined.
type WorkerPaths struct {
	// Executable is the worker's own binary: read and executed (the
	// sandbox children).
	Executable string
	// TempDir is the worker's own temporary directory: read and written.
	TempDir string
	// Socket is the MCP socket: connected to (any socket in its
	// directory, which must exist).
	Socket string
}

// OrchestratorPaths are what the orchestrator may still touch once
// confined, besides the system files every process needs (CA
// certificates, name resolution, time zones, /proc, /dev/null).
type OrchestratorPaths struct {
	// ReadWrite are directories read and written: the data directory,
	// the socket directory, the temporary directory.
	ReadWrite []string
	// Sockets are directories whose Unix sockets it connects to.
	Sockets []string
	// Programs are executables it reads and runs: its own and the worker's.
	Programs []string
	// Read are files or directories only read, such as the configuration.
	Read []string
}
