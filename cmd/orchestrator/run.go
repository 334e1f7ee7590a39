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
	"path/filepath"
	"slices"
	"time"

	mcpserver "github.com/airlockhq/airlock/mcp/server"
	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator"
	"github.com/airlockhq/airlock/orchestrator/admin"
	"github.com/airlockhq/airlock/orchestrator/approval"
	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/config"
	"github.com/airlockhq/airlock/orchestrator/digest"
	"github.com/airlockhq/airlock/orchestrator/discord"
	"github.com/airlockhq/airlock/orchestrator/live"
	"github.com/airlockhq/airlock/orchestrator/secrets"
	"github.com/airlockhq/airlock/orchestrator/settings"
	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/orchestrator/worker"
	"github.com/airlockhq/airlock/orchestrator/workspace"
	"github.com/airlockhq/airlock/secure/egress"
	"github.com/airlockhq/airlock/secure/peercred"
	"github.com/airlockhq/airlock/secure/redact"
	"github.com/bwmarrin/discordgo"
)

// run loads the configuration, builds every component, serves until ctx
// ends, and shuts down.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	dev := fs.Bool("dev", false, "development mode: run as the current user, data under ./.airlock, start the worker")
	cfgPath := fs.String("config", "", "configuration file (default $AIRLOCK_CONFIG or <data>/secure/config.yaml)")
	rotate := fs.Bool("rotate-master-key", false, "re-encrypt every vault secret under a new master key, then exit")
	if err := fs.Parse(args[1:]); err != nil {
		return err
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
	return serve(ctx, cfg, logger, holder, getenv, stderr)
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

func serve(ctx context.Context, cfg config.Config, logger *slog.Logger, holder *redact.Holder, getenv func(string) string,
	stderr io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	secureDir, wsDir, err := dirs(cfg)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, filepath.Join(secureDir, "airlock.db"), logger.With("component", "store"))
	if err != nil {
		return err
	}
	defer st.Close()
	vlt, err := openVault(ctx, cfg, st)
	if err != nil {
		return err
	}
	if err := rebuildRedactor(ctx, vlt, holder); err != nil {
		return err
	}
	redactString := func(s string) string { return holder.Load().String(s) }
	auditLog := audit.New(st, time.Now)
	auditLog.Redact = redactString
	auditFn := func(ctx context.Context, e audit.Event) { audited(ctx, auditLog, logger, e) }
	ws, err := workspace.Open(wsDir, workspace.Limits{MaxFileBytes: cfg.Workspace.MaxFileBytes,
		MaxMemoryBytes: cfg.Workspace.MaxMemoryBytes, MaxTotalBytes: cfg.Workspace.MaxTotalBytes})
	if err != nil {
		return err
	}
	defer ws.Close()
	set, err := settings.New(ctx, st, auditFn, settings.FromConfig(cfg), settings.LockedByEnv(getenv))
	if err != nil {
		return err
	}
	for _, p := range set.Ignored() {
		logger.Warn("a stored setting is invalid and was ignored; the default applies", "field", p.Field, "problem", p.Message)
	}
	models := newLLMManager(cfg, st, holder, logger.With("component", "llm"))
	if err := models.refresh(ctx, vlt, set.Get().LLM); err != nil {
		return err
	}
	web, err := egress.NewClient(egress.Policy{Allow: set.Get().EgressAllow})
	if err != nil {
		return err
	}
	scripts := approval.New(st, auditLog, time.Now)
	queue := worker.New(time.Now, processAlive)
	hub := live.New()
	cur := set.Get()
	core := orchestrator.New(orchestrator.Config{MaxRounds: cur.Agent.MaxRounds, TaskTimeout: cur.Agent.TaskTimeout,
		MemoryBytes: cfg.Workspace.MaxMemoryBytes},
		orchestrator.Deps{Store: st, Audit: auditLog, Queue: queue, Workspace: ws, LLM: models.gateway, Web: web,
			Logger: logger.With("component", "core"), Redact: redactString, Approval: scripts, Secret: vlt.Get,
			Live: hub, Redactor: holder.Load})
	// Before any task: MEMORY.md's text becomes an admin-only note.
	if err := core.ImportLegacyMemory(ctx); err != nil {
		return err
	}

	bot := newDiscordRunner(ctx, discord.Deps{Handler: core, Store: st, Audit: auditLog,
		Logger: logger.With("component", "discord")}, logger.With("component", "discord"))
	defer bot.Close()
	if err := ws.SetMaxFiles(cur.Workspace.MaxFiles); err != nil {
		return err
	}
	scripts.SetPendingCaps(cur.Scripts.MaxPendingPerScript, cur.Scripts.MaxPendingTotal)
	// Admins hear of the first proposal at once and of the ones after it
	// in one summary per notification window.
	notices := digest.New(cur.Scripts.NotifyWindow, func(sis []tools.ScriptInfo, held bool) {
		if !held {
			bot.notifyProposed(sis[0])
			return
		}
		logger.Info("more scripts await review", "versions", len(sis))
		bot.notifyPending(sis)
	})
	defer func() {
		if n := notices.Close(); n > 0 {
			logger.Info("shutting down with script proposals not yet notified; they await review", "versions", n)
		}
	}()
	vlt.OnChange(func() {
		if err := rebuildRedactor(ctx, vlt, holder); err != nil {
			logger.Error("rebuilding the redactor failed; the previous one stays", "err", err)
		}
		if err := models.refresh(ctx, vlt, set.Get().LLM); err != nil {
			logger.Error("applying the LLM key failed; the previous client stays", "err", err)
		}
		go bot.refresh(vlt, set)
	})
	set.OnChange(func(old, next settings.Settings) {
		if err := models.refresh(ctx, vlt, next.LLM); err != nil {
			logger.Error("applying the LLM settings failed; the previous client stays", "err", err)
		}
		core.SetLimits(next.Agent.MaxRounds, next.Agent.TaskTimeout)
		if err := ws.SetMaxFiles(next.Workspace.MaxFiles); err != nil {
			logger.Error("applying the workspace file limit failed; the previous one stays", "err", err)
		}
		scripts.SetPendingCaps(next.Scripts.MaxPendingPerScript, next.Scripts.MaxPendingTotal)
		notices.SetWindow(next.Scripts.NotifyWindow)
		if err := web.SetAllow(next.EgressAllow); err != nil {
			logger.Error("applying the egress allowlist failed; the previous one stays", "err", err)
		}
		go bot.refresh(vlt, set)
	})
	scripts.OnProposed(func(info tools.ScriptInfo) {
		logger.Info("a script awaits review", "script", info.Name, "sha256", info.SHA256,
			"review", "/scripts/"+info.Name+"?sha256="+info.SHA256)
		notices.Add(info)
	})

	authSvc, csrfKey, err := newAuth(ctx, cfg, st, auditFn, logger.With("component", "auth"))
	if err != nil {
		return err
	}
	proxies, err := parseProxies(cfg.HTTP.TrustedProxies)
	if err != nil {
		return err
	}
	audited(ctx, auditLog, logger, audit.Event{Actor: "system", Action: "orchestrator.started", Outcome: "ok",
		Details: map[string]any{"dev": cfg.Dev}})

	mcpSrv, err := startMCP(cfg, core, auditLog, logger)
	if err != nil {
		return err
	}
	httpSrv, httpErr, err := startHTTP(cfg, admin.New(admin.Deps{Core: core, Store: st, Audit: auditLog, Queue: queue,
		Vault: vlt, Approval: scripts, Auth: authSvc, Settings: set, TestLLM: models.test, Live: hub,
		LLM: models.gateway, CSRFKey: csrfKey, TrustedProxies: proxies, DiscordStatus: bot.Status,
		Logger: logger.With("component", "http"), MaxBodyBytes: cfg.HTTP.MaxBodyBytes,
		BodyReadTimeout: cfg.HTTP.BodyReadTimeout, AllowedHosts: allowedHosts(cfg),
		Redact: func(b []byte) []byte { return holder.Load().Bytes(b) }}), logger)
	if err != nil {
		mcpSrv.Shutdown(context.Background())
		return err
	}
	go announceSetup(ctx, authSvc, uiURL(httpSrv.Addr), logger.With("component", "auth"), stderr)
	go pruneSessions(ctx, authSvc, logger)
	go flushAuthFailures(ctx, authSvc)
	go bot.refresh(vlt, set)
	go reap(ctx, queue, logger)
	workerDone := make(chan struct{})
	if cfg.Dev {
		go func() { defer close(workerDone); superviseWorker(ctx, cfg, logger.With("component", "supervisor")) }()
	} else {
		close(workerDone)
	}

	select {
	case <-ctx.Done():
		err = nil
	case err = <-httpErr:
		err = fmt.Errorf("http server: %w", err)
	}
	logger.Info("shutting down")
	cancel()
	sctx, scancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer scancel()
	_ = httpSrv.Shutdown(sctx)
	_ = mcpSrv.Shutdown(sctx)
	<-workerDone
	return err
}

