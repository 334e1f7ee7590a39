package discord

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator"
	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/discord/discordtest"
	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/bwmarrin/discordgo"
)

func TestDMFromAllowedUserIsAnsweredStrangerIsAuditedOnce(t *testing.T) {
	e := newEnv(t, nil)
	e.send(discordtest.DirectMessage(stranger, strangerDM, "let me in"))
	e.send(discordtest.DirectMessage(stranger, strangerDM, "please"))
	e.send(discordtest.DirectMessage(otherBot, aliceDM, "I am a bot"))
	e.send(discordtest.DirectMessage(alice, aliceDM, "hello"))

	got := e.waitMessages(aliceDM, 1)
	if got[0].Content != "echo: hello" {
		t.Errorf("reply = %q", got[0].Content)
	}
	if am := got[0].AllowedMentions; am == nil || len(am.Parse) != 0 {
		t.Errorf("reply allows mentions: %+v", am)
	}
	e.ignoredAudits(1) // wait for the stranger's entry
	e.stop()

	calls := e.handler.Calls()
	if len(calls) != 1 {
		t.Fatalf("handler calls = %+v, want only alice's", calls)
	}
	if c := calls[0]; c.Source != "discord" || c.Author != "discord:"+alice.ID || c.Text != "hello" || c.ConversationID == "" {
		t.Errorf("handler got %+v", c)
	}
	if n := len(e.fake.MessagesIn(strangerDM)); n != 0 {
		t.Errorf("stranger got %d messages", n)
	}
	if n := len(e.fake.Messages()); n != 1 {
		t.Errorf("bot sent %d messages, want 1", n)
	}
	entries := e.ignoredAudits(0)
	if len(entries) != 1 {
		t.Fatalf("discord.ignored entries = %d, want 1 (throttled per user)", len(entries))
	}
	if en := entries[0]; en.Actor != "discord:"+stranger.ID || en.Outcome != "denied" || en.Target != "channel:"+strangerDM {
		t.Errorf("audit entry %+v", en)
	}
	if strings.Contains(string(entries[0].Details), "let me in") {
		t.Error("audit entry holds the message text")
	}
}

func TestEmptyAllowlistAnswersNobody(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.AllowedUsers = nil })
	e.send(discordtest.DirectMessage(alice, aliceDM, "hello"))
	e.ignoredAudits(1)
	e.stop()
	if n := len(e.handler.Calls()); n != 0 || len(e.fake.Messages()) != 0 {
		t.Errorf("handler calls %d, messages %d; want none", n, len(e.fake.Messages()))
	}
}

func TestMentionsAnsweredOnlyInAllowedChannels(t *testing.T) {
	e := newEnv(t, nil)
	bot := &discordgo.User{ID: e.fake.BotID()}
	e.send(discordtest.GuildMessage(alice, guildID, allowedChan, "chatting, no mention"))
	e.send(discordtest.GuildMessage(alice, guildID, otherChan, "over here", bot))
	e.send(discordtest.GuildMessage(stranger, guildID, allowedChan, "me too", bot))
	e.send(discordtest.GuildMessage(alice, guildID, allowedChan, "what's up?", bot))

	got := e.waitMessages(allowedChan, 1)
	if got[0].Content != "echo: what's up?" {
		t.Errorf("reply = %q (the mention should be stripped)", got[0].Content)
	}
	entries := e.ignoredAudits(2)
	e.stop()
	if n := len(e.fake.MessagesIn(otherChan)); n != 0 {
		t.Errorf("%d messages in a channel not allowlisted", n)
	}
	if n := len(e.fake.Messages()); n != 1 {
		t.Errorf("bot sent %d messages, want 1", n)
	}
	if n := len(e.handler.Calls()); n != 1 {
		t.Errorf("handler calls = %d, want 1", n)
	}
	reasons := map[string]string{}
	for _, en := range e.ignoredAudits(0) {
		reasons[en.Actor] = string(en.Details)
	}
	if len(reasons) != 2 || !strings.Contains(reasons["discord:"+alice.ID], "channel not allowlisted") ||
		!strings.Contains(reasons["discord:"+stranger.ID], "user not allowlisted") {
		t.Errorf("audit entries = %v", entries)
	}
}

