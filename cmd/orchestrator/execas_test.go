package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/secure/privdrop"
)

// TestExecAsRefusesBadArguments: every misuse stops before any privilege
// changes, with a message naming what is wrong.
func TestExecAsRefusesBadArguments(t *testing.T) {
	defer func(e func(privdrop.Spec) error) { execAs = e }(execAs)
	execAs = func(s privdrop.Spec) error {
		if err := s.Validate(); err != nil {
			return err
		}
		t.Errorf("exec-as would have dropped privileges for %+v", s)
		return errors.New("not run in a test")
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--uid", "10002", "--gid", "10002"}, 2, "usage"},
		{[]string{"--uid", "10002", "--gid", "10002", "--groups", "x", "--", "/bin/true"}, 2, "not a group id"},
		{[]string{"--uid", "10002", "--gid", "10002", "--env", "A=1", "--", "/bin/true"}, 2, "--env needs --clear-env"},
		{[]string{"--uid", "10002", "--gid", "10002", "--clear-env", "--env", "NOEQUALS", "--", "/bin/true"}, 2, "not NAME=VALUE"},
		{[]string{"--uid", "10002", "--gid", "10002", "--clear-env", "--env", "=1", "--", "/bin/true"}, 2, "not NAME=VALUE"},
		{[]string{"--uid", "0", "--gid", "10002", "--", "/bin/true"}, 1, "uid 0"},
		{[]string{"--uid", "10002", "--gid", "10002", "--", "true"}, 1, "absolute path"},
		{[]string{"--bogus"}, 2, "flag provided but not defined"},
	} {
		var stderr bytes.Buffer
		if code := runExecAs(tc.args, &stderr); code != tc.code || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("exec-as %q: exit %d, %q; want exit %d naming %q", tc.args, code, stderr.String(), tc.code, tc.want)
		}
	}
	// A malformed variable's value is not echoed: it may be a secret.
	var stderr bytes.Buffer
	runExecAs([]string{"--uid", "10002", "--gid", "10002", "--clear-env", "--env", "=canary-secret-0042", "--", "/bin/true"}, &stderr)
	if strings.Contains(stderr.String(), "canary-secret-0042") {
		t.Errorf("exec-as echoed a variable's value: %q", stderr.String())
	}
}
