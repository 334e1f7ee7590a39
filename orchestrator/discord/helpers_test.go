package discord

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator"
	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/discord/discordtest"
	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/bwmarrin/discordgo"
)

// testToken looks like a real bot token; it must show up nowhere but in the
// Authorization header and the gateway IDENTIFY/RESUME.
const testToken = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GxYzAb.t0ken-value-that-must-not-leak_0123456789"

// Users and channels of the tests.
var (
	alice    = &discordgo.User{ID: "100000000000000001", Username: "alice"}
	stranger = &discordgo.User{ID: "100000000000000666", Username: "mallory"}
	otherBot = &discordgo.User{ID: "100000000000000777", Username: "otherbot", Bot: true}
)

const (
	adminID     = "100000000000000002"
	guildID     = "200000000000000001"
	allowedChan = "300000000000000001"
	otherChan   = "300000000000000002"
	aliceDM     = "400000000000000001"
	strangerDM  = "400000000000000666"
	reviewBase  = "https://airlock.example:8443/"
)

// libLogs collects discordgo's own log lines, routed by LibraryLogger.
// discordgo.Logger is set once, before any session exists.
var libLogs syncBuffer

func TestMain(m *testing.M) {
	discordgo.Logger = LibraryLogger(slog.New(slog.NewTextHandler(&libLogs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	os.Exit(m.Run())
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// stubHandler stands in for the core.
type stubHandler struct {
	mu    sync.Mutex
	calls []orchestrator.Message
	reply func(ctx context.Context, m orchestrator.Message) (orchestrator.Reply, error)
}

func (h *stubHandler) HandleMessage(ctx context.Context, m orchestrator.Message) (orchestrator.Reply, error) {
	h.mu.Lock()
	h.calls = append(h.calls, m)
	fn := h.reply
	h.mu.Unlock()
	if fn != nil {
		return fn(ctx, m)
	}
	return orchestrator.Reply{ConversationID: m.ConversationID, Text: "echo: " + m.Text}, nil
}

func (h *stubHandler) Calls() []orchestrator.Message {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]orchestrator.Message(nil), h.calls...)
}

// env is a bot connected to a fake Discord, with a real store and audit log.
type env struct {
	t       *testing.T
	ctx     context.Context
	fake    *discordtest.Server
	bot     *Bot
	cfg     Config
	store   *store.Store
	audit   *audit.Log
	handler *stubHandler
	logs    *syncBuffer
	stopped bool
	stopBot func()
}

// newEnv starts a bot; edit may change its Config before it starts. The
// bot stops, and the token checks run, at the end of the test.
func newEnv(t *testing.T, edit func(*Config)) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	e := &env{t: t, ctx: ctx, handler: &stubHandler{}, logs: &syncBuffer{}}
	fake, err := discordtest.New(discordtest.Options{Token: testToken, HeartbeatInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e.fake = fake
	for _, id := range []string{aliceDM, strangerDM} {
		fake.AddChannel(discordgo.Channel{ID: id, Type: discordgo.ChannelTypeDM})
	}
	for _, id := range []string{allowedChan, otherChan} {
		fake.AddChannel(discordgo.Channel{ID: id, GuildID: guildID, Type: discordgo.ChannelTypeGuildText})
	}
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.store, err = store.Open(ctx, filepath.Join(t.TempDir(), "airlock.db"), logger)
	if err != nil {
		t.Fatal(err)
	}
	e.audit = audit.New(e.store, nil, nil)
	e.cfg = Config{Token: testToken, AllowedUsers: []string{alice.ID}, AllowedChannels: []string{allowedChan},
		Admins: []string{adminID}, ReviewBaseURL: reviewBase, RateLimit: 100, TypingEvery: 20 * time.Millisecond}
	if edit != nil {
		edit(&e.cfg)
	}
	e.bot, err = New(e.cfg, Deps{Handler: e.handler, Store: e.store, Audit: e.audit, Logger: logger,
		HTTPClient: fake.Client()})
	if err != nil {
		t.Fatal(err)
	}
	e.start()
	t.Cleanup(func() {
		e.stop()
		e.checkToken()
		e.store.Close()
		fake.Close()
	})
	return e
}

func (e *env) start() {
	e.t.Helper()
	runCtx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- e.bot.Run(runCtx) }()
	e.stopBot = func() {
		cancel()
		if err := <-done; err != nil {
			e.t.Errorf("Run: %v", err)
		}
	}
	e.waitFor("bot connected", func() bool { return e.fake.Stats().Connected && e.bot.Status().Connected })
	e.waitFor("commands registered", func() bool { return len(e.fake.Commands()) == 1 })
}

// stop shuts the bot down; afterwards nothing more can happen.
func (e *env) stop() {
	if !e.stopped {
		e.stopped = true
		e.stopBot()
	}
}

func (e *env) waitFor(what string, cond func() bool) {
	e.t.Helper()
	if err := e.fake.Wait(e.ctx, cond); err != nil {
		e.t.Fatalf("waiting for %s: %v", what, err)
	}
}

// waitMessages waits until the bot posted n messages to a channel.
func (e *env) waitMessages(channelID string, n int) []discordtest.SentMessage {
	e.t.Helper()
	e.waitFor(fmt.Sprintf("%d messages in %s", n, channelID), func() bool {
		return len(e.fake.MessagesIn(channelID)) >= n
	})
	return e.fake.MessagesIn(channelID)
}

func (e *env) send(m discordgo.Message) {
	e.t.Helper()
	if _, err := e.fake.SendMessage(m); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) slash(i discordgo.Interaction) string {
	e.t.Helper()
	id, err := e.fake.SendInteraction(i)
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

// ignoredAudits returns the discord.ignored entries, polling until there
// are at least min of them.
func (e *env) ignoredAudits(min int) []audit.Entry {
	e.t.Helper()
	for {
		got, err := e.audit.List(e.ctx, audit.Filter{Action: "discord.ignored"})
		if err != nil {
			e.t.Fatal(err)
		}
		if len(got) >= min {
			return got
		}
		select {
		case <-e.ctx.Done():
			e.t.Fatalf("waiting for %d discord.ignored entries: have %d", min, len(got))
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// checkToken asserts the token went only where it must: the Authorization
// header of requests to (what the client took for) discord.com, and the
// gateway IDENTIFY and RESUME. It is in no log line, no request body, no
// other gateway frame, nothing the handler received, and no formatting of
// the Config.
func (e *env) checkToken() {
	t := e.t
	e.stop()
	secret := strings.TrimPrefix(testToken, "Bot ")
	for _, s := range []string{e.logs.String(), libLogs.String()} {
		if strings.Contains(s, secret) {
			t.Error("the token is in a log line")
		}
	}
	for _, r := range e.fake.Requests() {
		if r.Path == "/ws/" {
			continue
		}
		if r.Authorization != "Bot "+testToken || r.Host != "discord.com" || bytes.Contains(r.Body, []byte(secret)) {
			t.Errorf("request %s %s to %q: bad token placement (auth %d bytes)", r.Method, r.Path, r.Host, len(r.Authorization))
		}
	}
	identified := false
	for _, f := range e.fake.Frames() {
		has := bytes.Contains(f.Data, []byte(secret))
		identified = identified || (f.Op == 2 && has)
		if has && f.Op != 2 && f.Op != 6 {
			t.Errorf("token in a gateway frame with op %d", f.Op)
		}
	}
	if !identified {
		t.Error("no IDENTIFY carried the token: the checks above saw nothing")
	}
	for _, m := range e.handler.Calls() {
		if strings.Contains(fmt.Sprintf("%#v", m), secret) {
			t.Error("token passed to the handler")
		}
	}
	js, _ := json.Marshal(e.cfg)
	for _, s := range []string{fmt.Sprintf("%v %+v %#v %s %q", e.cfg, e.cfg, e.cfg, e.cfg.Token, e.cfg.Token), string(js)} {
		if strings.Contains(s, secret) {
			t.Errorf("token in a formatted Config: %s", s)
		}
	}
}

func scriptInfo(name, sha string) tools.ScriptInfo {
	return tools.ScriptInfo{Name: name, SHA256: sha, Status: "pending", Description: "@everyone click here"}
}

// rejoin undoes Split's added fences: a part ending in a fence it added and
// the next part starting with the reopened one.
func rejoin(parts []string, lang string) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			p = strings.TrimPrefix(p, "```"+lang+"\n")
			b.WriteString("\n")
		}
		if i < len(parts)-1 {
			p = strings.TrimSuffix(p, "\n```")
		}
		b.WriteString(p)
	}
	return b.String()
}
