package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/config"
	"github.com/airlockhq/airlock/orchestrator/doctor"
	"github.com/airlockhq/airlock/orchestrator/llm"
	"github.com/airlockhq/airlock/orchestrator/secrets"
	"github.com/airlockhq/airlock/orchestrator/settings"
	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/secure/egress"
	"github.com/airlockhq/airlock/secure/redact"
	"github.com/airlockhq/airlock/secure/vault"
	"github.com/bwmarrin/discordgo"
)

// exitCode is an error that only sets the process's exit status.
type exitCode int

func (e exitCode) Error() string { return "exit status " + strconv.Itoa(int(e)) }

// runDoctor is `orchestrator doctor [--json] [--deep]`: it audits the
// deployment (orchestrator/doctor) and exits 0, 1 (warnings) or 2
// (failures). It changes nothing: the database is opened query-only.
func runDoctor(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("orchestrator doctor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dev := fs.Bool("dev", false, "development mode (as for the orchestrator itself)")
	cfgPath := fs.String("config", "", "configuration file (default $AIRLOCK_CONFIG or <data>/secure/config.yaml)")
	asJSON := fs.Bool("json", false, `print {"checks":[...]} instead of text`)
	deep := fs.Bool("deep", false, "also probe: the egress guard, the model (one tiny request, counted in the budget), the Discord token and the allowed channels' servers")
	if err := fs.Parse(args); err != nil {
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
	logger := slog.New(slog.DiscardHandler)
	env := doctor.Env{Config: cfg, Getenv: getenv, DiskFree: diskFree, Deep: *deep, Now: time.Now,
		Settings: settings.FromConfig(cfg), Live: readLive(cfg)}
	st, err := store.OpenReadOnly(ctx, cfg.DBPath(), logger)
	if err == nil {
		defer st.Close()
		env.Store = st
		noAudit := func(context.Context, audit.Event) {}
		if svc, err := settings.New(ctx, st, noAudit, settings.FromConfig(cfg), settings.LockedByEnv(getenv)); err == nil {
			env.Settings = svc.Get()
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		env.StoreErr = err
		fmt.Fprintf(stderr, "doctor: the database is not readable (%v); its checks are skipped\n", err)
	}
	llmKey, discordToken := cliSecret(ctx, cfg, st, secrets.LLMAPIKey), cliSecret(ctx, cfg, st, secrets.DiscordToken)
	env.LLMKey, env.DiscordToken = llmKey != "", discordToken != ""
	if *deep {
		web, err := egress.NewClient(egress.Policy{Allow: env.Settings.EgressAllow})
		if err != nil {
			return err
		}
		holder := &redact.Holder{}
		if r, err := redact.New(redactEntries(llmKey, discordToken)); err == nil {
			holder.Store(r)
		}
		// The model probe goes through a gateway with the day's budgets
		// and prices, counted against the usage the database records,
		// and its own usage row is written there (the only write doctor
		// makes, so that the probe is counted like the API's).
		conf := env.Settings.LLM
		var counter llm.UsageCounter
		var record func(context.Context, store.LLMCall) error
		if st != nil {
			counter = st
			dbPath := cfg.DBPath()
			record = func(ctx context.Context, c store.LLMCall) error { return store.RecordUsageAt(ctx, dbPath, c, logger) }
		}
		gw := llm.NewGateway(nil, llmBudget(conf), counter, time.Now)
		gw.SetPrices(llmPrices(conf.Prices))
		models := llm.NewManager(gw, holder, logger)
		probe := modelProbe(gw, st != nil, record, holder)
		if err := models.Apply(llm.Config{Provider: conf.Provider, BaseURL: conf.BaseURL, Model: conf.Model,
			APIKey: llmKey, MaxTokens: 16, Timeout: cfg.LLM.Timeout, NoPromptCache: !conf.PromptCache}, llmBudget(conf)); err != nil {
			msg := holder.Load().String(err.Error())
			probe = func(context.Context) (doctor.ModelProbe, error) { return doctor.ModelProbe{}, errors.New(msg) }
		}
		env.Probes = doctor.Probes{
			Egress:         egressProbe(web),
			Model:          probe,
			Discord:        discordProbe(discordToken, nil, holder),
			DiscordChannel: discordChannelProbe(discordToken, nil, holder),
		}
	}
	rep := doctor.Run(ctx, env)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = rep.WriteText(stdout)
	}
	if err != nil {
		return err
	}
	if code := rep.ExitCode(); code != 0 {
		return exitCode(code)
	}
	return nil
}

// cliSecret returns a secret the doctor command needs for its deep probes:
// from the environment (or *_FILE) as the orchestrator would take it, else
// opened from the vault with the master key, read only. Empty: not set or
// not readable.
func cliSecret(ctx context.Context, cfg config.Config, st *store.Store, name string) string {
	switch name {
	case secrets.LLMAPIKey:
		if v := cfg.LLMAPIKey.Reveal(); v != "" {
			return v
		}
	case secrets.DiscordToken:
		if v := cfg.DiscordToken.Reveal(); v != "" {
			return v
		}
	}
	if st == nil {
		return ""
	}
	blob, err := st.SecretBlob(ctx, name)
	if err != nil {
		return ""
	}
	key, err := vault.LoadKey(cfg.MasterKeyPath())
	if err != nil {
		return ""
	}
	s, err := vault.NewSealer(key)
	if err != nil {
		return ""
	}
	v, err := s.Open(name, blob)
	if err != nil {
		return ""
	}
	return string(v)
}

func redactEntries(values ...string) []redact.Secret {
	var out []redact.Secret
	for i, v := range values {
		if v != "" {
			out = append(out, redact.Secret{Name: []string{"LLM_API_KEY", "DISCORD_TOKEN"}[i], Value: v})
		}
	}
	return out
}

// egressProbe fetches a URL through the AI's egress client.
func egressProbe(web *egress.Client) func(ctx context.Context, rawURL string) error {
	return func(ctx context.Context, rawURL string) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
		if err != nil {
			return err
		}
		_, err = web.Do(req)
		return err
	}
}

// discordProbe asks Discord who the token belongs to (GET /users/@me).
// hc nil: discordgo's own client. Errors are redacted.
func discordProbe(token string, hc *http.Client, holder *redact.Holder) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		s, err := discordgo.New("Bot " + token)
		if err != nil {
			return errors.New("cannot build a Discord client")
		}
		if hc != nil {
			s.Client = hc
		}
		if _, err := s.User("@me", discordgo.WithContext(ctx)); err != nil {
			return errors.New(holder.Load().String(err.Error()))
		}
		return nil
	}
}

