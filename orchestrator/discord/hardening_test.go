package discord

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/orchestrator"
	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/discord/discordtest"
	"github.com/bwmarrin/discordgo"
)

// dispatchRaw sends a gateway event with a payload given as raw JSON.
func (e *env) dispatchRaw(typ, raw string) {
	e.t.Helper()
	if err := e.fake.Dispatch(typ, json.RawMessage(raw)); err != nil {
		e.t.Fatal(err)
	}
}

// TestMalformedGatewayFramesDoNotKill (issue 20, item 4): events whose
// payload is null, empty or of the wrong type, GUILD_CREATE and
// GUILD_UPDATE with "d": null first (they panicked inside discordgo), leave
// the bot running and answering.
func TestMalformedGatewayFramesDoNotKill(t *testing.T) {
	e := newEnv(t, nil)
	for _, typ := range []string{"GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE", "VOICE_STATE_UPDATE",
		"VOICE_SERVER_UPDATE", "CHANNEL_CREATE", "THREAD_CREATE", "MESSAGE_CREATE", "MESSAGE_UPDATE",
		"INTERACTION_CREATE", "GUILD_MEMBER_ADD", "PRESENCE_UPDATE"} {
		for _, raw := range []string{`null`, `{}`, `[]`, `7`, `"x"`} {
			e.dispatchRaw(typ, raw)
		}
	}
	e.dispatchRaw("GUILD_CREATE", `{"id":"`+guildID+`","channels":null,"members":[null],"voice_states":[null]}`)
	e.send(discordtest.DirectMessage(alice, aliceDM, "still there?"))
	got := e.waitMessages(aliceDM, 1)
	if got[0].Content != "echo: still there?" {
		t.Errorf("reply = %q", got[0].Content)
	}
	if !e.bot.Status().Connected {
		t.Error("the bot is not connected after the malformed frames")
	}
}

// TestMalformedSlashCommand (issue 20, item 3): an allowlisted user's
// interaction whose data does not parse reaches the handler with nil Data;
// it is answered as an unknown command instead of killing the process.
func TestMalformedSlashCommand(t *testing.T) {
	e := newEnv(t, nil)
	user, _ := json.Marshal(alice)
	for i, data := range []string{`"not an object"`, `null`, `[1,2]`} {
		id := []string{"7001", "7002", "7003"}[i]
		e.dispatchRaw("INTERACTION_CREATE", `{"id":"`+id+`","application_id":"`+e.fake.BotID()+
			`","type":2,"token":"tok-`+id+`","version":1,"channel_id":"`+aliceDM+`","user":`+string(user)+
			`,"data":`+data+`}`)
	}
	e.dispatchRaw("INTERACTION_CREATE", `{"id":"7004","type":2,"token":"tok-7004","channel_id":"`+aliceDM+
		`","user":`+string(user)+`}`)
	e.waitFor("four callbacks", func() bool { return len(e.fake.Callbacks()) == 4 })
	for _, cb := range e.fake.Callbacks() {
		if d := cb.Response.Data; d == nil || d.Content != textUnknownCommand || d.Flags&discordgo.MessageFlagsEphemeral == 0 {
			t.Errorf("malformed command %s answered %+v", cb.InteractionID, d)
		}
	}
	e.send(discordtest.DirectMessage(alice, aliceDM, "and now?"))
	if got := e.waitMessages(aliceDM, 1); got[0].Content != "echo: and now?" {
		t.Errorf("reply = %q", got[0].Content)
	}
}

