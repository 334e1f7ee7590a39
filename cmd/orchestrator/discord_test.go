package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/discord/discordtest"
	"github.com/airlockhq/airlock/orchestrator/llm/llmtest"
	"github.com/bwmarrin/discordgo"
)

// The Discord tests run the orchestrator in process (run, not the binary),
// so that the bot's discordgo session can be handed the fake Discord's
// http.Client through run's options; the worker is the real aiworker
// binary on the orchestrator's socket.

// discordTestToken looks like a bot token; it must reach only the fake
// Discord's Authorization header and gateway IDENTIFY/RESUME.
const discordTestToken = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GxYzAb.wiring-token-that-must-not-leak_0123456789"

// Discord users and channels of the tests (ids are 17-20 digits, as the
// settings require).
var (
	dcAlice    = &discordgo.User{ID: "100000000000000001", Username: "alice"}
	dcStranger = &discordgo.User{ID: "100000000000000666", Username: "mallory"}
)

const (
	dcAdminID    = "100000000000000002"
	dcAliceDM    = "400000000000000001"
	dcStrangerDM = "400000000000000666"
)

// discordStack is an in-process orchestrator, its aiworker, a fake LLM and
// a fake Discord.
type discordStack struct {
	*stack
	ctx        context.Context
	fake       *discordtest.Server
	env        map[string]string
	socketDir  string
	worker     *exec.Cmd
	workerLogs *syncBuffer
	responses  *syncBuffer // every API response body, for the token check
}

func (d *discordStack) getenv(k string) string { return d.env[k] }

// startDiscordStack runs the orchestrator with run() and extra environment,
// starts the worker, and signs in as the admin.
func startDiscordStack(t *testing.T, extra map[string]string) *discordStack {
	t.Helper()
	ctx, cancelAll := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancelAll)
	llm, err := llmtest.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(llm.Close)
	fake, err := discordtest.New(discordtest.Options{Token: discordTestToken, HeartbeatInterval: 250 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fake.Close() })
	// t.TempDir can be too long for a Unix socket path (108 bytes).
	sockDir, err := os.MkdirTemp("", "al")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	dir := t.TempDir()
	d := &discordStack{ctx: ctx, fake: fake, socketDir: sockDir, workerLogs: &syncBuffer{}, responses: &syncBuffer{},
		stack: &stack{t: t, dir: dir, dataDir: filepath.Join(dir, "data"), llm: llm, logs: &syncBuffer{}}}
	d.env = map[string]string{
		"PATH":                 os.Getenv("PATH"),
		"HOME":                 dir,
		"AIRLOCK_DATA_DIR":     d.dataDir,
		"AIRLOCK_HTTP_ADDR":    "127.0.0.1:0",
		"AIRLOCK_SOCKET":       filepath.Join(sockDir, "mcp.sock"),
		"AIRLOCK_WORKER_UID":   strconv.Itoa(os.Getuid()),
		"AIRLOCK_LLM_PROVIDER": "openai",
		"AIRLOCK_LLM_BASE_URL": llm.URL() + "/v1",
		"AIRLOCK_LLM_MODEL":    "fake-model",
		"AIRLOCK_LLM_API_KEY":  canaryKey,
		// run() runs inside this test process: its Landlock would confine
		// the whole test binary.
		landlockEnv: "off",
	}
	for k, v := range extra {
		d.env[k] = v
	}

	runCtx, stopRun := context.WithCancel(ctx)
	var runErr error
	exited := make(chan struct{})
	go func() {
		runErr = run(runCtx, []string{"orchestrator"}, d.getenv, d.logs, options{discordHTTPClient: fake.Client()})
		close(exited)
	}()
	t.Cleanup(func() {
		stopRun()
		select {
		case <-exited:
			if runErr != nil {
				t.Errorf("run: %v", runErr)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("run did not return within 15s of cancel")
		}
	})

	deadline := time.Now().Add(15 * time.Second)
	for {
		if m := httpAddrRE.FindStringSubmatch(d.logs.String()); m != nil {
			d.base = "http://" + m[1]
			break
		}
		select {
		case <-exited:
			t.Fatalf("run returned at start: %v\n%s", runErr, d.logs.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the orchestrator did not start serving HTTP:\n%s", d.logs.String())
		}
	}
	d.startWorker()
	d.token = d.signIn()
	d.waitReady()
	return d
}

// startWorker runs aiworker as dev mode's supervisor would, with the
// environment the orchestrator's allowlist (workerEnviron) gives it.
func (d *discordStack) startWorker() {
	t := d.t
	t.Helper()
	d.worker = exec.Command(filepath.Join(binDir, "aiworker"))
	d.worker.Env = workerEnviron(d.getenv, d.env["AIRLOCK_SOCKET"])
	d.worker.Stdout, d.worker.Stderr = d.workerLogs, d.workerLogs
	d.worker.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.worker.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { d.worker.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = d.worker.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = d.worker.Process.Kill()
			<-exited
		}
	})
}