func TestLongReplySplitWithBalancedFences(t *testing.T) {
	e := newEnv(t, nil)
	var b strings.Builder
	b.WriteString("Here is the code:\n```go\n")
	for b.Len() < 4950 {
		b.WriteString("fmt.Println(\"a line of generated code to fill the message\")\n")
	}
	b.WriteString("```\nThat's all.")
	long := b.String()
	e.handler.reply = func(_ context.Context, m orchestrator.Message) (orchestrator.Reply, error) {
		return orchestrator.Reply{Text: long}, nil
	}
	e.send(discordtest.DirectMessage(alice, aliceDM, "write code"))
	got := e.waitMessages(aliceDM, 3)
	e.stop()
	if len(e.fake.MessagesIn(aliceDM)) != 3 {
		t.Fatalf("got %d messages, want 3", len(e.fake.MessagesIn(aliceDM)))
	}
	var parts []string
	for i, m := range got {
		parts = append(parts, m.Content)
		if n := strings.Count(m.Content, "```"); n%2 != 0 {
			t.Errorf("part %d has %d fences", i, n)
		}
		if i > 0 && !strings.HasPrefix(m.Content, "```go\n") {
			t.Errorf("part %d does not reopen the go block: %.20q", i, m.Content)
		}
	}
	if joined := rejoin(parts, "go"); joined != long {
		t.Errorf("parts do not rejoin to the reply")
	}
}

func TestNewConversationCommands(t *testing.T) {
	e := newEnv(t, nil)
	conv := func(n int) string {
		t.Helper()
		e.waitFor("handler call", func() bool { return len(e.handler.Calls()) >= n })
		return e.handler.Calls()[n-1].ConversationID
	}
	e.send(discordtest.DirectMessage(alice, aliceDM, "one"))
	c1 := conv(1)
	e.send(discordtest.DirectMessage(alice, aliceDM, "two"))
	if c := conv(2); c != c1 {
		t.Errorf("second message went to %s, want %s", c, c1)
	}

	e.slash(discordtest.SlashCommand(alice, "", aliceDM, "new"))
	e.waitFor("callback", func() bool { return len(e.fake.Callbacks()) == 1 })
	cb := e.fake.Callbacks()[0]
	if cb.Response.Data == nil || cb.Response.Data.Content != textNewConv ||
		cb.Response.Data.Flags != discordgo.MessageFlagsSuppressEmbeds {
		t.Errorf("/new response %+v", cb.Response.Data)
	}
	e.send(discordtest.DirectMessage(alice, aliceDM, "three"))
	c2 := conv(3)
	if c2 == c1 {
		t.Error("/new did not start a new conversation")
	}

	// A stranger's /new in a channel alice uses is refused and changes nothing.
	e.slash(discordtest.SlashCommand(stranger, guildID, allowedChan, "new"))
	e.send(discordtest.DirectMessage(alice, aliceDM, "!new"))
	e.waitFor("two callbacks", func() bool { return len(e.fake.Callbacks()) == 2 })
	refused := e.fake.Callbacks()[1].Response.Data
	if refused == nil || refused.Content != textNotAllowed ||
		refused.Flags != discordgo.MessageFlagsEphemeral|discordgo.MessageFlagsSuppressEmbeds {
		t.Errorf("stranger's /new answered %+v, want an ephemeral refusal", refused)
	}
	e.ignoredAudits(1)
	msgs := e.waitMessages(aliceDM, 4)
	if msgs[3].Content != textNewConv {
		t.Errorf("!new answered %q", msgs[3].Content)
	}
	e.send(discordtest.DirectMessage(alice, aliceDM, "four"))
	if c3 := conv(4); c3 == c2 || c3 == c1 {
		t.Error("!new did not start a new conversation")
	}
	e.stop()
	if n := len(e.handler.Calls()); n != 4 {
		t.Errorf("handler calls = %d, want 4 (commands are not passed on)", n)
	}
}

func TestTypingIndicatorDuringSlowTask(t *testing.T) {
	e := newEnv(t, nil)
	release := make(chan struct{})
	e.handler.reply = func(ctx context.Context, m orchestrator.Message) (orchestrator.Reply, error) {
		<-release
		return orchestrator.Reply{Text: "done"}, nil
	}
	e.send(discordtest.DirectMessage(alice, aliceDM, "slow one"))
	e.waitFor("typing renewed", func() bool {
		n := 0
		for _, ch := range e.fake.Typing() {
			if ch == aliceDM {
				n++
			}
		}
		return n >= 3
	})
	if n := len(e.fake.Messages()); n != 0 {
		t.Errorf("replied before the task ended")
	}
	close(release)
	e.waitMessages(aliceDM, 1)
	e.stop()
	reqs := e.fake.Requests()
	last := reqs[len(reqs)-1]
	for i := len(reqs) - 1; i >= 0; i-- {
		if strings.HasSuffix(reqs[i].Path, "/messages") {
			last = reqs[i]
			reqs = reqs[i+1:]
			break
		}
	}
	for _, r := range reqs {
		if strings.HasSuffix(r.Path, "/typing") {
			t.Errorf("typing sent after the reply (%s)", last.Path)
		}
	}
}

