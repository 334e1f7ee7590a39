package doctor

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

const fixWorkerStart = "start the worker through the shipped entrypoint.sh (`orchestrator exec-as` as airlock-ai, group airlock only)"

func workerChecks() []check {
	return []check{
		{"worker.connected", "A live worker is connected over the socket", High,
			"check `docker compose logs airlock` for the worker's errors; entrypoint.sh restarts it",
			func(_ context.Context, e *Env) (Status, string) {
				if _, err := e.workerStatus(); err != nil {
					if e.Config.Dev {
						return skipf("%v (dev mode)", err)
					}
					return failf("%v", err)
				}
				return okf("pid %d (from the socket's peer credentials)", e.Live.WorkerPID)
			}},
		{"worker.uid", "The worker runs as another user than the orchestrator", Critical, fixWorkerStart,
			workerCheck(func(e *Env, w, o procStatus) (Status, string) {
				if w.UID[1] == o.UID[1] || slices.Contains(w.UID, 0) {
					return failf("worker uid %v, orchestrator uid %d", w.UID, o.UID[1])
				}
				if e.Config.WorkerUID >= 0 && w.UID[1] != e.Config.WorkerUID {
					return failf("worker uid %d, configured worker uid %d", w.UID[1], e.Config.WorkerUID)
				}
				return okf("worker uid %d, orchestrator uid %d", w.UID[1], o.UID[1])
			})},
		{"worker.groups", "The worker's groups are its own and the socket's only", High, fixWorkerStart,
			workerCheck(func(e *Env, w, _ procStatus) (Status, string) {
				allowed := []int{w.GID[1]}
				if gid, err := e.socketGID(); err == nil {
					allowed = append(allowed, gid)
				}
				var extra []string
				for _, g := range append(slices.Clone(w.Groups), w.GID...) {
					if !slices.Contains(allowed, g) {
						extra = append(extra, strconv.Itoa(g))
					}
				}
				if len(extra) > 0 {
					return failf("groups %v, gid %d: also in %s", w.Groups, w.GID[1], strings.Join(extra, ", "))
				}
				return okf("gid %d, groups %v", w.GID[1], w.Groups)
			})},
		{"worker.cap_eff", "The worker holds no capability", Critical, fixWorkerStart,
			workerCheck(func(_ *Env, w, _ procStatus) (Status, string) {
				if w.CapEff != 0 || w.CapPrm != 0 {
					return failf("CapEff %016x CapPrm %016x (%s)", w.CapEff, w.CapPrm, capNames(w.CapEff|w.CapPrm))
				}
				return okf("CapEff 0, CapPrm 0")
			})},
		{"worker.no_new_privs", "The worker has no_new_privs", High, fixWorkerStart,
			workerCheck(func(_ *Env, w, _ procStatus) (Status, string) {
				if w.NoNewPrivs != 1 {
					return failf("NoNewPrivs %d", w.NoNewPrivs)
				}
				return okf("NoNewPrivs 1")
			})},
		{"worker.confinement", "The worker is confined by seccomp and Landlock", High,
			"run on a kernel with Landlock (5.13+) and seccomp; see the dashboard's AI worker card for the worker's problems",
			func(_ context.Context, e *Env) (Status, string) { return confinementCheck(e) }},
		{"worker.data_access", "The worker's user can read nothing under the data directory", Critical,
			"let entrypoint.sh fix the modes (restart), or `chmod -R go-rwx /data` as airlock-system",
			workerCheck(func(e *Env, w, _ procStatus) (Status, string) { return dataAccessCheck(e, w) })},
	}
}

// workerStatus reads the live worker's /proc status, checking that the
// process the peer credentials named still exists.
func (e *Env) workerStatus() (procStatus, error) {
	if !e.Live.Running {
		return procStatus{}, fmt.Errorf("no running orchestrator found")
	}
	if e.Live.WorkerPID <= 0 {
		return procStatus{}, fmt.Errorf("no worker has connected to the socket")
	}
	st, err := readStatus(e.ProcRoot, strconv.Itoa(e.Live.WorkerPID))
	if err != nil {
		return procStatus{}, fmt.Errorf("worker pid %d is gone", e.Live.WorkerPID)
	}
	return st, nil
}

