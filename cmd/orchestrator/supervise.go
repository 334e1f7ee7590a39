package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/airlockhq/airlock/internal/backoff"
	"github.com/airlockhq/airlock/orchestrator/config"
)

// workerEnv is the allowlist of variables the worker inherits. Nothing
// else, and never a key or token, reaches it.
var workerEnv = []string{"PATH", "HOME", "TZ", "LANG", "AIRLOCK_WORKER_PARALLEL", "AIRLOCK_WORKER_MAX_ROUNDS",
	"AIRLOCK_WORKER_TASK_TIMEOUT", "AIRLOCK_LOG_LEVEL"}

// workerEnviron builds the worker's environment from the allowlist.
func workerEnviron(getenv func(string) string, socket string) []string {
	env := []string{"AIRLOCK_SOCKET=" + socket}
	for _, k := range workerEnv {
		if v := getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// workerBinary finds aiworker: the configured path, else next to our own
// executable.
func workerBinary(cfg config.Config) (string, error) {
	if cfg.WorkerBinary != "" {
		return cfg.WorkerBinary, nil
	}
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find own executable: %w", err)
	}
	return filepath.Join(filepath.Dir(self), "aiworker"), nil
}

// superviseWorker runs the worker in dev mode, restarting it with backoff
// when it exits, until ctx ends; then it stops it with SIGTERM (SIGKILL
// after 5 s).
func superviseWorker(ctx context.Context, cfg config.Config, logger *slog.Logger) {
	// Pdeathsig is delivered when the thread that started the child exits,
	// so keep this goroutine on one thread for the supervisor's whole life:
	// if the orchestrator dies, the kernel then stops the worker too.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	bin, err := workerBinary(cfg)
	if err != nil {
		logger.Error("cannot start the worker", "err", err)
		return
	}
	wait := backoff.Doubling{Min: 200 * time.Millisecond, Max: 10 * time.Second}
	for ctx.Err() == nil {
		cmd := exec.Command(bin)
		cmd.Env = workerEnviron(os.Getenv, cfg.Socket)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
		start := time.Now()
		err := cmd.Start()
		if err != nil {
			logger.Error("starting the worker failed", "binary", bin, "err", err)
		} else {
			logger.Info("worker started", "pid", cmd.Process.Pid)
			err = waitOrStop(ctx, cmd)
			if ctx.Err() != nil {
				return
			}
		}
		if time.Since(start) > time.Minute {
			wait.Reset()
		}
		delay := wait.Next()
		if cmd.Process != nil {
			logger.Warn("worker exited; restarting", "err", err, "after", delay)
		}
		if backoff.Sleep(ctx, delay) != nil {
			return
		}
	}
}

func waitOrStop(ctx context.Context, cmd *exec.Cmd) error {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			return err
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			return <-done
		}
	}
}
