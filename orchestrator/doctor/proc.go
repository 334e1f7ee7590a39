package doctor

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// procStatus is what /proc/<pid>/status says of a process.
type procStatus struct {
	UID, GID       []int // real, effective, saved, filesystem
	Groups         []int
	CapEff, CapPrm uint64
	CapBnd         uint64
	NoNewPrivs     int
	Seccomp        int
	SeccompFilters int // -1: the kernel does not show it
}

// readStatus reads /proc/<pid>/status under root ("self" for this process).
func readStatus(root, pid string) (procStatus, error) {
	b, err := os.ReadFile(filepath.Join(root, pid, "status"))
	if err != nil {
		return procStatus{}, err
	}
	st := procStatus{SeccompFilters: -1, NoNewPrivs: -1, Seccomp: -1}
	for line := range bytes.Lines(b) {
		name, v, ok := strings.Cut(string(line), ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch name {
		case "Uid":
			st.UID = ints(v)
		case "Gid":
			st.GID = ints(v)
		case "Groups":
			st.Groups = ints(v)
		case "CapEff":
			st.CapEff, _ = strconv.ParseUint(v, 16, 64)
		case "CapBnd":
			st.CapBnd, _ = strconv.ParseUint(v, 16, 64)
		case "CapPrm":
			st.CapPrm, _ = strconv.ParseUint(v, 16, 64)
		case "NoNewPrivs":
			st.NoNewPrivs, _ = strconv.Atoi(v)
		case "Seccomp":
			st.Seccomp, _ = strconv.Atoi(v)
		case "Seccomp_filters":
			st.SeccompFilters, _ = strconv.Atoi(v)
		}
	}
	if len(st.UID) < 2 || len(st.GID) < 2 {
		return st, fmt.Errorf("%s/%s/status: no Uid or Gid line", root, pid)
	}
	return st, nil
}

func ints(s string) []int {
	var out []int
	for _, f := range strings.Fields(s) {
		if n, err := strconv.Atoi(f); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// rootMountOptions returns the mount options of "/" in
// /proc/<pid>/mountinfo (the last mount there wins, as the kernel shows).
func rootMountOptions(root, pid string) ([]string, error) {
	f, err := os.Open(filepath.Join(root, pid, "mountinfo"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var opts []string
	found := false
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		// id parent major:minor root mountpoint options ...
		fields := strings.Fields(sc.Text())
		if len(fields) >= 6 && fields[4] == "/" {
			opts, found = strings.Split(fields[5], ","), true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("no mount of / in mountinfo")
	}
	return opts, nil
}

// cgroupLimit reads a cgroup v2 limit file (memory.max, pids.max) of
// process pid: its cgroup path from /proc/<pid>/cgroup, under cgroupRoot.
// Inside a container's cgroup namespace the path is "/", the root of the
// namespace. "max" is returned as is.
func cgroupLimit(procRoot, cgroupRoot, pid, file string) (string, error) {
	b, err := os.ReadFile(filepath.Join(procRoot, pid, "cgroup"))
	if err != nil {
		return "", err
	}
	var path string
	found := false
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "0::"); ok {
			path, found = rest, true
		}
	}
	if !found {
		return "", fmt.Errorf("not a cgroup v2 process (no 0:: line in /proc/%s/cgroup)", pid)
	}
	// Walk up: a limit set on an ancestor holds too (the namespace root is
	// the container's own cgroup).
	for dir := filepath.Clean("/" + path); ; dir = filepath.Dir(dir) {
		v, err := os.ReadFile(filepath.Join(cgroupRoot, dir, file))
		if err == nil && strings.TrimSpace(string(v)) != "max" {
			return strings.TrimSpace(string(v)), nil
		}
		if dir == "/" {
			if err != nil {
				return "", err
			}
			return "max", nil
		}
	}
}

// capNames lists the capabilities set in mask by number (names for the
// common ones), for evidence.
func capNames(mask uint64) string {
	names := map[int]string{0: "CHOWN", 1: "DAC_OVERRIDE", 2: "DAC_READ_SEARCH", 3: "FOWNER", 5: "KILL", 6: "SETGID",
		7: "SETUID", 8: "SETPCAP", 10: "NET_BIND_SERVICE", 12: "NET_ADMIN", 13: "NET_RAW", 19: "SYS_PTRACE",
		21: "SYS_ADMIN"}
	var out []string
	for i := range 64 {
		if mask&(1<<i) == 0 {
			continue
		}
		if n, ok := names[i]; ok {
			out = append(out, "CAP_"+n)
		} else {
			out = append(out, "cap"+strconv.Itoa(i))
		}
	}
	return strings.Join(out, " ")
}
