package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/airlockhq/airlock/secure/privdrop"
)

// runExecAs is `orchestrator exec-as --uid N --gid N [--groups A,B] -- PROGRAM ARGS...`:
// the container entrypoint's privilege drop (package privdrop). It replaces
// this process with PROGRAM and returns only on failure. It runs before
// anything else in main, as root, and touches nothing but its arguments.
func runExecAs(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("exec-as", flag.ContinueOnError)
	fs.SetOutput(stderr)
	uid := fs.Int("uid", -1, "user id to become (not root)")
	gid := fs.Int("gid", -1, "group id to become (not root)")
	groups := fs.String("groups", "", "exact supplementary groups, comma-separated (empty: none)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: orchestrator exec-as --uid N --gid N [--groups A,B] -- /absolute/program [args...]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	gs, err := privdrop.ParseGroups(*groups)
	if err != nil {
		fmt.Fprintln(stderr, "orchestrator exec-as:", err)
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	err = privdrop.Exec(privdrop.Spec{UID: *uid, GID: *gid, Groups: gs,
		Path: fs.Arg(0), Args: fs.Args(), Env: os.Environ()})
	fmt.Fprintln(stderr, "orchestrator exec-as:", err)
	return 1
}
