package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"path/filepath"
	"time"

	"github.com/airlockhq/airlock/orchestrator"
	"github.com/airlockhq/airlock/orchestrator/approval"
	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/auth"
	"github.com/airlockhq/airlock/orchestrator/backup"
	"github.com/airlockhq/airlock/orchestrator/config"
	"github.com/airlockhq/airlock/orchestrator/discord"
	"github.com/airlockhq/airlock/orchestrator/integration"
	"github.com/airlockhq/airlock/orchestrator/jobs"
	"github.com/airlockhq/airlock/orchestrator/live"
	"github.com/airlockhq/airlock/orchestrator/llm"
	"github.com/airlockhq/airlock/orchestrator/secrets"
	"github.com/airlockhq/airlock/orchestrator/settings"
	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/orchestrator/worker"
	"github.com/airlockhq/airlock/orchestrator/workspace"
	"github.com/airlockhq/airlock/secure/confine"
	"github.com/airlockhq/airlock/secure/egress"
	"github.com/airlockhq/airlock/secure/redact"
)

// app is every component of a running orchestrator, built by build.
type app struct {
	cfg    config.Config
	logger *slog.Logger
	holder *redact.Holder
	stderr io.Writer

	st       *store.Store
	vault    *secrets.Vault
	audit    *audit.Log
	ws       *workspace.Workspace
	settings *settings.Service
	models   *llm.Manager
	web      *egress.Client
	scripts  *approval.Service
	// mcpWeb is the egress guard of the external MCP servers (issue 15):
	// the same allowlist as web, and the admin server's own address denied.
	mcpWeb  *egress.Client
	remote  *integration.Service
	queue   *worker.Queue
	hub     *live.Hub
	core    *orchestrator.Core
	bot     *discord.Runner
	jobs    *jobs.Service
	auth    *auth.Service
	csrfKey []byte
	proxies []netip.Prefix
	own     *confine.Report // the orchestrator's own Landlock; nil when off
	backups *backup.Scheduler

	discordHTTP *http.Client // the bot's HTTP client (tests), for the doctor's Discord probe

	closers []func() // run in reverse order by close
}

// build opens the store, the vault and the workspace and builds every
// component from them; nothing is started and nothing listens yet. On
// error, what was opened is closed again.
func build(ctx context.Context, cfg config.Config, logger *slog.Logger, holder *redact.Holder,
	getenv func(string) string, stderr io.Writer, opts options) (a *app, err error) {
	a = &app{cfg: cfg, logger: logger, holder: holder, stderr: stderr, discordHTTP: opts.discordHTTPClient}
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	if err := a.open(ctx); err != nil {
		return nil, err
	}
	if err := a.buildServices(ctx, getenv); err != nil {
		return nil, err
	}
	if err := a.buildCore(ctx, opts); err != nil {
		return nil, err
	}
	if err := a.buildBackups(); err != nil {
		return nil, err
	}
	if err := a.buildJobs(opts); err != nil {
		return nil, err
	}
	a.auth, a.csrfKey, err = newAuth(ctx, cfg, a.st, a.auditFn, logger.With("component", "auth"))
	if err != nil {
		return nil, err
	}
	if a.proxies, err = parseProxies(cfg.HTTP.TrustedProxies); err != nil {
		return nil, err
	}
	// Last: once the orchestrator's files are limited, they stay limited.
	a.own = confineOrchestrator(cfg, getenv, logger.With("component", "confine"))
	return a, nil
}

// open creates the data layout and opens the store, the vault (and with it
// the redactor), the audit log and the workspace.
func (a *app) open(ctx context.Context) error {
	secureDir, wsDir, err := dirs(a.cfg)
	if err != nil {
		return err
	}
	if a.st, err = store.Open(ctx, filepath.Join(secureDir, "airlock.db"), a.logger.With("component", "store")); err != nil {
		return err
	}
	a.onClose(func() { a.st.Close() })
	if a.vault, err = openVault(ctx, a.cfg, a.st); err != nil {
		return err
	}
	if err := rebuildRedactor(ctx, a.vault, a.holder); err != nil {
		return err
	}
	a.audit = audit.New(a.st, time.Now, a.holder)
	a.ws, err = workspace.Open(wsDir, workspace.Limits{MaxFileBytes: a.cfg.Workspace.MaxFileBytes,
		MaxMemoryBytes: a.cfg.Workspace.MaxMemoryBytes, MaxTotalBytes: a.cfg.Workspace.MaxTotalBytes})
	if err != nil {
		return err
	}
	a.onClose(func() { a.ws.Close() })
	return nil
}

// buildServices builds the settings and what they configure: the model
// gateway, the egress client and the script approvals.
func (a *app) buildServices(ctx context.Context, getenv func(string) string) error {
	var err error
	a.settings, err = settings.New(ctx, a.st, a.auditFn, settings.FromConfig(a.cfg), settings.LockedByEnv(getenv))
	if err != nil {
		return err
	}
	for _, p := range a.settings.Ignored() {
		a.logger.Warn("a stored setting is invalid and was ignored; the default applies", "field", p.Field, "problem", p.Message)
	}
	cur := a.settings.Get()
	a.models = llm.NewManager(llm.NewGateway(nil, llm.Budget{}, a.st, time.Now), a.holder, a.logger.With("component", "llm"))
	if err := a.refreshLLM(ctx, cur.LLM); err != nil {
		return err
	}
	if a.web, err = egress.NewClient(egress.Policy{Allow: cur.EgressAllow}); err != nil {
		return err
	}
	if err := a.ws.SetMaxFiles(cur.Workspace.MaxFiles); err != nil {
		return err
	}
	a.scripts = approval.New(a.st, a.audit, time.Now)
	a.scripts.SetPendingCaps(cur.Scripts.MaxPendingPerScript, cur.Scripts.MaxPendingTotal)
	return a.buildIntegrations(cur)
}

