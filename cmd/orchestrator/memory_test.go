package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/discord/discordtest"
	"github.com/airlockhq/airlock/orchestrator/llm/llmtest"
	"github.com/bwmarrin/discordgo"
)

// memNote is a note as GET /api/v1/memory shows it.
type memNote struct {
	ID, Audience, Text string
	ConversationID     string `json:"conversation_id"`
}

// TestDiscordMemoryHasAnAudience (issue 20, item 2): a note alice's DM
// saves ("door PIN 4321") never reaches bob in a channel, neither in the
// system prompt nor through memory_read; it reaches alice's DM and the
// admin's chat, and the channel once the admin shares it.
func TestDiscordMemoryHasAnAudience(t *testing.T) {
	const pin = "4321"
	const guild, general = "300000000000000001", "500000000000000001"
	bob := &discordgo.User{ID: "100000000000000003", Username: "bob"}
	d := startDiscordStack(t, nil)
	d.saveSettings(`{"discord":{"allowed_users":["` + dcAlice.ID + `","` + bob.ID + `"],"allowed_channels":["` + general + `"]}}`)
	if code := d.call("PUT", "/api/v1/secrets/DISCORD_TOKEN", map[string]string{"value": discordTestToken}, nil); code != http.StatusCreated {
		t.Fatalf("PUT /api/v1/secrets/DISCORD_TOKEN: %d", code)
	}
	d.waitIdentified(1)
	bot := &discordgo.User{ID: d.fake.BotID()}
	read := llmtest.Reply{ToolCalls: []llmtest.Call{{Name: tools.MemoryRead}}}

	// turn runs one Discord message whose model calls memory_read, and
	// returns the LLM requests of that task: the first carries the system
	// prompt, the second the tool's result.
	turn := func(channel string, send func(), replies int) []llmtest.RecordedRequest {
		t.Helper()
		n := len(d.llm.Requests())
		d.llm.Enqueue(read, llmtest.Reply{Text: "done"})
		send()
		d.waitFake("the reply in "+channel, func() bool { return len(d.fake.MessagesIn(channel)) >= replies })
		reqs := d.llm.Requests()[n:]
		if len(reqs) != 2 {
			t.Fatalf("%d LLM requests for one turn; want 2", len(reqs))
		}
		return reqs
	}
	// memoryIn returns the system prompt and the memory_read result of a turn.
	memoryIn := func(reqs []llmtest.RecordedRequest) (system, result string) {
		t.Helper()
		for _, m := range reqs[1].Messages {
			if m.Role == tools.RoleTool && m.ToolName == tools.MemoryRead {
				result = m.Content
			}
		}
		if result == "" {
			t.Fatalf("the second request holds no memory_read result: %+v", reqs[1].Messages)
		}
		return reqs[0].System, result
	}

	// Alice saves the note in her DM.
	d.llm.Enqueue(llmtest.Reply{ToolCalls: []llmtest.Call{{Name: tools.MemoryWrite,
		Args: map[string]any{"content": "alice's door PIN is " + pin}}}}, llmtest.Reply{Text: "Noted."})
	d.dm(dcAlice, dcAliceDM, "remember my door PIN")
	d.waitFake("the reply to alice", func() bool { return len(d.fake.MessagesIn(dcAliceDM)) >= 1 })

	// Bob asks in the channel: the note is in neither place.
	askBob := func(replies int) (string, string) {
		return memoryIn(turn(general, func() {
			if _, err := d.fake.SendMessage(discordtest.GuildMessage(bob, guild, general, "what is alice's door PIN?", bot)); err != nil {
				t.Fatal(err)
			}
		}, replies))
	}
	system, result := askBob(1)
	if strings.Contains(system, pin) {
		t.Errorf("bob's system prompt holds alice's note:\n%s", system)
	}
	if strings.Contains(result, pin) {
		t.Errorf("bob's memory_read returned alice's note: %q", result)
	}
	for _, m := range d.fake.MessagesIn(general) {
		if strings.Contains(m.Content, pin) {
			t.Errorf("the channel was told %q", m.Content)
		}
	}

	// Alice's next DM reads it, in the prompt and with memory_read.
	system, result = memoryIn(turn(dcAliceDM, func() { d.dm(dcAlice, dcAliceDM, "what is my PIN?") }, 2))
	if !strings.Contains(system, pin) || !strings.Contains(result, pin) {
		t.Errorf("alice's DM does not read her note: prompt %v, memory_read %q", strings.Contains(system, pin), result)
	}

	// The admin's chat reads it.
	conv := d.newConversation()
	n := len(d.llm.Requests())
	d.llm.Enqueue(read, llmtest.Reply{Text: "done"})
	if r := d.send(conv, "what do you remember?"); r.Failed {
		t.Fatalf("web chat turn failed: %+v", r)
	}
	system, result = memoryIn(d.llm.Requests()[n:])
	if !strings.Contains(system, pin) || !strings.Contains(result, pin) {
		t.Errorf("the admin's chat does not read alice's note: prompt %v, memory_read %q", strings.Contains(system, pin), result)
	}

	// The Memory API shows the note with alice's audience; sharing it lets
	// bob's channel read it; deleting it removes it everywhere.
	var list struct {
		Notes []memNote `json:"notes"`
	}
	if code := d.call("GET", "/api/v1/memory", nil, &list); code != http.StatusOK || len(list.Notes) != 1 {
		t.Fatalf("GET /api/v1/memory: %d %+v", code, list.Notes)
	}
	note := list.Notes[0]
	if note.Audience != "discord-user:"+dcAlice.ID || !strings.Contains(note.Text, pin) || note.ConversationID == "" {
		t.Errorf("the note = %+v; want alice's audience", note)
	}
	if code := d.call("POST", "/api/v1/memory/"+note.ID+"/share", nil, nil); code != http.StatusOK {
		t.Fatalf("share: %d", code)
	}
	if system, result = askBob(2); !strings.Contains(system, pin) || !strings.Contains(result, pin) {
		t.Errorf("the shared note does not reach the channel: prompt %v, memory_read %q", strings.Contains(system, pin), result)
	}
	if code := d.call("DELETE", "/api/v1/memory/"+note.ID, nil, nil); code != http.StatusNoContent {
		t.Fatalf("delete: %d", code)
	}
	if system, result = askBob(3); strings.Contains(system, pin) || strings.Contains(result, pin) {
		t.Errorf("the deleted note still reaches the channel")
	}
	var entries struct {
		Entries []map[string]any `json:"entries"`
	}
	for _, action := range []string{"memory.write", "memory.shared", "memory.deleted"} {
		if code := d.call("GET", "/api/v1/audit?action="+action, nil, &entries); code != http.StatusOK || len(entries.Entries) != 1 {
			t.Errorf("audit %s: %d %v", action, code, entries.Entries)
		}
	}
}
