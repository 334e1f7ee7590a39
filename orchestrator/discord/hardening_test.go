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