func TestNotifyScriptProposedDMsAdmins(t *testing.T) {
	e := newEnv(t, nil)
	sha := strings.Repeat("ab", 32)
	if err := e.bot.NotifyScriptProposed(e.ctx, scriptInfo("weather_now", sha)); err != nil {
		t.Fatal(err)
	}
	ch := e.fake.DMChannel(adminID)
	if ch == "" {
		t.Fatal("no DM channel opened with the admin")
	}
	got := e.fake.MessagesIn(ch)
	want := "https://airlock.example:8443/scripts/weather_now?sha256=" + sha
	if len(got) != 1 || !strings.Contains(got[0].Content, want) {
		t.Fatalf("admin DM = %+v, want a message with %s", got, want)
	}
	if err := e.bot.NotifyScriptProposed(e.ctx, scriptInfo("../../evil", sha)); err == nil {
		t.Error("invalid script name accepted")
	}
	if n := len(e.fake.Messages()); n != 1 {
		t.Errorf("bot sent %d messages, want 1", n)
	}
}

// TestNotifyScriptsPendingSummary (issue 11 item 12): the versions held
// during a notification window reach each admin as one DM naming them.
func TestNotifyScriptsPendingSummary(t *testing.T) {
	e := newEnv(t, nil)
	sha := strings.Repeat("ab", 32)
	batch := []tools.ScriptInfo{scriptInfo("alpha", sha), scriptInfo("beta", sha), scriptInfo("alpha", sha),
		scriptInfo("gamma", sha), scriptInfo("Bad\u202Ename", sha)}
	if err := e.bot.NotifyScriptsPending(e.ctx, batch); err != nil {
		t.Fatal(err)
	}
	got := e.fake.MessagesIn(e.fake.DMChannel(adminID))
	want := "5 more script versions await review: `alpha` (2 versions), `beta`, `gamma`.\n" +
		"Review them in the admin UI: https://airlock.example:8443/scripts\n"
	if len(got) != 1 || !strings.HasPrefix(got[0].Content, want) || strings.Contains(got[0].Content, "\u202E") {
		t.Fatalf("admin DMs = %+v, want one starting %q", got, want)
	}
}

func TestResumesAfterDroppedConnection(t *testing.T) {
	e := newEnv(t, nil)
	e.send(discordtest.DirectMessage(alice, aliceDM, "before"))
	e.waitMessages(aliceDM, 1)

	e.fake.DropConnection()
	e.send(discordtest.DirectMessage(alice, aliceDM, "after"))
	got := e.waitMessages(aliceDM, 2)
	if got[1].Content != "echo: after" {
		t.Errorf("reply after resume = %q", got[1].Content)
	}
	e.waitFor("status connected", func() bool { return e.bot.Status().Connected })
	if st := e.fake.Stats(); st.Resumes != 1 || st.Identifies != 1 {
		t.Errorf("stats %+v, want one IDENTIFY then one RESUME", st)
	}
}

func TestRateLimitTellsUserOnce(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.RateLimit = 2 })
	for _, s := range []string{"a", "b", "c", "d"} {
		e.send(discordtest.DirectMessage(alice, aliceDM, s))
	}
	e.waitMessages(aliceDM, 3)
	e.stop()
	got := e.fake.MessagesIn(aliceDM)
	limited := 0
	for _, m := range got {
		if m.Content == textRateLimited {
			limited++
		}
	}
	if len(got) != 3 || limited != 1 || len(e.handler.Calls()) != 2 {
		t.Errorf("messages %d (rate-limit notes %d), handler calls %d; want 3 (1), 2",
			len(got), limited, len(e.handler.Calls()))
	}
}

