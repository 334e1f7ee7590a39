package doctor

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
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

// cgroupFile is one limit in both cgroup versions.
type cgroupFile struct {
	v2         string // memory.max, pids.max
	controller string // v1 controller: memory, pids
	v1         string // memory.limit_in_bytes, pids.max
}

var (
	memoryMax = cgroupFile{"memory.max", "memory", "memory.limit_in_bytes"}
	pidsMax   = cgroupFile{"pids.max", "pids", "pids.max"}
)

// cgroupLimit reads a limit of process pid: its cgroup path from
// /proc/<pid>/cgroup, the file under cgroupRoot (cgroup v2), or under
// cgroupRoot/<controller> (v1). Inside a container the path may not exist
// in the container's view (cgroup namespace or a bind of its own
// subtree): the walk goes up to the root, where a container sees its own
// cgroup. "max" means no limit (v1's huge memory value too).
func cgroupLimit(procRoot, cgroupRoot, pid string, f cgroupFile) (string, error) {
	b, err := os.ReadFile(filepath.Join(procRoot, pid, "cgroup"))
	if err != nil {
		return "", err
	}
	base, file, path, found := cgroupRoot, f.v2, "", false
	for line := range strings.Lines(string(b)) {
		parts := strings.SplitN(strings.TrimSpace(line), ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] == "0" && parts[1] == "" && !found {
			path, found = parts[2], true
		}
		if slices.Contains(strings.Split(parts[1], ","), f.controller) {
			base, file, path, found = filepath.Join(cgroupRoot, f.controller), f.v1, parts[2], true
			break
		}
	}
	if !found {
		return "", fmt.Errorf("no %s cgroup in /proc/%s/cgroup", f.controller, pid)
	}
	var firstErr error
	for dir := filepath.Clean("/" + path); ; dir = filepath.Dir(dir) {
		v, err := os.ReadFile(filepath.Join(base, dir, file))
		if err == nil {
			if lim := limitValue(string(v)); lim != "max" {
				return lim, nil
			}
		} else if firstErr == nil || dir == "/" {
			firstErr = err
		}
		if dir == "/" {
			if err != nil {
				return "", firstErr
			}
			return "max", nil
		}
	}
}

// limitValue normalizes a limit file's content: cgroup v1 says "no
// memory limit" with a number near 2^63.
func limitValue(s string) string {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseUint(s, 10, 64); err == nil && n >= 1<<62 {
		return "max"
	}
	return s
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