// call sends an API request with the bearer token, records the response
// body and decodes it into out.
func (d *discordStack) call(method, path string, body, out any) int {
	d.t.Helper()
	var r io.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		r = bytes.NewReader(j)
	}
	req, _ := http.NewRequestWithContext(d.ctx, method, d.base+path, r)
	req.Header.Set("Authorization", "Bearer "+d.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	fmt.Fprintf(d.responses, "%s %s -> %d %s\n", method, path, resp.StatusCode, raw)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			d.t.Fatalf("%s %s: decoding %q: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode
}

// saveSettings PUTs a partial settings document.
func (d *discordStack) saveSettings(doc string) {
	d.t.Helper()
	var raw json.RawMessage = []byte(doc)
	if code := d.call("PUT", "/api/v1/settings", raw, nil); code != http.StatusOK {
		d.t.Fatalf("PUT /api/v1/settings %s: %d", doc, code)
	}
}

// metricConnected reads airlock_discord_connected from /metrics: the same
// Status the dashboard shows.
func (d *discordStack) metricConnected() string {
	d.t.Helper()
	resp, err := http.Get(d.base + "/metrics")
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	d.responses.Write(raw)
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "airlock_discord_connected "); ok {
			return v
		}
	}
	return ""
}

// waitFake waits, with the test's deadline, until cond holds on the fake.
func (d *discordStack) waitFake(what string, cond func() bool) {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(d.ctx, 10*time.Second)
	defer cancel()
	if err := d.fake.Wait(ctx, cond); err != nil {
		d.t.Fatalf("waiting for %s: %v\nlogs:\n%s", what, err, d.logs.String())
	}
}

// waitIdentified waits until the bot has identified n times in all and
// has a live session, and registered /new on it.
func (d *discordStack) waitIdentified(n int) {
	d.t.Helper()
	d.waitFake(fmt.Sprintf("IDENTIFY #%d and READY", n), func() bool {
		st := d.fake.Stats()
		return st.Identifies >= n && st.Connected && len(d.fake.Commands()) >= n
	})
	waitFor(d.t, 5*time.Second, "the dashboard status to say connected", func() bool { return d.metricConnected() == "1" })
}

func (d *discordStack) dm(user *discordgo.User, channel, text string) {
	d.t.Helper()
	d.fake.AddChannel(discordgo.Channel{ID: channel, Type: discordgo.ChannelTypeDM})
	if _, err := d.fake.SendMessage(discordtest.DirectMessage(user, channel, text)); err != nil {
		d.t.Fatal(err)
	}
}

// ignored returns the discord.ignored audit entries of actor, polling
// until there are at least min.
func (d *discordStack) ignored(actor string, min int) []map[string]any {
	d.t.Helper()
	var out struct {
		Entries []map[string]any `json:"entries"`
	}
	waitFor(d.t, 10*time.Second, fmt.Sprintf("%d discord.ignored entries for %s", min, actor), func() bool {
		if code := d.call("GET", "/api/v1/audit?action=discord.ignored&actor="+actor, nil, &out); code != http.StatusOK {
			d.t.Fatalf("GET /api/v1/audit: %d", code)
		}
		return len(out.Entries) >= min
	})
	return out.Entries
}

