// Command aiworker is Airlock's AI side. It holds no credential: it connects
// to the orchestrator's Unix socket, takes tasks, and reaches the model and
// the world only through the orchestrator's MCP tools.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
	_ "time/tzdata" // a confined worker may read no zoneinfo file

	"github.com/airlockhq/airlock/aiworker/agent"
	mcpclient "github.com/airlockhq/airlock/mcp/client"
	"github.com/airlockhq/airlock/sandbox"
)

func main() {
	// A sandbox child runs one script and exits here, before anything else.
	sandbox.MaybeChild()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stderr); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "aiworker:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, getenv func(string) string, stderr io.Writer) error {
	socket := getenv("AIRLOCK_SOCKET")
	if socket == "" {
		return errors.New("AIRLOCK_SOCKET is not set")
	}
	var level slog.Level
	_ = level.UnmarshalText([]byte(getenv("AIRLOCK_LOG_LEVEL")))
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})).With("process", "aiworker")

	// A task spends nearly all its time waiting for the model, so many
	// run at once; the orchestrator still runs one per conversation.
	parallel, err := envInt(getenv, "AIRLOCK_WORKER_PARALLEL", agent.DefaultParallel)
	if err != nil {
		return err
	}
	if parallel < 1 || parallel > agent.MaxParallel {
		return fmt.Errorf("AIRLOCK_WORKER_PARALLEL: %d is out of range: the worker runs from 1 to %d tasks at once", parallel, agent.MaxParallel)
	}
	rounds, err := envInt(getenv, "AIRLOCK_WORKER_MAX_ROUNDS", 0)
	if err != nil {
		return err
	}
	var budget time.Duration
	if v := getenv("AIRLOCK_WORKER_TASK_TIMEOUT"); v != "" {
		if budget, err = time.ParseDuration(v); err != nil {
			return fmt.Errorf("AIRLOCK_WORKER_TASK_TIMEOUT: %w", err)
		}
	}

	conf, cleanup, err := confineWorker(socket, logger)
	if err != nil {
		return err
	}
	defer cleanup()

	client := mcpclient.New(mcpclient.Options{SocketPath: socket, Logger: logger, ClientName: "airlock-aiworker", ClientVersion: "0.1"})
	defer client.Close()
	logger.Info("connecting", "socket", socket)
	if err := client.Connect(ctx); err != nil {
		return err
	}
	// Warm children start after the first script run and are released
	// after ten quiet minutes: an assistant that runs no script keeps none.
	runner, err := sandbox.NewRunner(sandbox.Options{Logger: logger.With("component", "sandbox"),
		Lazy: true, IdleTTL: 10 * time.Minute})
	if err != nil {
		return err
	}
	defer runner.Close()
	logger.Info("connected; waiting for tasks", "parallel", parallel)
	a := agent.New(client, logger, agent.Limits{MaxRounds: rounds, Budget: budget})
	a.SetSandbox(runner)
	a.SetConfinement(conf)
	return a.Serve(ctx, parallel)
}

func envInt(getenv func(string) string, name string, def int) (int, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s: not a non-negative number: %q", name, v)
	}
	return n, nil
}