func TestFailuresAndAttachments(t *testing.T) {
	e := newEnv(t, nil)
	e.handler.reply = func(_ context.Context, m orchestrator.Message) (orchestrator.Reply, error) {
		if m.Text == "break" {
			return orchestrator.Reply{}, errors.New("llm: upstream said 500 internal detail")
		}
		return orchestrator.Reply{Text: "ok"}, nil
	}
	e.send(discordtest.DirectMessage(alice, aliceDM, "break"))
	got := e.waitMessages(aliceDM, 1)
	if got[0].Content != textApology {
		t.Errorf("failure answered %q", got[0].Content)
	}
	if !strings.Contains(e.logs.String(), "internal detail") {
		t.Error("the failure's details are not in the log")
	}

	withFile := discordtest.DirectMessage(alice, aliceDM, "look at this")
	withFile.Attachments = []*discordgo.MessageAttachment{{ID: "1", Filename: "x.png"}}
	e.send(withFile)
	got = e.waitMessages(aliceDM, 2)
	if got[1].Content != textAttachments+"\nok" {
		t.Errorf("attachment answer = %q", got[1].Content)
	}
	onlyFile := discordtest.DirectMessage(alice, aliceDM, "")
	onlyFile.Attachments = withFile.Attachments
	e.send(onlyFile)
	got = e.waitMessages(aliceDM, 3)
	e.stop()
	if !strings.HasPrefix(got[2].Content, textAttachments) || len(e.handler.Calls()) != 2 {
		t.Errorf("file-only message: answer %q, handler calls %d", got[2].Content, len(e.handler.Calls()))
	}
}

func TestStatusShowsConnectFailureWithoutToken(t *testing.T) {
	fake, err := discordtest.New(discordtest.Options{Token: "a-different-token"})
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "a.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var logs syncBuffer
	bot, err := New(Config{Token: testToken, AllowedUsers: []string{alice.ID}},
		Deps{Handler: &stubHandler{}, Store: st, Audit: audit.New(st, nil, nil),
			Logger: slog.New(slog.NewTextHandler(&logs, nil)), HTTPClient: fake.Client()})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- bot.Run(runCtx) }()
	if err := fake.Wait(ctx, func() bool { return bot.Status().LastError != "" }); err != nil {
		t.Fatal(err)
	}
	stop()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
	s := bot.Status()
	if s.Connected || !strings.Contains(s.LastError, "connect") || s.LastErrorAt.IsZero() {
		t.Errorf("status %+v", s)
	}
	if strings.Contains(s.LastError, testToken) || strings.Contains(logs.String(), testToken) {
		t.Error("the token is in the status or the log")
	}
}

// TestAnswerDeliveredWhileStopping: a reply computed while the bot stops
// (a settings change restarts it) is still posted, not dropped.
func TestAnswerDeliveredWhileStopping(t *testing.T) {
	e := newEnv(t, nil)
	started, release := make(chan struct{}), make(chan struct{})
	e.handler.reply = func(ctx context.Context, m orchestrator.Message) (orchestrator.Reply, error) {
		close(started)
		<-release
		return orchestrator.Reply{Text: "answer made during shutdown"}, nil
	}
	e.send(discordtest.DirectMessage(alice, aliceDM, "slow one"))
	<-started
	stopped := make(chan struct{})
	go func() { e.stop(); close(stopped) }()
	select {
	case <-stopped:
		t.Fatal("the bot stopped without waiting for the answer in flight")
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	<-stopped
	msgs := e.fake.Messages()
	if len(msgs) != 1 || msgs[0].ChannelID != aliceDM || msgs[0].Content != "answer made during shutdown" {
		t.Fatalf("messages after a stop mid-answer: %+v", msgs)
	}
}

// TestNotifyToolsWithdrawn (issue 15): a rug pull reaches the admins,
// naming plain tool names only.
func TestNotifyToolsWithdrawn(t *testing.T) {
	e := newEnv(t, nil)
	if err := e.bot.NotifyToolsWithdrawn(e.ctx, "notes", []string{"search", "@everyone <https://evil>"}); err != nil {
		t.Fatal(err)
	}
	got := e.fake.MessagesIn(e.fake.DMChannel(adminID))
	if len(got) != 1 || !strings.Contains(got[0].Content, "`search`") || !strings.Contains(got[0].Content, "1 more") ||
		strings.Contains(got[0].Content, "@everyone") || !strings.Contains(got[0].Content, "/integrations") {
		t.Fatalf("admin DM = %+v", got)
	}
}