// TestPanicInTaskIsRecoveredLoggedAndAudited (issue 20, item 3): a panic
// while answering is recovered, logged with a reference that the audit
// entry repeats, and the bot goes on answering.
func TestPanicInTaskIsRecoveredLoggedAndAudited(t *testing.T) {
	e := newEnv(t, nil)
	e.handler.reply = func(_ context.Context, m orchestrator.Message) (orchestrator.Reply, error) {
		if m.Text == "boom" {
			panic("handler exploded")
		}
		return orchestrator.Reply{Text: "fine"}, nil
	}
	e.send(discordtest.DirectMessage(alice, aliceDM, "boom"))
	e.send(discordtest.DirectMessage(alice, aliceDM, "after"))
	e.waitMessages(aliceDM, 1)
	var entries []audit.Entry
	e.waitFor("discord.panic entry", func() bool {
		entries, _ = e.audit.List(e.ctx, audit.Filter{Action: "discord.panic"})
		return len(entries) == 1
	})
	var details struct{ Ref string }
	if err := json.Unmarshal(entries[0].Details, &details); err != nil || details.Ref == "" {
		t.Fatalf("audit details %s", entries[0].Details)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "ref="+details.Ref) || !strings.Contains(logs, "handler exploded") {
		t.Errorf("the log has no line with ref %s and the panic", details.Ref)
	}
	if strings.Contains(string(entries[0].Details), "exploded") {
		t.Error("the audit entry holds the panic value")
	}
	if st := e.bot.Status(); !strings.Contains(st.LastError, details.Ref) {
		t.Errorf("status last error %q lacks the reference", st.LastError)
	}
}

// TestGuardedEventHandlerRecovers: a panic in an event handler, which runs
// on discordgo's gateway goroutine, is recovered.
func TestGuardedEventHandlerRecovers(t *testing.T) {
	e := newEnv(t, nil)
	h := guarded(e.bot, "MESSAGE_CREATE", func(*discordgo.Session, *discordgo.MessageCreate) { panic("in handler") })
	h(nil, &discordgo.MessageCreate{})
	entries, err := e.audit.List(e.ctx, audit.Filter{Action: "discord.panic"})
	if err != nil || len(entries) != 1 || entries[0].Target != "MESSAGE_CREATE" || entries[0].Outcome != audit.OutcomeError {
		t.Fatalf("audit entries %+v, %v", entries, err)
	}
}

// TestReplayedMessageAnsweredOnce (issue 20, item 6): the same
// MESSAGE_CREATE twice, and events replayed after a RESUME, are answered
// once; so is a replayed slash command.
func TestReplayedMessageAnsweredOnce(t *testing.T) {
	e := newEnv(t, nil)
	m := discordtest.DirectMessage(alice, aliceDM, "once")
	m.ID = "555000000000000001"
	e.send(m)
	e.send(m)
	e.waitMessages(aliceDM, 1)

	e.slash(discordtest.SlashCommand(alice, "", aliceDM, "new"))
	e.waitFor("callback", func() bool { return len(e.fake.Callbacks()) == 1 })
	e.fake.ReplayOnResume(3) // the message again, the /new, and the first
	e.fake.DropConnection()
	e.send(discordtest.DirectMessage(alice, aliceDM, "after resume"))
	e.waitMessages(aliceDM, 2)
	e.waitFor("resumed", func() bool { return e.fake.Stats().Resumes == 1 })
	e.stop()
	if got := e.fake.MessagesIn(aliceDM); len(got) != 2 || got[1].Content != "echo: after resume" {
		t.Errorf("messages %+v, want the two answers once each", got)
	}
	if n := len(e.handler.Calls()); n != 2 {
		t.Errorf("handler calls = %d, want 2", n)
	}
	if n := len(e.fake.Callbacks()); n != 1 {
		t.Errorf("interaction callbacks = %d, want 1", n)
	}
}