// assertTokenNowhere checks the token reached only the fake Discord's
// Authorization header (and the gateway IDENTIFY): not the orchestrator's
// or the worker's logs, no API response, no LLM request, not the worker's
// environment or arguments.
func (d *discordStack) assertTokenNowhere() {
	t := d.t
	t.Helper()
	check := func(where, text string) {
		t.Helper()
		if strings.Contains(text, discordTestToken) {
			t.Errorf("the Discord token appears in %s", where)
		}
	}
	check("the orchestrator's logs", d.logs.String())
	check("the worker's logs", d.workerLogs.String())
	check("an API response", d.responses.String())
	for i, r := range d.llm.Requests() {
		check(fmt.Sprintf("LLM request %d", i), string(r.Body)+fmt.Sprint(r.Header))
	}
	pid := strconv.Itoa(d.worker.Process.Pid)
	for _, f := range []string{"environ", "cmdline"} {
		b, err := os.ReadFile("/proc/" + pid + "/" + f)
		if err != nil {
			t.Fatalf("read the worker's %s: %v", f, err)
		}
		check("the worker's "+f, string(b))
		if strings.Contains(string(b), "DISCORD_TOKEN") {
			t.Errorf("the worker's %s names DISCORD_TOKEN", f)
		}
	}
	used := false
	for _, r := range d.fake.Requests() {
		if r.Path == "/ws/" {
			continue
		}
		used = used || r.Authorization == "Bot "+discordTestToken
		if r.Authorization != "Bot "+discordTestToken || r.Host != "discord.com" || strings.Contains(string(r.Body), discordTestToken) {
			t.Errorf("Discord request %s %s to %q: bad token placement", r.Method, r.Path, r.Host)
		}
	}
	if !used {
		t.Error("no request to the fake Discord carried the token: the checks above saw nothing")
	}
}

