package doctor

import (
	"context"
	"slices"
	"strconv"
	"strings"
)

// orchPID is the process the orchestrator checks look at: the running
// orchestrator's, or this one's.
func (e *Env) orchPID() string {
	if e.Live.OrchestratorPID > 0 {
		return strconv.Itoa(e.Live.OrchestratorPID)
	}
	return "self"
}

// ownStatus reads the orchestrator's /proc status.
func (e *Env) ownStatus() (procStatus, error) { return readStatus(e.ProcRoot, e.orchPID()) }

func processChecks() []check {
	return []check{
		{"process.not_root", "The orchestrator does not run as root", Critical,
			"run it as airlock-system: use the shipped compose file and entrypoint.sh, never `user: root`",
			func(_ context.Context, e *Env) (Status, string) {
				st, err := e.ownStatus()
				if err != nil {
					return failf("cannot read the process status: %v", err)
				}
				if slices.Contains(st.UID, 0) {
					return failf("uid %v (real, effective, saved, fs) includes root", st.UID)
				}
				return okf("uid %d", st.UID[1])
			}},
		{"process.no_new_privs", "The orchestrator has no_new_privs", High,
			"keep `security_opt: [no-new-privileges:true]` in compose and `orchestrator exec-as` (which sets no_new_privs) in entrypoint.sh",
			statusCheck(func(st procStatus) (Status, string) {
				if st.NoNewPrivs != 1 {
					return failf("NoNewPrivs %d", st.NoNewPrivs)
				}
				return okf("NoNewPrivs 1")
			})},
		{"process.cap_eff", "The orchestrator holds no capability", High,
			"keep `cap_drop: [ALL]` and add no capability beyond entrypoint.sh's five; the children drop them all",
			statusCheck(func(st procStatus) (Status, string) {
				if st.CapEff != 0 || st.CapPrm != 0 {
					return failf("CapEff %016x CapPrm %016x (%s)", st.CapEff, st.CapPrm, capNames(st.CapEff|st.CapPrm))
				}
				return okf("CapEff 0, CapPrm 0")
			})},
		{"process.seccomp", "The orchestrator runs under a seccomp filter", Medium,
			"do not set `security_opt: [seccomp:unconfined]`; keep the container engine's default profile",
			statusCheck(func(st procStatus) (Status, string) {
				if st.Seccomp != 2 {
					return failf("Seccomp mode %d (2 is filter)", st.Seccomp)
				}
				return okf("Seccomp mode 2 (filter)")
			})},
		{"process.readonly_root", "The root filesystem is read-only", Medium,
			"keep `read_only: true` in compose (tmpfs for /tmp and /run/airlock)",
			containerOnly(func(e *Env) (Status, string) {
				opts, err := rootMountOptions(e.ProcRoot, e.orchPID())
				if err != nil {
					return failf("cannot read the mounts: %v", err)
				}
				if !slices.Contains(opts, "ro") {
					return failf("/ is mounted %s", strings.Join(opts, ","))
				}
				return okf("/ is mounted read-only")
			})},
		{"process.memory_limit", "The container has a memory limit", Medium,
			"keep `mem_limit` (AIRLOCK_MEM_LIMIT, default 512m) in compose",
			containerOnly(func(e *Env) (Status, string) { return cgroupCheck(e, memoryMax) })},
		{"process.pids_limit", "The container has a process-count limit", Medium,
			"keep `pids_limit: 256` in compose",
			containerOnly(func(e *Env) (Status, string) { return cgroupCheck(e, pidsMax) })},
		{"process.container_caps", "The container grants only entrypoint.sh's capabilities", High,
			"remove every cap_add beyond CHOWN, SETUID, SETGID, SETPCAP and KILL from compose (keep cap_drop: [ALL])",
			containerOnly(func(e *Env) (Status, string) {
				st, err := readStatus(e.ProcRoot, "1")
				if err != nil {
					return skipf("cannot read the container's first process: %v", err)
				}
				if extra := st.CapBnd &^ entrypointCaps; extra != 0 {
					return failf("the container's bounding set also holds %s", capNames(extra))
				}
				return okf("bounding set %s", capNames(st.CapBnd))
			})},
		{"process.landlock", "The orchestrator's files are limited by Landlock", Low,
			"run on a kernel with Landlock (5.13+) and do not set AIRLOCK_ORCHESTRATOR_LANDLOCK=off",
			func(_ context.Context, e *Env) (Status, string) {
				if !e.Live.Running {
					return skipf("no running orchestrator found to ask")
				}
				if !e.Live.LandlockFiles {
					return warnf("not limited: %s", strings.Join(e.Live.LandlockNotes, "; "))
				}
				return okf("Landlock ABI %d on the orchestrator's files", e.Live.LandlockABI)
			}},
	}
}

// statusCheck adapts a check of the orchestrator's /proc status; it is
// skipped in dev mode, where the process is the developer's.
func statusCheck(f func(procStatus) (Status, string)) func(context.Context, *Env) (Status, string) {
	return containerOnly(func(e *Env) (Status, string) {
		st, err := e.ownStatus()
		if err != nil {
			return failf("cannot read the process status: %v", err)
		}
		return f(st)
	})
}

// containerOnly skips f in dev mode.
func containerOnly(f func(*Env) (Status, string)) func(context.Context, *Env) (Status, string) {
	return func(_ context.Context, e *Env) (Status, string) {
		if e.Config.Dev {
			return skipf(skipDev)
		}
		return f(e)
	}
}

func cgroupCheck(e *Env, f cgroupFile) (Status, string) {
	file := f.v2
	v, err := cgroupLimit(e.ProcRoot, e.CgroupRoot, e.orchPID(), f)
	if err != nil {
		return warnf("cannot read %s: %v", file, err)
	}
	if v == "max" {
		return failf("%s is max (no limit)", file)
	}
	return okf("%s %s", file, v)
}

// entrypointCaps are the capabilities compose grants entrypoint.sh:
// CHOWN (0), KILL (5), SETGID (6), SETUID (7), SETPCAP (8).
const entrypointCaps = 1<<0 | 1<<5 | 1<<6 | 1<<7 | 1<<8