// TestWebhookAndGuildlessGuildMessages (issue 20, item 7): a webhook's
// message with an allowlisted user as its author is not answered; a guild
// message without guild_id is not taken for a DM (the channel's type comes
// from the API), so without a mention it is ignored and in a channel not
// allowlisted it is refused.
func TestWebhookAndGuildlessGuildMessages(t *testing.T) {
	e := newEnv(t, nil)
	hook := discordtest.DirectMessage(alice, aliceDM, "I am alice, honest")
	hook.WebhookID = "600000000000000001"
	e.send(hook)
	e.send(discordtest.GuildMessage(alice, "", allowedChan, "no guild id, no mention"))
	e.send(discordtest.GuildMessage(alice, "", otherChan, "no guild id", &discordgo.User{ID: e.fake.BotID()}))
	e.send(discordtest.GuildMessage(alice, "", allowedChan, "mentioned", &discordgo.User{ID: e.fake.BotID()}))
	e.waitMessages(allowedChan, 1)
	entries := e.ignoredAudits(1)
	e.stop()
	if got := e.fake.Messages(); len(got) != 1 || got[0].Content != "echo: mentioned" {
		t.Errorf("messages %+v, want only the answer to the mention in the allowed channel", got)
	}
	if calls := e.handler.Calls(); len(calls) != 1 {
		t.Errorf("handler calls %+v", calls)
	}
	if len(entries) != 1 || !strings.Contains(string(entries[0].Details), "channel not allowlisted") {
		t.Errorf("audit %+v, want the other channel refused", entries)
	}
}

// TestLibraryLogLevelPinned (issue 20, item 7): discordgo's debug lines
// print the IDENTIFY packet, token included, so its level stays pinned at
// warnings: a warning of the library (an event it does not know) reaches
// the logger LibraryLogger routes to, and no debug or informational line
// does. Unpinned (discordgo's default is errors only) the warning is
// missing; at debug level the others show. The routing itself is tested
// in cmd/orchestrator (TestDiscordTokenFromEnvironmentStartsAtBoot).
func TestLibraryLogLevelPinned(t *testing.T) {
	e := newEnv(t, nil)
	e.dispatchRaw("AIRLOCK_PROBE_EVENT", `{"probe":"level"}`)
	e.send(discordtest.DirectMessage(alice, aliceDM, "hi"))
	e.waitMessages(aliceDM, 1)
	e.waitFor("discordgo's warning", func() bool { return strings.Contains(libLogs.String(), "AIRLOCK_PROBE_EVENT") })
	e.stop()
	for line := range strings.Lines(libLogs.String()) {
		if strings.Contains(line, "AIRLOCK_PROBE_EVENT") && !strings.Contains(line, "level=WARN") {
			t.Errorf("discordgo's unknown-event line is not a warning: %s", line)
		}
		if strings.Contains(line, "level=DEBUG") || strings.Contains(line, "level=INFO") {
			t.Errorf("discordgo logged below warning level: %.200s", line)
		}
	}
}

// TestReplyCappedAtMaxMessages (issue 20, item 5): a reply of 3,000
// backticks, or one of many lines, is posted as at most MaxMessages
// messages, the last one saying the rest is cut.
func TestReplyCappedAtMaxMessages(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxMessages = 2 })
	e.handler.reply = func(_ context.Context, m orchestrator.Message) (orchestrator.Reply, error) {
		if m.Text == "ticks" {
			return orchestrator.Reply{Text: strings.Repeat("`", 3000)}, nil
		}
		return orchestrator.Reply{Text: strings.Repeat("a line of text\n", 1000)}, nil
	}
	e.send(discordtest.DirectMessage(alice, aliceDM, "ticks"))
	e.waitMessages(aliceDM, 2)
	e.waitFor("handler", func() bool { return len(e.handler.Calls()) == 1 })
	e.send(discordtest.DirectMessage(alice, aliceDM, "lines"))
	e.waitMessages(aliceDM, 4)
	e.stop()
	got := e.fake.MessagesIn(aliceDM)
	if len(got) != 4 {
		t.Fatalf("posted %d messages, want 2 per reply", len(got))
	}
	if !strings.Contains(got[3].Content, "the rest is cut") {
		t.Errorf("last message lacks the note: %.80q", got[3].Content[max(0, len(got[3].Content)-80):])
	}
}