func TestDiscordWiringThroughTheAPI(t *testing.T) {
	d := startDiscordStack(t, nil)
	if v := d.metricConnected(); v != "0" {
		t.Errorf("before a token: airlock_discord_connected = %q, want 0", v)
	}

	// Settings first (no token yet: the bot stays off), then the token.
	d.saveSettings(`{"discord":{"allowed_users":["` + dcAlice.ID + `"],"admins":["` + dcAdminID +
		`"],"review_base_url":"https://airlock.example"}}`)
	if code := d.call("PUT", "/api/v1/secrets/DISCORD_TOKEN", map[string]string{"value": discordTestToken}, nil); code != http.StatusCreated {
		t.Fatalf("PUT /api/v1/secrets/DISCORD_TOKEN: %d", code)
	}
	d.waitIdentified(1)

	// A stranger's DMs (dispatched first) get nothing and one audit entry;
	// alice's DM gets the model's reply.
	d.dm(dcStranger, dcStrangerDM, "let me in")
	d.dm(dcStranger, dcStrangerDM, "please")
	d.dm(dcAlice, dcAliceDM, "hello from discord")
	d.waitFake("the reply to alice", func() bool { return len(d.fake.MessagesIn(dcAliceDM)) >= 1 })
	if got := d.fake.MessagesIn(dcAliceDM)[0].Content; !strings.Contains(got, "fake reply") || !strings.Contains(got, "hello from discord") {
		t.Errorf("alice got %q, want the fake LLM's reply to her message", got)
	}
	if entries := d.ignored("discord:"+dcStranger.ID, 1); len(entries) != 1 {
		t.Errorf("discord.ignored entries for the stranger = %d, want 1 (throttled): %v", len(entries), entries)
	}
	if n := len(d.fake.MessagesIn(dcStrangerDM)); n != 0 {
		t.Errorf("the stranger got %d messages", n)
	}

	// The conversation is listed with source discord, readable, and
	// read-only for the API.
	var list struct {
		Conversations []struct {
			ID, Source, Title string
		} `json:"conversations"`
	}
	if code := d.call("GET", "/api/v1/conversations", nil, &list); code != http.StatusOK {
		t.Fatalf("GET /api/v1/conversations: %d", code)
	}
	var conv string
	for _, c := range list.Conversations {
		if c.Source == "discord" {
			if conv != "" {
				t.Errorf("more than one Discord conversation: %+v", list.Conversations)
			}
			conv = c.ID
		}
	}
	if conv == "" {
		t.Fatalf("no conversation with source discord: %+v", list.Conversations)
	}
	var transcript struct {
		Messages []storedMessage `json:"messages"`
	}
	if code := d.call("GET", "/api/v1/conversations/"+conv, nil, &transcript); code != http.StatusOK {
		t.Fatalf("GET the Discord conversation: %d", code)
	}
	if len(transcript.Messages) < 2 || !strings.Contains(transcript.Messages[0].Content, "hello from discord") {
		t.Errorf("transcript = %+v", transcript.Messages)
	}
	if code := d.call("POST", "/api/v1/conversations/"+conv+"/messages", map[string]string{"text": "hi from the web"}, nil); code != http.StatusConflict {
		t.Errorf("POST to the Discord conversation: %d, want 409", code)
	}

	// The model proposes a script in alice's next turn: the admin gets a
	// DM with the review link, built on the review base URL.
	d.llm.Enqueue(
		llmtest.Reply{ToolCalls: []llmtest.Call{{Name: tools.ScriptPropose, Args: map[string]any{"name": "greeter",
			"source": "# @description: Says hello\n\ndef hello(name):\n    return \"hello \" + name\n"}}}},
		llmtest.Reply{Text: "I proposed a script for review."})
	d.dm(dcAlice, dcAliceDM, "write me a greeter script")
	d.waitFake("the reply to alice's second message", func() bool { return len(d.fake.MessagesIn(dcAliceDM)) >= 2 })
	if got := d.fake.MessagesIn(dcAliceDM)[1].Content; got != "I proposed a script for review." {
		t.Errorf("alice's second reply = %q", got)
	}
	var scripts struct {
		Scripts []tools.ScriptInfo `json:"scripts"`
	}
	if code := d.call("GET", "/api/v1/scripts", nil, &scripts); code != http.StatusOK || len(scripts.Scripts) != 1 {
		t.Fatalf("GET /api/v1/scripts: %d %+v\nlogs:\n%s", code, scripts, d.logs.String())
	}
	link := "https://airlock.example/scripts/greeter?sha256=" + scripts.Scripts[0].SHA256
	d.waitFake("the admin's DM", func() bool {
		ch := d.fake.DMChannel(dcAdminID)
		return ch != "" && len(d.fake.MessagesIn(ch)) >= 1
	})
	adminMsgs := d.fake.MessagesIn(d.fake.DMChannel(dcAdminID))
	if len(adminMsgs) != 1 || !strings.Contains(adminMsgs[0].Content, link) {
		t.Errorf("admin DMs = %+v, want one with %s", adminMsgs, link)
	}
	if n := len(d.fake.MessagesIn(dcAliceDM)); n != 2 {
		t.Errorf("alice has %d messages, want 2", n)
	}

	// Removing alice from the allowlist applies without a restart of the
	// orchestrator: the bot reconnects with the new settings and refuses
	// her from then on.
	d.saveSettings(`{"discord":{"allowed_users":[]}}`)
	d.waitIdentified(2)
	d.dm(dcAlice, dcAliceDM, "are you still there?")
	if entries := d.ignored("discord:"+dcAlice.ID, 1); !strings.Contains(fmt.Sprint(entries), "user not allowlisted") {
		t.Errorf("alice's discord.ignored entry = %v", entries)
	}
	if n := len(d.fake.MessagesIn(dcAliceDM)); n != 2 {
		t.Errorf("alice has %d messages after her removal, want still 2", n)
	}
	if len(logLines(d.logs.String(), "the user allowlist is empty")) == 0 {
		t.Error("no warning that the empty allowlist answers nobody")
	}

	var v struct {
		OK bool `json:"ok"`
	}
	if code := d.call("GET", "/api/v1/audit/verify", nil, &v); code != http.StatusOK || !v.OK {
		t.Errorf("audit verify: %d %+v", code, v)
	}
	d.assertTokenNowhere()
}

