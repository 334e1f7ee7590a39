package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/airlockhq/airlock/orchestrator"
	"github.com/airlockhq/airlock/secure/peercred"
	"log/slog"
	"net"
	"net/http"
	"time"

	mcpserver "github.com/airlockhq/airlock/mcp/server"
	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/admin"
	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/config"
	"github.com/airlockhq/airlock/orchestrator/digest"
	"github.com/airlockhq/airlock/orchestrator/settings"
)

// servers are what start started and stop stops.
type servers struct {
	http       *http.Server
	httpErr    <-chan error
	mcp        *mcpserver.Server
	workerDone chan struct{} // closed when the dev-mode worker supervisor is done
	jobsDone   chan struct{} // closed when the job scheduler and its runs are done
}

// start wires the run-time changes, starts the MCP and HTTP servers and
// the background jobs. They run until ctx ends.
func (a *app) start(ctx context.Context) (*servers, error) {
	a.watch(ctx)
	audited(ctx, a.audit, a.logger, audit.Event{Actor: "system", Action: "orchestrator.started", Outcome: "ok",
		Details: map[string]any{"dev": a.cfg.Dev}})
	mcpSrv, err := startMCP(a.cfg, a.core, a.audit, a.logger)
	if err != nil {
		return nil, err
	}
	adminSrv := admin.New(a.adminDeps())
	// Closed before the store: the chat replies still being written end first.
	a.onClose(adminSrv.Close)
	httpSrv, httpErr, err := startHTTP(a.cfg, adminSrv, a.logger)
	if err != nil {
		mcpSrv.Shutdown(context.Background())
		return nil, err
	}
	a.denyAdmin(httpSrv.Addr)
	go a.remote.Run(ctx)
	go announceSetup(ctx, a.auth, uiURL(httpSrv.Addr), a.logger.With("component", "auth"), a.stderr)
	go pruneSessions(ctx, a.auth, a.logger)
	go flushAuthFailures(ctx, a.auth)
	go a.bot.Refresh()
	go reap(ctx, a.queue, a.logger)
	go a.publishLive(ctx)
	go a.backups.Run(ctx, time.Minute)
	s := &servers{http: httpSrv, httpErr: httpErr, mcp: mcpSrv, workerDone: make(chan struct{}), jobsDone: make(chan struct{})}
	go func() {
		defer close(s.jobsDone)
		a.jobs.Run(ctx) // scheduled jobs (issue 14): until ctx ends, then waits for its runs
	}()
	if a.cfg.Dev {
		go func() {
			defer close(s.workerDone)
			superviseWorker(ctx, a.cfg, a.logger.With("component", "supervisor"))
		}()
	} else {
		close(s.workerDone)
	}
	return s, nil
}

// stop shuts the servers down, once ctx (start's) has ended, and waits for
// the worker supervisor.
func (s *servers) stop() {
	sctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	_ = s.http.Shutdown(sctx)
	_ = s.mcp.Shutdown(sctx)
	<-s.workerDone
	<-s.jobsDone
}

func (a *app) adminDeps() admin.Deps {
	return admin.Deps{Jobs: a.jobs, Core: a.core, Store: a.st, Audit: a.audit, Queue: a.queue,
		Vault: a.vault, Approval: a.scripts, Auth: a.auth, Settings: a.settings, TestLLM: a.testLLM, Live: a.hub,
		LLM: a.models.Gateway(), CSRFKey: a.csrfKey, Confinement: a.own, TrustedProxies: a.proxies,
		DiscordStatus: func() admin.DiscordStatus { return admin.DiscordStatus(a.bot.Status()) },
		Logger:        a.logger.With("component", "http"), MaxBodyBytes: a.cfg.HTTP.MaxBodyBytes,
		BodyReadTimeout: a.cfg.HTTP.BodyReadTimeout, AllowedHosts: allowedHosts(a.cfg), Redactor: a.holder,
		Integrations: a.remote, Doctor: a.doctorReport, Backups: a.backups}
}

// watch applies vault and settings changes at run time, and tells the
// admins of script proposals: the first at once, the ones after it in one
// summary per notification window.
func (a *app) watch(ctx context.Context) {
	notices := digest.New(a.settings.Get().Scripts.NotifyWindow, func(sis []tools.ScriptInfo, held bool) {
		if !held {
			a.bot.NotifyProposed(sis[0])
			return
		}
		a.logger.Info("more scripts await review", "versions", len(sis))
		a.bot.NotifyPending(sis)
	})
	a.onClose(func() {
		if n := notices.Close(); n > 0 {
			a.logger.Info("shutting down with script proposals not yet notified; they await review", "versions", n)
		}
	})
	a.vault.OnChange(func() {
		if err := rebuildRedactor(ctx, a.vault, a.holder); err != nil {
			a.logger.Error("rebuilding the redactor failed; the previous one stays", "err", err)
		}
		if err := a.refreshLLM(ctx, a.settings.Get().LLM); err != nil {
			a.logger.Error("applying the LLM key failed; the previous client stays", "err", err)
		}
		go a.bot.Refresh()
	})
	a.settings.OnChange(func(_, next settings.Settings) { a.applySettings(ctx, next, notices) })
	a.scripts.OnProposed(func(info tools.ScriptInfo) {
		a.logger.Info("a script awaits review", "script", info.Name, "sha256", info.SHA256,
			"review", "/scripts/"+info.Name+"?sha256="+info.SHA256)
		notices.Add(info)
	})
}

// applySettings applies changed settings to every component they configure.
func (a *app) applySettings(ctx context.Context, next settings.Settings, notices *digest.Digest[tools.ScriptInfo]) {
	if err := a.refreshLLM(ctx, next.LLM); err != nil {
		a.logger.Error("applying the LLM settings failed; the previous client stays", "err", err)
	}
	a.core.SetLimits(next.Agent.MaxRounds, next.Agent.TaskTimeout)
	a.core.SetHistoryTokens(next.Agent.HistoryTokens)
	a.core.SetMemoryApproval(next.Memory.RequireApproval)
	if err := a.ws.SetMaxFiles(next.Workspace.MaxFiles); err != nil {
		a.logger.Error("applying the workspace file limit failed; the previous one stays", "err", err)
	}
	a.scripts.SetPendingCaps(next.Scripts.MaxPendingPerScript, next.Scripts.MaxPendingTotal)
	notices.SetWindow(next.Scripts.NotifyWindow)
	if err := a.web.SetAllow(next.EgressAllow); err != nil {
		a.logger.Error("applying the egress allowlist failed; the previous one stays", "err", err)
	}
	if err := a.mcpWeb.SetAllow(next.EgressAllow); err != nil {
		a.logger.Error("applying the egress allowlist to MCP servers failed; the previous one stays", "err", err)
	}
	go a.bot.Refresh()
	a.backups.SetPolicy(next.Backup.Interval, next.Backup.Keep)
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
