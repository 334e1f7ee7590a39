package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/config"
	"github.com/airlockhq/airlock/orchestrator/discord"
	"github.com/airlockhq/airlock/orchestrator/secrets"
	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/orchestrator/worker"
	"github.com/airlockhq/airlock/secure/redact"
	"github.com/bwmarrin/discordgo"
)

// options are what tests inject into run; the zero value is production's.
type options struct {
	// discordHTTPClient carries the Discord bot's requests; nil means
	// discordgo's own client.
	discordHTTPClient *http.Client
	// jobsTick is how often the job scheduler looks for due jobs (0: 1 s).
	jobsTick time.Duration
	// out is where subcommands (doctor) print; nil means os.Stdout.
	out io.Writer
}

func (o options) stdout() io.Writer {
	if o.out == nil {
		return os.Stdout
	}
	return o.out
}

// run loads the configuration, builds every component, serves until ctx
// ends, and shuts down.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer, opts options) error {
	if isDoctor(args) {
		return runDoctor(ctx, args[2:], getenv, opts.stdout(), stderr)
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	dev := fs.Bool("dev", false, "development mode: run as the current user, data under ./.airlock, start the worker")
	cfgPath := fs.String("config", "", "configuration file (default $AIRLOCK_CONFIG or <data>/secure/config.yaml)")
	rotate := fs.Bool("rotate-master-key", false, "re-encrypt every vault secret under a new master key, then exit")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	// Commands (issue 18: backup, restore) take the remaining arguments.
	switch fs.Arg(0) {
	case "backup":
		return runBackup(ctx, fs.Args()[1:], *dev, *cfgPath, getenv, opts.stdout(), stderr)
	case "restore":
		return runRestore(ctx, fs.Args()[1:], *dev, *cfgPath, getenv, opts.stdout(), stderr)
	}
	path, explicit := *cfgPath, *cfgPath != ""
	if !explicit {
		path, explicit = config.DefaultPath(*dev, getenv), getenv("AIRLOCK_CONFIG") != ""
	}
	cfg, err := config.Load(path, explicit, getenv, *dev)
	if err != nil {
		return err
	}
	// Every log line passes the redactor; it learns the secrets once the
	// vault is open, and the shape detectors work from the first line.
	holder := &redact.Holder{}
	logger := newLogger(stderr, cfg.Log.Level, holder)
	if *rotate {
		return rotateKey(ctx, cfg, logger)
	}
	if cfg.Dev {
		warnDev(stderr)
	}
	logger.Info("starting", "config", cfg)
	discordgo.Logger = discord.LibraryLogger(logger.With("component", "discordgo"))
	return serve(ctx, cfg, logger, holder, getenv, stderr, opts)
}

func newLogger(w io.Writer, level string, h *redact.Holder) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(redact.NewHandler(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}), h))
}

// rotateKey re-encrypts the vault under a new master key.
func rotateKey(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	st, err := store.Open(ctx, filepath.Join(cfg.DataDir, "secure", "airlock.db"), logger.With("component", "store"))
	if err != nil {
		return err
	}
	defer st.Close()
	if err := secrets.Rotate(ctx, st, cfg.MasterKeyPath()); err != nil {
		return err
	}
	logger.Info("master key rotated; every secret is re-encrypted under the new key", "key_file", cfg.MasterKeyPath())
	return nil
}

// dirs creates the data layout with its modes.
func dirs(cfg config.Config) (secure, workspaceDir string, err error) {
	secure = filepath.Join(cfg.DataDir, "secure")
	workspaceDir = filepath.Join(cfg.DataDir, "workspace")
	for _, d := range []string{cfg.DataDir, secure, workspaceDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return "", "", fmt.Errorf("create %s: %w", d, err)
		}
		if err := os.Chmod(d, 0o700); err != nil {
			return "", "", fmt.Errorf("chmod %s: %w", d, err)
		}
	}
	if cfg.Dev {
		// In the container the entrypoint makes the socket directory.
		if err := os.MkdirAll(filepath.Dir(cfg.Socket), 0o750); err != nil {
			return "", "", fmt.Errorf("create socket directory: %w", err)
		}
	}
	return secure, workspaceDir, nil
}

// serve builds every component, starts them, waits until ctx ends or the
// HTTP server fails, and shuts down.
func serve(ctx context.Context, cfg config.Config, logger *slog.Logger, holder *redact.Holder, getenv func(string) string,
	stderr io.Writer, opts options) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	a, err := build(ctx, cfg, logger, holder, getenv, stderr, opts)
	if err != nil {
		return err
	}
	defer a.close()
	srv, err := a.start(ctx)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		err = nil
	case err = <-srv.httpErr:
		err = fmt.Errorf("http server: %w", err)
	}
	logger.Info("shutting down")
	cancel()
	srv.stop()
	return err
}

// allowedHosts are the host names the HTTP server answers besides
// loopback ones: the configured ones, and the address it listens on when
// that is a specific one (the URL the setup announcement prints).
func allowedHosts(cfg config.Config) []string {
	hosts := slices.Clone(cfg.HTTP.AllowedHosts)
	if host, _, err := net.SplitHostPort(cfg.HTTPAddr); err == nil && host != "" {
		if ip := net.ParseIP(host); ip == nil || !ip.IsUnspecified() {
			hosts = append(hosts, host)
		}
	}
	return hosts
}

func audited(ctx context.Context, l *audit.Log, logger *slog.Logger, e audit.Event) {
	if _, err := l.Append(ctx, e); err != nil {
		logger.Error("audit append failed", "action", e.Action, "err", err)
	}
}

// reap fails tasks whose worker died or whose deadline passed.
func reap(ctx context.Context, q *worker.Queue, logger *slog.Logger) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if ids := q.Reap(); len(ids) > 0 {
				logger.Warn("failed orphaned tasks", "tasks", ids)
			}
		}
	}
}