func TestDiscordTokenFromEnvironmentStartsAtBoot(t *testing.T) {
	d := startDiscordStack(t, map[string]string{"DISCORD_TOKEN": discordTestToken})
	// No API call has touched Discord: the bot started with the orchestrator.
	d.waitIdentified(1)
	var secrets json.RawMessage
	if code := d.call("GET", "/api/v1/secrets", nil, &secrets); code != http.StatusOK || !strings.Contains(string(secrets), "DISCORD_TOKEN") {
		t.Errorf("GET /api/v1/secrets: %d %s", code, secrets)
	}

	// The allowlist starts empty: alice is refused until she is added.
	d.dm(dcAlice, dcAliceDM, "anyone home?")
	d.ignored("discord:"+dcAlice.ID, 1)
	d.saveSettings(`{"discord":{"allowed_users":["` + dcAlice.ID + `"]}}`)
	d.waitIdentified(2)
	d.dm(dcAlice, dcAliceDM, "hello again")
	d.waitFake("the reply to alice", func() bool { return len(d.fake.MessagesIn(dcAliceDM)) >= 1 })
	if got := d.fake.MessagesIn(dcAliceDM); len(got) != 1 || !strings.Contains(got[0].Content, "hello again") {
		t.Errorf("alice got %+v", got)
	}

	// A dropped gateway connection is resumed, and the status follows.
	d.fake.DropConnection()
	d.waitFake("RESUME", func() bool { st := d.fake.Stats(); return st.Resumes >= 1 && st.Connected })
	waitFor(t, 5*time.Second, "the dashboard status to say connected", func() bool { return d.metricConnected() == "1" })

	// discordgo's own log lines reach our log through the redactor (issue
	// 20, item 7): an event it does not know is logged as a warning, with
	// its payload, which here holds the token. Without the routing in run
	// the line would go to the process's stderr instead; without the pinned
	// level (discordgo's default is errors only) it would not be logged.
	if err := d.fake.Dispatch("AIRLOCK_PROBE_EVENT", map[string]string{"echo": discordTestToken}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "discordgo's warning in the log", func() bool {
		for line := range strings.Lines(d.logs.String()) {
			if strings.Contains(line, "component=discordgo") && strings.Contains(line, "AIRLOCK_PROBE_EVENT") {
				return strings.Contains(line, "level=WARN")
			}
		}
		return false
	})
	d.assertTokenNowhere()
}

// A Discord settings change restarts the bot while an answer is in flight
// whose task proposes a script: the restart must not stall the task (the
// proposal hook must not wait for the restart), the dashboard status must
// keep answering, and the admins must still get their DM.
func TestDiscordRestartDuringAnswer(t *testing.T) {
	d := startDiscordStack(t, nil)
	d.saveSettings(`{"discord":{"allowed_users":["` + dcAlice.ID + `"],"admins":["` + dcAdminID + `"]}}`)
	if code := d.call("PUT", "/api/v1/secrets/DISCORD_TOKEN", map[string]string{"value": discordTestToken}, nil); code != http.StatusCreated {
		t.Fatalf("PUT /api/v1/secrets/DISCORD_TOKEN: %d", code)
	}
	d.waitIdentified(1)
	d.llm.Enqueue(
		llmtest.Reply{Delay: time.Second, ToolCalls: []llmtest.Call{{Name: tools.ScriptPropose, Args: map[string]any{
			"name": "greeter", "source": "# @description: Says hello\n\ndef hello(name):\n    return \"hello \" + name\n"}}}},
		llmtest.Reply{Text: "I proposed a script for review."})
	d.dm(dcAlice, dcAliceDM, "write me a greeter script")
	waitFor(t, 10*time.Second, "the task to reach the model", func() bool { return len(d.llm.Requests()) >= 1 })

	d.saveSettings(`{"discord":{"rate_limit_per_minute":20}}`)
	start := time.Now()
	for time.Since(start) < 1500*time.Millisecond {
		t0 := time.Now()
		d.metricConnected()
		if took := time.Since(t0); took > time.Second {
			t.Fatalf("/metrics took %s during the bot's restart: the status waits for the restart", took)
		}
		time.Sleep(50 * time.Millisecond)
	}
	d.waitFake("the admin's DM about the proposal made during the restart", func() bool {
		ch := d.fake.DMChannel(dcAdminID)
		return ch != "" && len(d.fake.MessagesIn(ch)) >= 1
	})
	d.waitIdentified(2)
	if took := time.Since(start); took > 8*time.Second {
		t.Errorf("the restart took %s: it waited out the task's budget", took)
	}
	if lines := logLines(d.logs.String(), "task budget"); len(lines) > 0 {
		t.Errorf("the task ran out of budget during the restart: %s", lines[0])
	}
}