// doctorTaskID is the task_id of the model probe's usage row.
const doctorTaskID = "doctor"

// modelProbe sends the configured model one tiny request through gw,
// under today's budgets, and records its usage with record as the
// gateway's callers do (no conversation, task "doctor", cost at the
// current prices) before the reservation is settled, so that the probe
// counts in the budgets. With no budget check possible (haveUsage false:
// no database) while a budget is set, or with the budget used up, the
// request is not sent (doctor.ErrNotSent). Errors are redacted.
func modelProbe(gw *llm.Gateway, haveUsage bool, record func(context.Context, store.LLMCall) error, holder *redact.Holder) func(context.Context) (doctor.ModelProbe, error) {
	return func(ctx context.Context) (doctor.ModelProbe, error) {
		if b := gw.Budget(); !haveUsage && (b.RequestsPerDay > 0 || b.TokensPerDay > 0 || b.MoneyPerDay > 0) {
			return doctor.ModelProbe{}, fmt.Errorf("%w: a daily budget is set and there is no database to check it against", doctor.ErrNotSent)
		}
		req := llm.Request{System: "This is a health check.",
			Messages: []llm.Message{{Role: llm.RoleUser, Content: "Reply with the word OK."}}}
		call, err := gw.Reserve(ctx, req)
		if errors.Is(err, llm.ErrBudgetExhausted) {
			return doctor.ModelProbe{}, fmt.Errorf("%w: %s", doctor.ErrNotSent, holder.Load().String(err.Error()))
		}
		if err != nil {
			return doctor.ModelProbe{}, errors.New(holder.Load().String(err.Error()))
		}
		defer call.Settle()
		resp, err := call.Complete(ctx, req)
		if err != nil {
			return doctor.ModelProbe{}, errors.New(holder.Load().String(err.Error()))
		}
		if record == nil {
			return doctor.ModelProbe{NotCounted: "no database to record it in"}, nil
		}
		model := gw.Model()
		rec := store.LLMCall{TaskID: doctorTaskID, Provider: gw.Provider(), Model: model,
			InputTokens: resp.Usage.InputTokens, OutputTokens: resp.Usage.OutputTokens,
			CacheReadTokens: resp.Usage.CacheReadTokens, CacheWriteTokens: resp.Usage.CacheWriteTokens}
		if nanos, known := gw.Cost(model, resp.Usage); known {
			rec.CostNanos = &nanos
		}
		if err := record(context.WithoutCancel(ctx), rec); err != nil {
			return doctor.ModelProbe{NotCounted: "recording its usage failed: " + holder.Load().String(err.Error())}, nil
		}
		return doctor.ModelProbe{Counted: true}, nil
	}
}

