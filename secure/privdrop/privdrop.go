package privdrop

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Spec is who the program runs as.
type Spec struct {
	UID, GID int
	Groups   []int  // the exact supplementary groups; empty for none
	Path     string // absolute path of the program
	Args     []string
	Env      []string
}

// maxID is the largest id a Spec may name: (uid_t)-1 tells setresuid and
// setresgid to leave an id unchanged.
const maxID = 1<<32 - 2

// Validate refuses a Spec that Exec must not run: root or an impossible id
// as the user, the group or a supplementary group, a relative program, no
// arguments. Exec calls it first.
func (s Spec) Validate() error {
	switch {
	case s.UID <= 0 || s.UID > maxID:
		return fmt.Errorf("uid %d: must be a user other than root", s.UID)
	case s.GID <= 0 || s.GID > maxID:
		return fmt.Errorf("gid %d: must be a group other than root", s.GID)
	case !filepath.IsAbs(s.Path):
		return fmt.Errorf("program %q: must be an absolute path", s.Path)
	case len(s.Args) == 0:
		return errors.New("no arguments: the program's name comes first")
	}
	for _, g := range s.Groups {
		if g <= 0 || g > maxID {
			return fmt.Errorf("group %d: not a group id other than root's", g)
		}
	}
	return nil
}

// ParseGroups parses "10000,10003" ("" is no group).
func ParseGroups(s string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("groups: %q is not a group id", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// checkStatus compares a /proc status file with the spec: nil only when the
// process is exactly the user asked for, with no capability and
// no_new_privs set.
func checkStatus(status []byte, s Spec) error {
	seen := map[string]string{}
	for line := range bytes.Lines(status) {
		k, v, ok := strings.Cut(string(line), ":")
		if ok {
			seen[k] = strings.Join(strings.Fields(v), " ")
		}
	}
	var problems []string
	want := func(key, value string) {
		if got, ok := seen[key]; !ok {
			problems = append(problems, key+" missing")
		} else if got != value {
			problems = append(problems, fmt.Sprintf("%s %q, want %q", key, got, value))
		}
	}
	u, g := strconv.Itoa(s.UID), strconv.Itoa(s.GID)
	want("Uid", strings.Join([]string{u, u, u, u}, " "))
	want("Gid", strings.Join([]string{g, g, g, g}, " "))
	groups := slices.Clone(s.Groups)
	slices.Sort(groups)
	groups = slices.Compact(groups)
	gs := make([]string, len(groups))
	for i, n := range groups {
		gs[i] = strconv.Itoa(n)
	}
	want("Groups", strings.Join(gs, " "))
	for _, c := range []string{"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"} {
		want(c, "0000000000000000")
	}
	want("NoNewPrivs", "1")
	if len(problems) > 0 {
		return fmt.Errorf("privileges not dropped: %s", strings.Join(problems, "; "))
	}
	return nil
}
