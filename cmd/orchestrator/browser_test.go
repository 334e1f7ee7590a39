package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/integration/mcptest"
	"github.com/airlockhq/airlock/orchestrator/llm/llmtest"
)

// greetSource is the script the fake model proposes in the browser test: no
// network, no secrets.
const greetSource = `# @description: Greets someone by name and adds two numbers
# @timeout: 2s

def greet(name, a, b):
    return "Hello, " + name + "! " + str(a) + " + " + str(b) + " = " + str(a + b)
`

// greetResult is what greet("Ada", 2, 40) returns.
const greetResult = "Hello, Ada! 2 + 40 = 42"

// proposedReply is what the fake model says after proposing greet.
const proposedReply = "I proposed the script greet. It cannot run until an admin approves it."

// scriptResult returns the "result" of a script_run tool result, which
// arrives wrapped as untrusted data around a JSON object; the whole content
// when it has none.
func scriptResult(content string) string {
	i, j := strings.Index(content, "{"), strings.LastIndex(content, "}")
	var out struct {
		Result string `json:"result"`
	}
	if i < 0 || j < i || json.Unmarshal([]byte(content[i:j+1]), &out) != nil || out.Result == "" {
		return content
	}
	return out.Result
}

// findChromium returns the path of a Chromium or Chrome binary, or "" when
// there is none.
func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// artifactsDir returns (and creates) the directory for this test's
// screenshots: $AIRLOCK_ARTIFACTS, or airlock-artifacts in the temp dir.
func artifactsDir(t *testing.T) string {
	base := os.Getenv("AIRLOCK_ARTIFACTS")
	if base == "" {
		base = filepath.Join(os.TempDir(), "airlock-artifacts")
	}
	dir := filepath.Join(base, strings.ReplaceAll(t.Name(), "/", "_"))
	_ = os.RemoveAll(dir) // no stale screenshots from an earlier run
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browser drives one Chromium tab against a stack.
type browser struct {
	t         *testing.T
	ctx       context.Context
	base      string
	artifacts string
	docs      bool // also write the good screenshots to docs/screenshots

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

// do runs steps, failing the test with the page's address on error.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.fatalf("%s: %v", what, err)
	}
}

// fatalf fails the test, keeping a screenshot and the HTML of the page.
func (b *browser) fatalf(format string, args ...any) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		_ = os.WriteFile(filepath.Join(b.artifacts, "failure.png"), png, 0o644)
	}
	if html, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html"))); err == nil {
		_ = os.WriteFile(filepath.Join(b.artifacts, "failure.html"), []byte(html), 0o644)
	}
	b.t.Fatalf("%s (page %s; see %s)", fmt.Sprintf(format, args...), loc, b.artifacts)
}