// discordChannelProbe looks up a channel's server with the bot's token:
// GET /channels/{id}, then GET /guilds/{id}?with_counts=true for its
// features and approximate member count (discord.public_servers). hc nil:
// discordgo's own client. Errors are redacted.
func discordChannelProbe(token string, hc *http.Client, holder *redact.Holder) func(ctx context.Context, id string) (doctor.DiscordChannel, error) {
	return func(ctx context.Context, id string) (doctor.DiscordChannel, error) {
		s, err := discordgo.New("Bot " + token)
		if err != nil {
			return doctor.DiscordChannel{}, errors.New("cannot build a Discord client")
		}
		if hc != nil {
			s.Client = hc
		}
		ch, err := s.Channel(id, discordgo.WithContext(ctx))
		if err != nil {
			return doctor.DiscordChannel{}, errors.New(holder.Load().String(err.Error()))
		}
		if ch.GuildID == "" {
			return doctor.DiscordChannel{}, nil
		}
		g, err := s.GuildWithCounts(ch.GuildID, discordgo.WithContext(ctx))
		if err != nil {
			return doctor.DiscordChannel{}, errors.New(holder.Load().String(err.Error()))
		}
		out := doctor.DiscordChannel{GuildID: ch.GuildID, GuildName: g.Name, Members: g.ApproximateMemberCount}
		for _, f := range g.Features {
			out.Features = append(out.Features, string(f))
		}
		return out, nil
	}
}

// diskFree is statfs's free (for an unprivileged user) and total bytes.
func diskFree(path string) (free, total uint64, err error) {
	var s syscall.Statfs_t
	if err := syscall.Statfs(path, &s); err != nil {
		return 0, 0, err
	}
	return s.Bavail * uint64(s.Bsize), s.Blocks * uint64(s.Bsize), nil
}

// livePath is where the running orchestrator publishes its live state for
// `orchestrator doctor`: next to the socket (a tmpfs in the container),
// mode 0600.
func livePath(cfg config.Config) string { return filepath.Join(filepath.Dir(cfg.Socket), "live.json") }

// readLive reads the running orchestrator's live state. Its PID must still
// be a process of this user; otherwise nothing is running.
func readLive(cfg config.Config) doctor.Live {
	b, err := os.ReadFile(livePath(cfg))
	if err != nil {
		return doctor.Live{}
	}
	var l doctor.Live
	if json.Unmarshal(b, &l) != nil || l.OrchestratorPID <= 0 {
		return doctor.Live{}
	}
	fi, err := os.Stat("/proc/" + strconv.Itoa(l.OrchestratorPID))
	if err != nil || int(fi.Sys().(*syscall.Stat_t).Uid) != os.Getuid() {
		return doctor.Live{}
	}
	l.Running = true
	return l
}

// live is what this orchestrator knows of itself and its worker now.
func (a *app) live() doctor.Live {
	ws := a.queue.Status(0)
	l := doctor.Live{OrchestratorPID: os.Getpid(), WorkerPID: ws.PID, WorkerConfinement: ws.Confinement, Running: true}
	if a.own != nil {
		l.LandlockFiles, l.LandlockABI, l.LandlockNotes = a.own.LandlockFiles, a.own.LandlockABI, a.own.Problems
	} else {
		l.LandlockNotes = []string{"not applied"}
	}
	return l
}

// publishLive writes live() to livePath whenever it changes, until ctx
// ends, then removes the file.
func (a *app) publishLive(ctx context.Context) {
	path := livePath(a.cfg)
	defer os.Remove(path)
	var last []byte
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		b, err := json.Marshal(a.live())
		if err == nil && string(b) != string(last) {
			if err := writeFileAtomic(path, b); err != nil {
				a.logger.Warn("publishing the live state for `orchestrator doctor` failed", "path", path, "err", err)
			} else {
				last = b
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func writeFileAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".live-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// doctorReport runs the doctor inside the running orchestrator, for
// GET /api/v1/doctor and the dashboard. Deep probes use the AI's own
// egress client, the model gateway (counted in the budget) and the bot's
// token.
func (a *app) doctorReport(ctx context.Context, deep bool) doctor.Report {
	env := doctor.Env{Config: a.cfg, Settings: a.settings.Get(), Getenv: os.Getenv, Store: a.st, Live: a.live(),
		DiskFree: diskFree, Now: time.Now, Deep: deep}
	llmKey, _ := llmKey(ctx, a.vault)
	token, _ := a.vault.Get(ctx, secrets.DiscordToken)
	env.LLMKey, env.DiscordToken = llmKey != "", token != ""
	if deep {
		env.Probes = doctor.Probes{
			Egress:         egressProbe(a.web),
			Model:          modelProbe(a.models.Gateway(), true, a.st.RecordLLMCall, a.holder),
			Discord:        discordProbe(token, a.discordHTTP, a.holder),
			DiscordChannel: discordChannelProbe(token, a.discordHTTP, a.holder),
		}
	}
	return doctor.Run(ctx, env)
}

// isDoctor reports whether args name the doctor subcommand.
func isDoctor(args []string) bool { return len(args) > 1 && strings.TrimSpace(args[1]) == "doctor" }
