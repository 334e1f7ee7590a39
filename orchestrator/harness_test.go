package orchestrator_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/airlockhq/airlock/aiworker/agent"
	mcpclient "github.com/airlockhq/airlock/mcp/client"
	mcpserver "github.com/airlockhq/airlock/mcp/server"
	"github.com/airlockhq/airlock/orchestrator"
	"github.com/airlockhq/airlock/orchestrator/approval"
	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/live"
	"github.com/airlockhq/airlock/orchestrator/llm"
	"github.com/airlockhq/airlock/orchestrator/llm/llmtest"
	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/orchestrator/worker"
	"github.com/airlockhq/airlock/orchestrator/workspace"
	"github.com/airlockhq/airlock/secure/egress"
	"github.com/airlockhq/airlock/secure/peercred"
	"github.com/airlockhq/airlock/secure/redact"
)

// harness is the whole system side in one process, with the real socket,
// MCP server and client; the agent runs only when asked, so a test can act
// as a rogue worker instead.
type harness struct {
	core  *orchestrator.Core
	store *store.Store
	audit *audit.Log
	queue *worker.Queue
	ws    *workspace.Workspace
	llm   *llmtest.Server
	gw    *llm.Gateway
	web   *egress.Client
	sock  string

	approval *approval.Service
	secrets  map[string]string // set with setSecret
	redactor redact.Holder
	live     *live.Hub // web-chat viewers' events; the model is called streamed
}

// setSecret adds a secret, as the vault would, and rebuilds the redactor.
func (h *harness) setSecret(tb testing.TB, name, value string) {
	tb.Helper()
	h.secrets[name] = value
	var list []redact.Secret
	for n, v := range h.secrets {
		list = append(list, redact.Secret{Name: n, Value: v})
	}
	r, err := redact.New(list)
	if err != nil {
		tb.Fatal(err)
	}
	h.redactor.Store(r)
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return pid > 0 && (err == nil || err == syscall.EPERM)
}

func newHarness(tb testing.TB, cfg orchestrator.Config, budget llm.Budget) *harness {
	tb.Helper()
	return newHarnessWith(tb, cfg, budget, llm.ProviderOpenAI)
}

// newHarnessWith is newHarness with the model called through provider's
// API (the fake LLM speaks both).
func newHarnessWith(tb testing.TB, cfg orchestrator.Config, budget llm.Budget, provider string) *harness {
	tb.Helper()
	ctx := context.Background()
	dir := tb.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "airlock.db"), quiet())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	ws, err := workspace.Open(filepath.Join(dir, "workspace"), workspace.Limits{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ws.Close() })
	fake, err := llmtest.New()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(fake.Close)
	client, err := llm.New(llm.Config{Provider: provider, BaseURL: fake.URL() + "/v1", Model: "fake",
		APIKey: "sk-harness-key-000000"}, nil, nil, quiet())
	if err != nil {
		tb.Fatal(err)
	}
	h := &harness{store: st, queue: worker.New(time.Now, alive), ws: ws, llm: fake,
		secrets: map[string]string{}, live: live.New()}
	h.audit = audit.New(st, nil, &h.redactor)
	h.gw = llm.NewGateway(client, budget, st, nil)
	h.approval = approval.New(st, h.audit, time.Now)
	h.web, err = egress.NewClient(egress.Policy{Allow: []string{"127.0.0.1"}})
	if err != nil {
		tb.Fatal(err)
	}
	h.core, err = orchestrator.New(cfg, orchestrator.Deps{Store: st, Audit: h.audit, Queue: h.queue, Workspace: ws,
		LLM: h.gw, Logger: quiet(), Approval: h.approval, Web: h.web,
		Redactor: &h.redactor, Live: h.live,
		Secret: func(_ context.Context, name string) (string, error) {
			if v, ok := h.secrets[name]; ok {
				return v, nil
			}
			return "", errors.New("not set")
		}})
	if err != nil {
		tb.Fatal(err)
	}

	runDir := filepath.Join(dir, "run")
	if err := os.Mkdir(runDir, 0o750); err != nil {
		tb.Fatal(err)
	}
	h.sock = filepath.Join(runDir, "mcp.sock")
	ln, err := peercred.Listen(h.sock, 0o660, -1)
	if err != nil {
		tb.Fatal(err)
	}
	srv := mcpserver.New(mcpserver.Config{WorkerUID: os.Getuid(), Logger: quiet()}, h.core.ServerTools()...)
	go srv.Serve(ln)
	tb.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	})
	return h
}

// client connects a new MCP client to the harness socket.
func (h *harness) client(tb testing.TB) *mcpclient.Client {
	tb.Helper()
	c := mcpclient.New(mcpclient.Options{SocketPath: h.sock, Logger: quiet(), ClientName: "test"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Connect(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// runAgent starts a real agent loop until the test ends.
func (h *harness) runAgent(tb testing.TB) {
	c := h.client(tb)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); agent.New(c, quiet(), agent.Limits{}).Serve(ctx, 4) }()
	tb.Cleanup(func() { cancel(); <-done })
}

// submit sends a message in the background and returns its reply channel.
func (h *harness) submit(tb testing.TB, convID, text string) <-chan orchestrator.Reply {
	out := make(chan orchestrator.Reply, 1)
	go func() {
		r, err := h.core.HandleMessage(context.Background(), orchestrator.Message{ConversationID: convID,
			Source: "api", Author: "test", Text: text})
		if err != nil {
			r = orchestrator.Reply{Failed: true, Text: "HandleMessage error: " + err.Error()}
		}
		out <- r
	}()
	return out
}

func (h *harness) conversation(tb testing.TB) string {
	tb.Helper()
	c, err := h.store.CreateConversation(context.Background(), store.SourceAPI, "t")
	if err != nil {
		tb.Fatal(err)
	}
	return c.ID
}