func startMCP(cfg config.Config, core *orchestrator.Core, auditLog *audit.Log, logger *slog.Logger) (*mcpserver.Server, error) {
	ln, err := peercred.Listen(cfg.Socket, 0o660, -1)
	if err != nil {
		return nil, err
	}
	log := logger.With("component", "mcp")
	srv := mcpserver.New(mcpserver.Config{
		WorkerUID: cfg.WorkerUID,
		Logger:    log,
		OnRefused: func(r mcpserver.Refusal) {
			log.Warn("refused a socket peer", "uid", r.Cred.UID, "pid", r.Cred.PID, "reason", r.Reason)
			audited(context.Background(), auditLog, logger, audit.Event{
				Actor: fmt.Sprintf("peer:uid=%d", r.Cred.UID), Action: "mcp.peer_refused", Target: cfg.Socket,
				Outcome: "denied", Details: map[string]any{"uid": r.Cred.UID, "pid": r.Cred.PID, "reason": r.Reason}})
		},
	}, core.ServerTools()...)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			log.Error("mcp server stopped", "err", err)
		}
	}()
	log.Info("serving MCP", "socket", cfg.Socket, "worker_uid", cfg.WorkerUID)
	return srv, nil
}

func startHTTP(cfg config.Config, a *admin.Server, logger *slog.Logger) (*http.Server, <-chan error, error) {
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return nil, nil, fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
	}
	srv, limited := admin.NewHTTPServer(a.Handler(), ln, admin.Limits{MaxConns: cfg.HTTP.MaxConnections},
		slog.NewLogLogger(logger.Handler(), slog.LevelWarn))
	errc := make(chan error, 1)
	go func() {
		if err := srv.Serve(limited); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
	}()
	logger.Info("serving HTTP", "addr", ln.Addr().String(), "max_connections", cfg.HTTP.MaxConnections,
		"allowed_hosts", allowedHosts(cfg))
	return srv, errc, nil
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
