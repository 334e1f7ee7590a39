package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/secure/confine"
)

// confineWorker locks the worker in before it reads anything from the
// socket (secure/confine.Worker): IP sockets refused by a seccomp filter,
// files and programs limited by Landlock to its own executable, its own
// temporary directory (made here, removed by cleanup) and the socket. It
// needs no privilege. What the kernel would not do is logged loudly and
// goes into the report sent to the orchestrator; the worker runs on.
func confineWorker(socket string, logger *slog.Logger) (tools.Confinement, func(), error) {
	// The local time zone is loaded once, now, while /etc/localtime is
	// still readable.
	_ = time.Now().Location().String()
	exe, err := os.Executable()
	if err != nil {
		return tools.Confinement{}, nil, fmt.Errorf("find own executable: %w", err)
	}
	if exe, err = filepath.EvalSymlinks(exe); err != nil {
		return tools.Confinement{}, nil, fmt.Errorf("find own executable: %w", err)
	}
	tmp, err := os.MkdirTemp("", "airlock-worker-")
	if err != nil {
		return tools.Confinement{}, nil, fmt.Errorf("create the worker's temporary directory: %w", err)
	}
	cleanup := func() { _ = os.RemoveAll(tmp) }
	if err := os.Setenv("TMPDIR", tmp); err != nil {
		cleanup()
		return tools.Confinement{}, nil, err
	}
	sock, err := filepath.Abs(socket)
	if err != nil {
		cleanup()
		return tools.Confinement{}, nil, err
	}
	start := time.Now()
	rep := confine.Worker(confine.WorkerPaths{Executable: exe, TempDir: tmp, Socket: sock})
	if rep.Confined() {
		logger.Info("confined", "confinement", rep.String(), "took", time.Since(start))
	} else {
		logger.Error("THE WORKER IS NOT FULLY CONFINED: the kernel refused part of its lock-down; "+
			"the orchestrator's dashboard shows what is missing", "confinement", rep.String(), "problems", rep.Problems)
	}
	return tools.Confinement{Seccomp: rep.Seccomp, LandlockABI: rep.LandlockABI, LandlockFiles: rep.LandlockFiles,
		LandlockNet: rep.LandlockNet, NetworkRefused: rep.NetworkRefused, Problems: rep.Problems}, cleanup, nil
}
