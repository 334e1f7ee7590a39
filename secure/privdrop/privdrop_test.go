package privdrop

import (
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	ok := Spec{UID: 10002, GID: 10002, Path: "/usr/local/bin/aiworker", Args: []string{"aiworker"}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid spec refused: %v", err)
	}
	for name, tc := range map[string]struct {
		mod  func(*Spec)
		want string
	}{
		"root user":            {func(s *Spec) { s.UID = 0 }, "uid 0"},
		"root group":           {func(s *Spec) { s.GID = 0 }, "gid 0"},
		"negative uid":         {func(s *Spec) { s.UID = -1 }, "uid -1"},
		"relative path":        {func(s *Spec) { s.Path = "aiworker" }, "absolute path"},
		"no args":              {func(s *Spec) { s.Args = nil }, "no arguments"},
		"bad group":            {func(s *Spec) { s.Groups = []int{-3} }, "group -3"},
		"root group in groups": {func(s *Spec) { s.Groups = []int{10000, 0} }, "group 0"},
		"unchanged uid":        {func(s *Spec) { s.UID = 1<<32 - 1 }, "uid 4294967295"},
	} {
		s := ok
		tc.mod(&s)
		err := s.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error naming %q", name, err, tc.want)
		}
	}
}

func TestParseGroups(t *testing.T) {
	if g, err := ParseGroups(""); err != nil || g != nil {
		t.Errorf(`ParseGroups("") = %v, %v`, g, err)
	}
	if g, err := ParseGroups("10000,10003"); err != nil || len(g) != 2 || g[0] != 10000 || g[1] != 10003 {
		t.Errorf("ParseGroups = %v, %v", g, err)
	}
	for _, bad := range []string{"x", "10000,", "-1", "1,,2"} {
		if _, err := ParseGroups(bad); err == nil {
			t.Errorf("ParseGroups(%q) accepted", bad)
		}
	}
}

const dropped = "Name:\tcat\nUid:\t10002\t10002\t10002\t10002\nGid:\t10002\t10002\t10002\t10002\n" +
	"Groups:\t10000 \nCapInh:\t0000000000000000\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\n" +
	"CapBnd:\t0000000000000000\nCapAmb:\t0000000000000000\nNoNewPrivs:\t1\n"

func TestCheckStatus(t *testing.T) {
	s := Spec{UID: 10002, GID: 10002, Groups: []int{10000}}
	if err := checkStatus([]byte(dropped), s); err != nil {
		t.Fatalf("a fully dropped status refused: %v", err)
	}
	for name, tc := range map[string]struct{ from, to, want string }{
		"saved uid root":   {"Uid:\t10002\t10002\t10002", "Uid:\t10002\t10002\t0", "Uid"},
		"fs gid root":      {"Gid:\t10002\t10002\t10002\t10002", "Gid:\t10002\t10002\t10002\t0", "Gid"},
		"extra group":      {"Groups:\t10000 ", "Groups:\t0 10000", "Groups"},
		"bounding set":     {"CapBnd:\t0000000000000000", "CapBnd:\t000001ffffffffff", "CapBnd"},
		"inheritable":      {"CapInh:\t0000000000000000", "CapInh:\t0000000000000020", "CapInh"},
		"ambient":          {"CapAmb:\t0000000000000000", "CapAmb:\t0000000000000001", "CapAmb"},
		"no no_new_privs":  {"NoNewPrivs:\t1", "NoNewPrivs:\t0", "NoNewPrivs"},
		"old kernel":       {"CapAmb:\t0000000000000000\n", "", "CapAmb missing"},
		"effective caps":   {"CapEff:\t0000000000000000", "CapEff:\t00000000000000c0", "CapEff"},
		"permitted caps":   {"CapPrm:\t0000000000000000", "CapPrm:\t0000000000000080", "CapPrm"},
		"real uid root":    {"Uid:\t10002", "Uid:\t0", "Uid"},
		"groups line gone": {"Groups:\t10000 \n", "", "Groups missing"},
	} {
		st := strings.Replace(dropped, tc.from, tc.to, 1)
		if st == dropped {
			t.Fatalf("%s: the test's replacement did not apply", name)
		}
		err := checkStatus([]byte(st), s)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error naming %s", name, err, tc.want)
		}
	}
	// No groups asked: an empty Groups line is right, any group is wrong.
	none := strings.Replace(dropped, "Groups:\t10000 ", "Groups:\t", 1)
	if err := checkStatus([]byte(none), Spec{UID: 10002, GID: 10002}); err != nil {
		t.Errorf("no groups: %v", err)
	}
	if err := checkStatus([]byte(dropped), Spec{UID: 10002, GID: 10002}); err == nil {
		t.Error("a group left over was accepted")
	}
}