// path waits until the page's path is want, and its query has query (if
// not empty).
func (b *browser) path(want, query string) {
	b.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var got string
	for time.Now().Before(deadline) {
		if loc, err := chromedp.Run(b.ctx, chromedp.Location()); err == nil {
			got = loc
			if u, err := url.Parse(loc); err == nil && u.Path == want && strings.Contains(u.RawQuery, query) {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.fatalf("the browser is on %q, want the path %q with %q", got, want, query)
}

// text returns the text of the first element sel matches. A query that
// races a navigation (the document replaced under it: "No node with given
// id") is tried again on the new document.
func (b *browser) text(sel string) string {
	b.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, time.Until(deadline))
		s, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(sel)))
		cancel()
		if err == nil {
			return s
		}
		if time.Now().After(deadline) {
			b.fatalf("text of %s: %v", sel, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// shot saves a screenshot of the viewport (or of the whole page) to the
// artifacts, and as docs/screenshots/<doc> when docs is set and doc is not
// empty.
func (b *browser) shot(name string, full bool, doc string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	// Let fonts and late layout settle.
	_ = chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.fonts.ready`, chromedp.EvalAwaitPromise))
	act := chromedp.CaptureScreenshot()
	if full {
		act = chromedp.FullScreenshot(100) // quality 100 is PNG
	}
	png, err := chromedp.Run(ctx, act)
	if err != nil {
		b.fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(b.artifacts, name), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	if b.docs && doc != "" {
		dir := filepath.Join("..", "..", "docs", "screenshots")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, doc), png, 0o644); err != nil {
			b.t.Fatal(err)
		}
	}
}

// chat starts a new web conversation, sends text with Enter, and waits
// until an assistant reply containing want has finished streaming.
func (b *browser) chat(text, want string) {
	b.t.Helper()
	b.do("open the chat", chromedp.Navigate(b.base+"/chat"))
	b.do("start a conversation", chromedp.Click(chromedp.CSS(`form[action="/chat"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form#composer[data-live] textarea`)))
	b.do("send a message", chromedp.SendKeys(chromedp.CSS(`#composer textarea`), text+kb.Enter))
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	done, err := chromedp.Run(ctx, chromedp.PollFunction[bool](`(want) => Array.from(
		document.querySelectorAll("#messages .msg.assistant")).some(
		(e) => !e.classList.contains("streaming") && e.textContent.includes(want))`,
		chromedp.WithPollingArgs(want), chromedp.WithPollingInterval(20*time.Millisecond)))
	if err != nil || !done {
		b.fatalf("no assistant reply with %q in the chat: %v", want, err)
	}
}

// pageProblems returns the uncaught exceptions and Content Security Policy
// violations the pages reported so far.
func (b *browser) pageProblems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, m := range b.console {
		if m.IsException() || strings.Contains(m.Text, "Content Security Policy") {
			out = append(out, fmt.Sprintf("%s (%s:%d)", m, m.URL, m.Line+1))
		}
	}
	return out
}

// TestBrowserEndToEnd drives the admin UI in a real Chromium: first-run
// setup with the code from the log, sign out and in, review and approve a
// script the model proposed through MCP, watch it run in the web chat
// against the fake LLM, and find both events in the audit log.
func TestBrowserEndToEnd(t *testing.T) {
	chrome := findChromium()
	if chrome == "" {
		msg := "SKIPPED: browser e2e needs Debian's chromium: apt-get install -y chromium"
		if os.Getenv("AIRLOCK_REQUIRE_E2E") == "1" {
			t.Fatal("AIRLOCK_REQUIRE_E2E=1 but no chromium, chromium-browser or google-chrome on PATH: apt-get install -y chromium")
		}
		fmt.Fprintln(os.Stderr, "\n*** "+msg+" ***")
		t.Skip(msg)
	}
	start := time.Now()
	artifacts := artifactsDir(t)
	t.Logf("screenshots go to %s", artifacts)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome), chromedp.Headless, chromedp.NoSandbox,
		chromedp.WindowSize(1280, 900), chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("lang", "en-US"))
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	ctx, cancelTab := chromedp.NewContext(ctx)
	defer cancelTab()

	// Loopback is allowlisted for the MCP server of the integrations step.
	s := startStack(t, stackOpts{dev: true, noSignIn: true, env: []string{"AIRLOCK_EGRESS_ALLOW=127.0.0.1"}})
	b := &browser{t: t, ctx: ctx, base: s.base, artifacts: artifacts,
		docs: os.Getenv("AIRLOCK_UPDATE_SCREENSHOTS") == "1"}
	defer func() {
		_ = os.WriteFile(filepath.Join(artifacts, "orchestrator.log"), []byte(s.logs.String()), 0o644)
	}()
	// Start the browser, then collect what the pages write to the console.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting %s: %v", chrome, err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, m)
			b.mu.Unlock()
		}
	}()

	// First run: / sends the browser to /setup, which takes the code from
	// the log.
	var code string
	waitFor(t, 10*time.Second, "the setup code in the log", func() bool {
		m := setupCodeRE.FindStringSubmatch(s.logs.String())
		if m != nil {
			code = m[1]
		}
		return m != nil
	})
	b.do("open the dashboard", chromedp.Navigate(s.base+"/"))
	b.path("/setup", "")
	const setupForm = `form[action="/setup"] `
	b.do("fill in the setup form",
		chromedp.SendKeys(chromedp.CSS(setupForm+`input[name="code"]`), code),
		chromedp.SendKeys(chromedp.CSS(setupForm+`input[name="username"]`), testAdmin),
		chromedp.SendKeys(chromedp.CSS(setupForm+`input[name="password"]`), testPassword),
		chromedp.SendKeys(chromedp.CSS(setupForm+`input[name="password_again"]`), testPassword))
	b.shot("setup.png", false, "setup.png")
	b.do("create the admin", chromedp.Click(chromedp.CSS(setupForm+`button[type="submit"]`)))
	b.path("/welcome/llm", "")
	b.shot("welcome-llm.png", true, "")
	b.do("skip the model step", chromedp.Click(chromedp.CSS(`main a[href="/welcome/discord"]`)))
	b.path("/welcome/discord", "")
	b.do("skip the Discord step", chromedp.Click(chromedp.CSS(`form[action="/welcome/discord"] button[name="skip"]`)))
	b.path("/", "")

	// Sign out and in again.
	b.do("sign out", chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)))
	b.path("/login", "")
	const loginForm = `form[action="/login"] `
	b.do("sign in",
		chromedp.SendKeys(chromedp.CSS(loginForm+`input[name="username"]`), testAdmin),
		chromedp.SendKeys(chromedp.CSS(loginForm+`input[name="password"]`), testPassword),
		chromedp.Click(chromedp.CSS(loginForm+`button[type="submit"]`)))
	b.path("/", "")

	// Asked in the web chat, the model proposes a script through MCP
	// (worker → orchestrator) and says that it awaits approval; later it
	// runs it and says its result.
	s.waitReady()
	s.llm.Reset()
	s.llm.SetResponder(func(r llmtest.RecordedRequest) (llmtest.Reply, bool) {
		msgs := r.Messages
		if n := len(msgs); n > 0 && msgs[n-1].Role == tools.RoleTool {
			switch msgs[n-1].ToolName {
			case tools.ScriptPropose:
				return llmtest.Reply{Text: proposedReply}, true
			case tools.ScriptRun:
				return llmtest.Reply{Text: "I ran your approved greet script. It says: " + scriptResult(msgs[n-1].Content),
					ChunkDelay: 15 * time.Millisecond}, true
			}
		}
		return llmtest.Reply{}, false
	})
	s.llm.Enqueue(llmtest.Reply{ToolCalls: []llmtest.Call{{Name: tools.ScriptPropose,
		Args: map[string]any{"name": "greet", "source": greetSource}}}})
	b.chat("Write me a script that greets someone and adds two numbers", proposedReply)
	res := s.lastToolResult()
	var prop tools.ScriptProposeResult
	if err := json.Unmarshal([]byte(res.Content), &prop); err != nil || prop.Status != tools.ScriptPending || len(prop.SHA256) != 64 {
		t.Fatalf("script_propose result = %q (%v)", res.Content, err)
	}

	// The dashboard lists it; review and approve it.
	review := "/scripts/greet?sha256=" + prop.SHA256
	b.do("open the dashboard", chromedp.Navigate(s.base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#pending a[href="`+review+`"]`)))
	b.shot("dashboard.png", false, "dashboard.png")
	// Issue 17: the Security card, worst first; dev mode is one warning.
	if card := b.text(`#security`); !strings.Contains(card, "ai.dev_mode") || !strings.Contains(card, "Dev mode is off") {
		t.Errorf("the dashboard's Security card lacks the dev-mode warning: %q", card)
	}
	b.do("see the Security card's link to the fix", chromedp.WaitVisible(chromedp.CSS(`#security a[href$="docs/doctor.md#aidev_mode"]`)))
	b.do("open the review page", chromedp.Click(chromedp.CSS(`#pending a[href="`+review+`"]`)))
	b.path("/scripts/greet", "")
	if got := b.text("h1 .badge"); strings.TrimSpace(got) != tools.ScriptPending {
		b.fatalf("review page status %q, want pending", got)
	}
	if src := b.text("pre.source"); !strings.Contains(src, `def greet(name, a, b):`) {
		b.fatalf("the review page does not show the source: %q", src)
	}
	b.shot("review.png", false, "review.png")
	b.shot("review-full.png", true, "")
	approve := fmt.Sprintf(`form[action="/scripts/greet/versions/%s/approve"] button[type="submit"]`, prop.SHA256)
	b.do("approve", chromedp.ScrollIntoView(chromedp.CSS(approve)), chromedp.Click(chromedp.CSS(approve)),
		chromedp.WaitVisible(chromedp.CSS(`h1 .badge.approved`)))
	if got := b.text("h1 .badge"); strings.TrimSpace(got) != tools.ScriptApproved {
		b.fatalf("after approving, status %q", got)
	}
	b.shot("approved.png", false, "")

	// Asked again in a new conversation, the model runs it and says its
	// result; the reply streams into the page.
	s.llm.Enqueue(llmtest.Reply{ToolCalls: []llmtest.Call{{Name: tools.ScriptRun,
		Args: map[string]any{"name": "greet", "function": "greet", "args": []any{"Ada", 2, 40}}}}})
	b.chat("Please greet Ada and add 2 and 40 with the greet script", greetResult)
	b.shot("chat-live.png", false, "")
	// Shown again from the server, the transcript also has the tool call.
	b.do("reload the chat", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`#messages .msg.assistant`)))
	if got := b.text("#messages"); !strings.Contains(got, greetResult) || !strings.Contains(got, tools.ScriptRun) {
		b.fatalf("the stored transcript lacks the run or its result: %q", got)
	}
	b.shot("chat.png", false, "chat.png")

	// The audit log has the approval by the admin and the run.
	b.do("open the audit log", chromedp.Navigate(s.base+"/audit"),
		chromedp.WaitVisible(chromedp.CSS(`main table tbody tr`)))
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[][]string](`Array.from(document.querySelectorAll("main table tbody tr")).map(
		(tr) => Array.from(tr.querySelectorAll("td")).map((td) => td.textContent.trim()))`))
	if err != nil {
		b.fatalf("reading the audit table: %v", err)
	}
	// Columns: #, time, actor, action, target, outcome, details.
	var approved, ran bool
	for _, r := range rows {
		if len(r) < 6 || r[4] != "greet" || r[5] != "ok" {
			continue
		}
		switch r[3] {
		case "script.approved":
			approved = strings.Contains(r[2], testAdmin)
		case "script.run":
			ran = true
		}
	}
	if !approved || !ran {
		b.fatalf("audit log: approved by %s %v, run %v; rows: %q", testAdmin, approved, ran, rows)
	}
	b.shot("audit.png", false, "audit.png")
	b.shot("audit-full.png", true, "")
	// The filter form finds the run.
	b.do("filter the audit log",
		chromedp.SendKeys(chromedp.CSS(`form[action="/audit"] input[name="action"]`), "script.run"),
		chromedp.Submit(chromedp.CSS(`form[action="/audit"] input[name="action"]`)))
	b.path("/audit", "action=script.run")
	b.do("wait for the filtered audit log", chromedp.WaitVisible(chromedp.CSS(`main table tbody tr`)))
	actions, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(
		"main table tbody tr td:nth-child(4)")).map((td) => td.textContent.trim())`))
	if err != nil || len(actions) == 0 || slices.ContainsFunc(actions, func(a string) bool { return a != "script.run" }) {
		b.fatalf("the audit log filtered by script.run shows %q (%v)", actions, err)
	}
	b.shot("audit-filtered.png", false, "")
	b.do("verify the audit chain", chromedp.Click(chromedp.CSS(`form[action="/audit"] input[name="verify"] ~ button`)),
		chromedp.WaitVisible(chromedp.CSS(`main p.flash`)))
	if got := b.text("main p.flash"); !strings.Contains(got, "Chain verified") {
		b.fatalf("verifying the audit chain: %q", got)
	}

	// The model saves a note in the web chat: the Memory page shows it as
	// the admin's only, and the admin shares it with everyone.
	const garage = "The garage code is 2468"
	s.llm.Enqueue(llmtest.Reply{ToolCalls: []llmtest.Call{{Name: tools.MemoryWrite, Args: map[string]any{"content": garage}}}})
	b.chat("Remember: the garage code is 2468", "fake reply after memory_write")
	b.do("open the memory page", chromedp.Navigate(s.base+"/memory"),
		chromedp.WaitVisible(chromedp.CSS(`main table tbody tr`)))
	if row := b.text("main table tbody tr"); !strings.Contains(row, garage) || !strings.Contains(row, "admin only") {
		b.fatalf("the memory page's row: %q", row)
	}
	b.shot("memory.png", false, "")
	const share = `main form[action$="/share"][data-confirm] button[type="submit"]`
	if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.confirm = () => true; true`)); err != nil || !ok {
		b.fatalf("answering the confirmation: %v", err)
	}
	b.do("share the note", chromedp.Click(chromedp.CSS(share)), chromedp.WaitVisible(chromedp.CSS(`main p.flash`)))
	b.path("/memory", "")
	if got := b.text("main p.flash"); !strings.Contains(got, "shared with every conversation") {
		b.fatalf("sharing the note: %q", got)
	}
	if got := b.text("main table tbody tr .badge"); strings.TrimSpace(got) != "everyone" {
		b.fatalf("the shared note's audience: %q", got)
	}

	// Memory under review (issue 16): the history lists the note's write
	// and its share; the oldest version of the admin's notes shows the
	// note added in its diff, and restoring it brings the note back as the
	// admin's (the shared copy stays).
	b.do("open the memory history", chromedp.Navigate(s.base+"/memory/history?subject=admin"),
		chromedp.WaitVisible(chromedp.CSS(`#memory-versions tbody tr`)))
	if rows := b.text("#memory-versions tbody"); !strings.Contains(rows, "append") || !strings.Contains(rows, "share") ||
		!strings.Contains(rows, "model") {
		b.fatalf("the memory history: %q", rows)
	}
	b.shot("memory-history.png", false, "")
	b.do("open the oldest version", chromedp.Click(chromedp.CSS(`#memory-versions tbody tr:last-child a[href^="/memory/versions/"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#version-diff`)))
	if diff := b.text("#version-diff"); !strings.Contains(diff, "+"+garage) {
		b.fatalf("the version's diff: %q", diff)
	}
	b.shot("memory-version.png", false, "")
	if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.confirm = () => true; true`)); err != nil || !ok {
		b.fatalf("answering the confirmation: %v", err)
	}
	b.do("restore the version", chromedp.Click(chromedp.CSS(`#restore-version`)), chromedp.WaitVisible(chromedp.CSS(`main p.flash`)))
	b.path("/memory/history", "subject=admin")
	if got := b.text("main p.flash"); !strings.Contains(got, "Restored") {
		b.fatalf("restoring the version: %q", got)
	}
	b.do("open the memory page after the restore", chromedp.Navigate(s.base+"/memory"),
		chromedp.WaitVisible(chromedp.CSS(`main table tbody tr`)))
	badges, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(
		"main table tbody tr td:nth-child(2) .badge")).map((b) => b.textContent.trim()).sort()`))
	if err != nil || !slices.Equal(badges, []string{"admin", "everyone"}) {
		b.fatalf("the notes after the restore: %q (%v)", badges, err)
	}
	// Integrations (issue 15): the admin adds an MCP server on loopback and
	// approves one of its tools; nothing is approved before.
	mcpSrv := mcptest.Mark(t, mcptest.Options{})
	b.do("open the integrations page", chromedp.Navigate(s.base+"/integrations"),
		chromedp.WaitVisible(chromedp.CSS(`#add-mcp-server`)))
	b.do("add an MCP server",
		chromedp.SendKeys(chromedp.CSS(`#add-mcp-server input[name="name"]`), "notes"),
		chromedp.SendKeys(chromedp.CSS(`#add-mcp-server input[name="url"]`), mcpSrv.URL),
		chromedp.Submit(chromedp.CSS(`#add-mcp-server input[name="url"]`)),
		chromedp.WaitVisible(chromedp.CSS(`main p.flash`)))
	b.path("/integrations", "")
	if got := b.text("main p.flash"); !strings.Contains(got, "Connected to notes") {
		b.fatalf("adding the MCP server: %q", got)
	}
	if got := b.text("#tool-notes-echo .badge"); strings.TrimSpace(got) != "pending" {
		b.fatalf("a new tool's status: %q", got)
	}
	b.do("approve the echo tool", chromedp.Click(chromedp.CSS(`#tool-notes-echo form.approve-tool button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#tool-notes-echo .badge.ok`)))
	if got := b.text("main p.flash"); !strings.Contains(got, "Approved notes / echo") {
		b.fatalf("approving the tool: %q", got)
	}
	if got := b.text("#tool-notes-echo .badge"); strings.TrimSpace(got) != "approved" {
		b.fatalf("the approved tool's status: %q", got)
	}
	// OAuth 2.1: the admin adds a server that requires it, presses
	// Authorize, follows the link to the (fake) authorization server, which
	// consents at once and sends the browser back to the callback.
	as := mcptest.NewAuthServer(t, "", "oat_BROWSERCANARY_")
	calSrv := mcptest.Mark(t, as.Protect(mcptest.Options{}))
	b.do("add an OAuth MCP server",
		chromedp.SendKeys(chromedp.CSS(`#add-mcp-server input[name="name"]`), "cal"),
		chromedp.SendKeys(chromedp.CSS(`#add-mcp-server input[name="url"]`), calSrv.URL),
		chromedp.SetValue(chromedp.CSS(`#add-mcp-server select[name="auth_kind"]`), "oauth"),
		chromedp.Submit(chromedp.CSS(`#add-mcp-server input[name="url"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#server-cal form.authorize-server`)))
	if got := b.text("main p.flash"); !strings.Contains(got, "Press Authorize") {
		b.fatalf("adding the OAuth server: %q", got)
	}
	// Submit, not Click: scrolled into view, the button sits under the sticky navigation bar.
	b.do("authorize it", chromedp.Submit(chromedp.CSS(`#server-cal form.authorize-server button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#oauth-continue`)))
	b.do("continue to the authorization server", chromedp.Click(chromedp.CSS(`#oauth-continue`)),
		chromedp.WaitVisible(chromedp.CSS(`#server-cal .badge.connected`)))
	if got := b.text("main p.flash"); !strings.Contains(got, "Authorized cal and connected") {
		b.fatalf("after the callback: %q", got)
	}
	if !strings.Contains(b.text("#tool-cal-echo .badge"), "pending") {
		b.fatalf("the OAuth server's tools are not listed")
	}
	b.shot("integrations.png", false, "")
	// Scheduled jobs (issue 14): the admin creates a job on the Jobs page;
	// its page shows the schedule in words and the next runs.
	b.do("open the jobs page", chromedp.Navigate(s.base+"/jobs"), chromedp.WaitVisible(chromedp.CSS(`#jobform`)))
	b.do("fill in a job", chromedp.SendKeys(`#jobform input[name="name"]`, "morning"),
		chromedp.SendKeys(`#jobform textarea[name="prompt"]`, "Summarise my feeds"),
		chromedp.Click(chromedp.CSS(`#jobform button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS(`main p.flash`)))
	if got := b.text("main p.flash"); !strings.Contains(got, "Created the job morning") {
		b.fatalf("creating a job: %q", got)
	}
	if got := b.text("main section.card"); !strings.Contains(got, "at 08:00 on Monday to Friday") || !strings.Contains(got, "Worst case") {
		b.fatalf("the job's review: %q", got)
	}
	b.shot("job.png", false, "")
	// Cost and tokens (issue 16): the dashboard draws the last 30 days as
	// an inline SVG chart (no script; the CSP is unchanged, and any
	// violation would be in pageProblems), with today's bar drawn from the
	// calls above, and lists the conversations by cost. Prices are set on
	// the settings page.
	b.do("open the dashboard for usage", chromedp.Navigate(s.base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#usage-chart`)))
	bars, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`Array.from(document.querySelectorAll(
		"#usage-chart rect.bar")).map((r) => r.getBBox().height)`))
	if err != nil || len(bars) != 30 || bars[29] <= 0 {
		b.fatalf("usage chart bars %v (%v): want 30, today's drawn", bars, err)
	}
	if got := b.text("#usage-top tbody"); !strings.Contains(got, "Please greet Ada") && !strings.Contains(got, "Write me a script") {
		b.fatalf("the costliest conversations do not list the chats: %q", got)
	}
	b.do("scroll to the chart", chromedp.ScrollIntoView(chromedp.CSS(`#usage`)))
	b.shot("dashboard-usage.png", false, "")
	b.do("open the settings for prices", chromedp.Navigate(s.base+"/settings"),
		chromedp.WaitVisible(chromedp.CSS(`textarea[name="llm.prices"]`)),
		chromedp.SendKeys(chromedp.CSS(`textarea[name="llm.prices"]`), "claude-sonnet-4-5 3 15 oops 3.75"),
		chromedp.Click(chromedp.CSS(`form[action="/settings"] button.primary`)),
		chromedp.WaitVisible(chromedp.CSS(`#prices [role="alert"]`)))
	if got := b.text("#prices"); !strings.Contains(got, `cache_read: "oops" is not a number`) {
		b.fatalf("a bad price's error does not name the column: %q", got)
	}
	b.do("fix the price", chromedp.SetValue(chromedp.CSS(`textarea[name="llm.prices"]`), "claude-sonnet-4-5 3 15 0.30 3.75"),
		chromedp.Click(chromedp.CSS(`form[action="/settings"] button.primary`)),
		chromedp.WaitVisible(chromedp.CSS(`main p.flash`)))
	if got := b.text(`textarea[name="llm.prices"]`); !strings.Contains(got, "claude-sonnet-4-5 3 15 0.3 3.75") {
		b.fatalf("saved prices shown as %q", got)
	}
	b.do("scroll to the prices", chromedp.ScrollIntoView(chromedp.CSS(`#prices`)))
	b.shot("settings-prices.png", false, "")

	// Backups (issue 18): the page lists the backups with their check,
	// "Back up now" starts one, and downloading asks for the password.
	b.do("open the backups page", chromedp.Navigate(s.base+"/backups"), chromedp.WaitVisible(chromedp.CSS("main h1")))
	b.do("back up now", chromedp.Click(chromedp.CSS(`main form[action="/backups"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`main p.flash`)))
	b.path("/backups", "")
	// The backup is made in the background: reload until its row shows.
	rowText := func() string {
		txt, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector("#backups tbody tr") || {textContent: ""}).textContent`))
		if err != nil {
			b.fatalf("reading the backups table: %v", err)
		}
		return txt
	}
	for deadline := time.Now().Add(60 * time.Second); !strings.Contains(rowText(), "verified") && time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
		b.do("reload the backups page", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("main h1")))
	}
	if row := b.text("#backups tbody tr"); !strings.Contains(row, "airlock-") || !strings.Contains(row, "verified") {
		b.fatalf("the backups page's row: %q", row)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#backups form[action$="/download"] input[type="password"][required]').length`)); err != nil || n == 0 {
		b.fatalf("no password field on the download form (%v)", err)
	}
	b.shot("backups.png", false, "")

	// On a phone no page scrolls sideways as a whole (wide tables scroll
	// inside their own box).
	b.do("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	for _, page := range []string{"/", "/chat", "/scripts", review, "/secrets", "/memory", "/memory/history", "/jobs", "/settings", "/audit", "/account",
		"/integrations", "/backups"} {
		b.do("open "+page+" on a phone", chromedp.Navigate(s.base+page), chromedp.WaitVisible(chromedp.CSS("main")))
		wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > document.documentElement.clientWidth + 1`))
		if err != nil || wide {
			b.fatalf("%s is wider than a phone's screen (%v)", page, err)
		}
	}
	b.do("phone dashboard", chromedp.Navigate(s.base+"/"), chromedp.WaitVisible(chromedp.CSS("main")))
	b.shot("phone-dashboard.png", true, "")

	if p := b.pageProblems(); len(p) > 0 {
		t.Errorf("the pages reported problems:\n%s", strings.Join(p, "\n"))
	}
	s.assertNoKeyInLogs()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Error("the browser test ran out of time")
	}
	t.Logf("browser end to end took %s", time.Since(start).Round(time.Millisecond))
}
