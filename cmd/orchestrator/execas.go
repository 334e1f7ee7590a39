package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/airlockhq/airlock/secure/privdrop"
)

// execAs is privdrop.Exec; tests replace it, so that none can change the
// test process's own identity.
var execAs = privdrop.Exec

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
	clearEnv := fs.Bool("clear-env", false, "start the program with only the --env variables, not this process's environment")
	var env []string
	badEnv := false // reported after parsing: the flag package would echo the value, which may be a secret
	fs.Func("env", "NAME=VALUE for the program's environment (repeatable; with --clear-env)", func(v string) error {
		name, _, ok := strings.Cut(v, "=")
		if !ok || name == "" || strings.Contains(v, "\x00") {
			badEnv = true
			return nil
		}
		env = append(env, v)
		return nil
	})
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: orchestrator exec-as --uid N --gid N [--groups A,B] [--clear-env --env NAME=VALUE...] -- /absolute/program [args...]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if badEnv {
		fmt.Fprintln(stderr, "orchestrator exec-as: an --env argument is not NAME=VALUE (its value is not shown)")
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
	if len(env) > 0 && !*clearEnv {
		fmt.Fprintln(stderr, "orchestrator exec-as: --env needs --clear-env (the program gets exactly those variables)")
		return 2
	}
	if !*clearEnv {
		env = os.Environ()
	}
	// With --clear-env the environment is replaced in the same execve that
	// starts the program: no process of the target user ever holds this
	// one's variables (secrets given as environment variables included).
	err = execAs(privdrop.Spec{UID: *uid, GID: *gid, Groups: gs,
		Path: fs.Arg(0), Args: fs.Args(), Env: env})
	fmt.Fprintln(stderr, "orchestrator exec-as:", err)
	return 1
}
