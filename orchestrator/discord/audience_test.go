package discord

import (
	"testing"

	"github.com/airlockhq/airlock/orchestrator/discord/discordtest"
	"github.com/bwmarrin/discordgo"
)

// TestMessagesCarryTheirMemoryAudience (issue 20, item 2): a DM reaches
// the core with its sender's audience, a channel mention with the
// channel's, so that a note saved in one is not read in the other.
func TestMessagesCarryTheirMemoryAudience(t *testing.T) {
	e := newEnv(t, nil)
	bot := &discordgo.User{ID: e.fake.BotID()}
	e.send(discordtest.DirectMessage(alice, aliceDM, "in private"))
	e.waitMessages(aliceDM, 1)
	e.send(discordtest.GuildMessage(alice, guildID, allowedChan, "in public", bot))
	e.waitMessages(allowedChan, 1)
	want := map[string]string{"in private": "discord-user:" + alice.ID, "in public": "discord-channel:" + allowedChan}
	calls := e.handler.Calls()
	if len(calls) != 2 {
		t.Fatalf("handler calls = %d, want 2", len(calls))
	}
	for _, m := range calls {
		if m.Audience != want[m.Text] {
			t.Errorf("%q reached the core with audience %q, want %q", m.Text, m.Audience, want[m.Text])
		}
	}
}
