// Command fakellm serves the in-repo fake LLM provider (package
// orchestrator/llm/llmtest) on a TCP address, for container tests: point
// Airlock's LLM base URL at it and script it through /_fake/enqueue.
//
//	fakellm -addr 127.0.0.1:9999   (or env FAKELLM_ADDR)
//
// It holds no secrets and must never be deployed in place of a real
// provider.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/airlockhq/airlock/orchestrator/llm/llmtest"
)

const defaultAddr = "127.0.0.1:9999"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// run serves until ctx ends, then shuts down gracefully.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	def := getenv("FAKELLM_ADDR")
	if def == "" {
		def = defaultAddr
	}
	addr := fs.String("addr", def, "listen address (env FAKELLM_ADDR)")
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("fakellm: %w", err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("fakellm: listen: %w", err)
	}
	fake := llmtest.NewHandler()
	defer fake.Close()
	hs := &http.Server{Handler: fake, ReadHeaderTimeout: 10 * time.Second}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	logger.Info("fakellm listening", "addr", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("fakellm: serve: %w", err)
	case <-ctx.Done():
	}
	fake.Close() // end replies still sleeping out a Delay
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("fakellm: shutdown: %w", err)
	}
	return nil
}