// buildCore builds the task queue, the live hub, the core and the Discord
// runner.
func (a *app) buildCore(ctx context.Context, opts options) error {
	a.queue = worker.New(time.Now, processAlive)
	a.hub = live.New()
	cur := a.settings.Get()
	var err error
	a.core, err = orchestrator.New(orchestrator.Config{MaxRounds: cur.Agent.MaxRounds, TaskTimeout: cur.Agent.TaskTimeout,
		HistoryTokens: cur.Agent.HistoryTokens,
		MemoryBytes:   a.cfg.Workspace.MaxMemoryBytes},
		orchestrator.Deps{Store: a.st, Audit: a.audit, Queue: a.queue, Workspace: a.ws, LLM: a.models.Gateway(), Web: a.web,
			Logger: a.logger.With("component", "core"), Approval: a.scripts, Secret: a.vault.Get,
			Live: a.hub, Redactor: a.holder, Remote: a.remote})
	if err != nil {
		return err
	}
	a.core.SetMemoryApproval(cur.Memory.RequireApproval)
	// memory_search reads the workspace's files as they are now.
	if err := a.core.IndexWorkspace(ctx); err != nil {
		a.logger.Warn("indexing the workspace for memory_search failed; it finds only what the model writes from now on", "err", err)
	}
	// Before any task: MEMORY.md's text becomes an admin-only note.
	if err := a.core.ImportLegacyMemory(ctx); err != nil {
		return err
	}
	a.bot = discord.NewRunner(ctx, a.discordConfig, discord.Deps{Handler: a.core, Store: a.st, Audit: a.audit,
		Logger: a.logger.With("component", "discord"), HTTPClient: opts.discordHTTPClient})
	a.onClose(a.bot.Close)
	return nil
}

// onClose registers f to run when the app is closed.
func (a *app) onClose(f func()) { a.closers = append(a.closers, f) }

// close closes what build opened, in reverse order.
func (a *app) close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
	a.closers = nil
}

func (a *app) auditFn(ctx context.Context, e audit.Event) { audited(ctx, a.audit, a.logger, e) }

// refreshLLM reads the LLM key from the vault and applies it with conf.
func (a *app) refreshLLM(ctx context.Context, conf settings.LLM) error {
	key, err := llmKey(ctx, a.vault)
	if err != nil {
		return err
	}
	a.models.Gateway().SetPrices(llmPrices(conf.Prices))
	return a.models.Apply(a.llmConfig(key, conf), llmBudget(conf))
}

// llmBudget is the gateway's budget of conf; money in nano-units.
func llmBudget(conf settings.LLM) llm.Budget {
	return llm.Budget{RequestsPerDay: conf.RequestsPerDay, TokensPerDay: int(conf.TokensPerDay),
		MoneyPerDay: int64(math.Round(conf.MoneyPerDay * llm.NanosPerUnit))}
}

// llmPrices is the settings' price table as the gateway takes it.
func llmPrices(ps []settings.ModelPrice) llm.Prices {
	out := make(llm.Prices, len(ps))
	for _, p := range ps {
		out[p.Model] = llm.Price{Input: p.Input, Output: p.Output, CacheRead: p.CacheRead, CacheWrite: p.CacheWrite}
	}
	return out
}

// llmConfig is the client configuration of key and conf.
func (a *app) llmConfig(key string, conf settings.LLM) llm.Config {
	return llm.Config{Provider: conf.Provider, BaseURL: conf.BaseURL, Model: conf.Model, APIKey: key,
		MaxTokens: conf.MaxTokens, Timeout: a.cfg.LLM.Timeout, MaxRetries: a.cfg.LLM.MaxRetries,
		NoPromptCache: !conf.PromptCache}
}

// testLLM tries conf with key (empty: the current key), for the settings
// page's "test connection" button.
func (a *app) testLLM(ctx context.Context, conf settings.LLM, key string) error {
	return a.models.Test(ctx, a.llmConfig(key, conf))
}

// llmKey returns the LLM key: the environment's, else the vault's, else
// none (local servers need none).
func llmKey(ctx context.Context, v *secrets.Vault) (string, error) {
	key, err := v.Get(ctx, secrets.LLMAPIKey)
	if errors.Is(err, secrets.ErrNotFound) {
		return "", nil
	}
	return key, err
}

// discordConfig is the bot's configuration now: the token from the vault
// (none: no bot) and the Discord settings.
func (a *app) discordConfig(ctx context.Context) (discord.Config, error) {
	token, err := a.vault.Get(ctx, secrets.DiscordToken)
	if err != nil && !errors.Is(err, secrets.ErrNotFound) {
		return discord.Config{}, err
	}
	conf := a.settings.Get().Discord
	return discord.Config{Token: discord.Token(token), AllowedUsers: conf.AllowedUsers,
		AllowedChannels: conf.AllowedChannels, Admins: conf.Admins, ReviewBaseURL: conf.ReviewBaseURL,
		RateLimit: conf.RateLimitPerMinute, RateWindow: time.Minute, MaxMessages: conf.MaxMessagesPerReply,
		LinkPreviews: conf.LinkPreviews, PreviewHosts: conf.LinkPreviewHosts}, nil
}