// workerCheck adapts a check of the worker's and the orchestrator's /proc
// status; skipped in dev mode (one user) and when no worker is known.
func workerCheck(f func(e *Env, w, o procStatus) (Status, string)) func(context.Context, *Env) (Status, string) {
	return containerOnly(func(e *Env) (Status, string) {
		w, err := e.workerStatus()
		if err != nil {
			return skipf("%v", err)
		}
		o, err := e.ownStatus()
		if err != nil {
			return failf("cannot read the orchestrator's status: %v", err)
		}
		return f(e, w, o)
	})
}

// socketGID is the group of the socket directory, the only group the
// worker needs.
func (e *Env) socketGID() (int, error) {
	fi, err := os.Stat(filepath.Dir(e.Config.Socket))
	if err != nil {
		return 0, err
	}
	return int(fi.Sys().(*syscall.Stat_t).Gid), nil
}

func confinementCheck(e *Env) (Status, string) {
	if _, err := e.workerStatus(); err != nil {
		return skipf("%v", err)
	}
	c := e.Live.WorkerConfinement
	r := c.Reported
	ev := fmt.Sprintf("pid %d: kernel seccomp %s", e.Live.WorkerPID, onOff(c.KernelSeccomp))
	if r == nil {
		ev += "; the worker has not reported its Landlock and network state"
	} else {
		ev += fmt.Sprintf("; Landlock ABI %d files %s; network refused %s", r.LandlockABI, onOff(r.LandlockFiles),
			onOff(r.NetworkRefused))
		if len(r.Problems) > 0 {
			ev += "; problems: " + strings.Join(r.Problems, "; ")
		}
	}
	switch {
	case c.Confined():
		return Pass, ev
	case c.KernelSeccomp && r != nil && r.Seccomp && r.NetworkRefused:
		// The network is refused; only Landlock's file rules are missing
		// (a kernel before 5.13, or an engine refusing its system calls).
		return Warn, ev + "; the network is refused, Landlock's file rules are not applied"
	}
	return Fail, ev
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// dataAccessCheck walks the data directory as the worker's uid and groups
// would: a file it can read, or a directory it can list, through
// directories it can enter, is a failure.
func dataAccessCheck(e *Env, w procStatus) (Status, string) {
	groups := append(slices.Clone(w.Groups), w.GID...)
	var reach []string
	err := filepath.WalkDir(e.Config.DataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // unreadable to us: nothing to judge
		}
		info, err := os.Lstat(path)
		if err != nil || info.Mode()&fs.ModeSymlink != 0 {
			return nil
		}
		st := info.Sys().(*syscall.Stat_t)
		bits := permFor(info.Mode().Perm(), int(st.Uid), int(st.Gid), w.UID[1], groups)
		if bits&4 != 0 {
			reach = append(reach, path)
		}
		if d.IsDir() && bits&1 == 0 {
			return fs.SkipDir // the worker cannot enter it: nothing below is reachable
		}
		return nil
	})
	if err != nil {
		return failf("walking %s: %v", e.Config.DataDir, err)
	}
	if len(reach) > 0 {
		return failf("uid %d can read %s", w.UID[1], listed(reach))
	}
	return okf("uid %d can open nothing under %s", w.UID[1], e.Config.DataDir)
}

// permFor is the rwx bits (4, 2, 1) that uid with groups gets on a file of
// mode perm owned by owner:group.
func permFor(perm fs.FileMode, owner, group, uid int, groups []int) fs.FileMode {
	switch {
	case uid == owner:
		return perm >> 6 & 7
	case slices.Contains(groups, group):
		return perm >> 3 & 7
	default:
		return perm & 7
	}
}
