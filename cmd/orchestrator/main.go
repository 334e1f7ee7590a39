// Command orchestrator is Airlock's system side: it owns the database, the
// LLM key and the admin HTTP server, and serves the MCP tools the AI worker
// may call on one Unix socket. In --dev mode it also starts the worker.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "exec-as" {
		os.Exit(runExecAs(os.Args[2:], os.Stderr))
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stderr, options{}); err != nil {
		var code exitCode
		if errors.As(err, &code) {
			os.Exit(int(code))
		}
		fmt.Fprintln(os.Stderr, "orchestrator:", err)
		os.Exit(1)
	}
}

// devWarning is printed in dev mode, where both processes share one user.
const devWarning = `
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
!!  DEV MODE: the orchestrator and the AI worker run as the SAME Linux user.   !!
!!  The OS-level separation that protects your keys is OFF. Use the container  !!
!!  (docker compose up) for anything but development.                          !!
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
`

func warnDev(w io.Writer) { fmt.Fprint(w, devWarning) }
