package confine

import (
	"github.com/landlock-lsm/go-landlock/landlock"
)

// Worker confines the AI worker: the socket filter first, then Landlock.
// Call it before anything is read from the socket. It never fails: what
// could not be applied is in the Report's Problems.
func Worker(p WorkerPaths) Report {
	var r Report
	if err := loadFilter(workerPolicy()); err != nil {
		r.problem("the network filter is off: %v", err)
	} else {
		r.Seccomp = true
	}
	r.LandlockABI = landlockABI()
	rules, err := workerRules(p)
	if err == nil {
		err = config.Restrict(rules...)
	}
	r.landlockDone(err, true)
	r.NetworkRefused = probeNetwork()
	if !r.NetworkRefused && r.Seccomp {
		r.problem("a probe could still open an IP socket")
	}
	return r
}

// Child narrows a sandbox child further: no socket, no program, no file.
// It keeps the worker's filter and domain, which it inherited. Files
// opened before the call stay usable.
func Child() Report {
	var r Report
	if err := loadFilter(childPolicy()); err != nil {
		r.problem("the child filter is off: %v", err)
	} else {
		r.Seccomp = true
	}
	r.LandlockABI = landlockABI()
	r.landlockDone(config.Restrict(), true)
	r.NetworkRefused = probeNetwork()
	return r
}

// Orchestrator limits the orchestrator's files with Landlock; its network
// stays open (it reaches the model, Discord and the web). Files opened
// before the call stay usable.
func Orchestrator(p OrchestratorPaths) Report {
	r := Report{LandlockABI: landlockABI()}
	r.landlockDone(landlock.V11.BestEffort().RestrictPaths(orchestratorRules(p)...), false)
	return r
}

// landlockDone records the outcome of a Landlock restriction.
func (r *Report) landlockDone(err error, withNet bool) {
	switch {
	case err != nil:
		r.problem("landlock could not be applied: %v", err)
	case r.LandlockABI == 0:
		r.problem("landlock is missing (kernel without it, or a container engine that refuses its system calls): file and program limits are off")
	default:
		r.LandlockFiles = true
		r.LandlockNet = withNet && r.LandlockABI >= 4
		if withNet && !r.LandlockNet {
			r.problem("landlock ABI %d has no network rules (4 and later do); the seccomp filter alone refuses the network", r.LandlockABI)
		}
	}
}
