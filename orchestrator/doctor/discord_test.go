package doctor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestDiscordPublicServers: with --deep each allowed channel's server is
// looked up; a Community or discoverable server, or a big one, warns; a
// small private server or a DM channel passes; a failed lookup is skipped
// with the reason; without --deep the check is skipped and the listing
// says to run it.
func TestDiscordPublicServers(t *testing.T) {
	servers := map[string]DiscordChannel{
		"1": {GuildID: "g1", GuildName: "family", Members: 4},
		"2": {},
		"3": {GuildID: "g3", GuildName: "crowd", Members: 5000},
		"4": {GuildID: "g4", GuildName: "listed", Features: []string{"DISCOVERABLE"}, Members: 3},
	}
	var asked []string
	probe := func(_ context.Context, id string) (DiscordChannel, error) {
		asked = append(asked, id)
		if ch, ok := servers[id]; ok {
			return ch, nil
		}
		return DiscordChannel{}, errors.New("404 Unknown Channel")
	}
	tests := []struct {
		channels []string
		want     Status
		seen     []string
	}{
		{[]string{"1", "2"}, Pass, []string{`1 in server "family" (g1), 4 members`, "2 (not in a server)"}},
		{[]string{"1", "3"}, Warn, []string{`3 in server "crowd" (g3): about 5000 members`}},
		{[]string{"4"}, Warn, []string{`4 in server "listed" (g4): DISCOVERABLE`}},
		{[]string{"1", "9"}, Skipped, []string{"could not look up: 9 (404 Unknown Channel)"}},
		{[]string{"3", "9"}, Warn, []string{"crowd", "not looked up: 9"}},
	}
	for _, tt := range tests {
		f := newFixture(t)
		f.env.Settings.Discord.AllowedChannels = tt.channels
		f.env.Probes.DiscordChannel = probe
		asked = nil
		r := f.result(t, "discord.public_servers")
		if r.Status != tt.want || strings.Join(asked, ",") != strings.Join(tt.channels, ",") {
			t.Errorf("%v: %s %q (asked %v), want %s", tt.channels, r.Status, r.Evidence, asked, tt.want)
		}
		for _, s := range tt.seen {
			if !strings.Contains(r.Evidence, s) {
				t.Errorf("%v: evidence %q lacks %q", tt.channels, r.Evidence, s)
			}
		}
	}

	// Without --deep: nothing is asked; the listing says how to know.
	f := newFixture(t)
	f.env.Deep = false
	f.env.Settings.Discord.AllowedChannels = []string{"3"}
	f.env.Probes.DiscordChannel = probe
	asked = nil
	if r := f.result(t, "discord.public_servers"); r.Status != Skipped || len(asked) != 0 {
		t.Errorf("without --deep: %s %q, asked %v", r.Status, r.Evidence, asked)
	}
	if r := f.result(t, "discord.channels"); r.Status != Warn || !strings.Contains(r.Evidence, "run with --deep to see whether they are in public servers") {
		t.Errorf("listing without --deep: %s %q", r.Status, r.Evidence)
	}
}

// TestModelProbeAccounting: the deep model check says whether the probe
// was counted in the budget; a probe not sent (budget used up) is skipped
// with that said, not failed.
func TestModelProbeAccounting(t *testing.T) {
	tests := []struct {
		res  ModelProbe
		err  error
		want Status
		seen string
	}{
		{ModelProbe{Counted: true}, nil, Pass, "counted in today's budget"},
		{ModelProbe{NotCounted: "the database is not writable"}, nil, Pass, "NOT counted in today's budget: the database is not writable"},
		{ModelProbe{}, fmt.Errorf("%w: the daily token budget is used up", ErrNotSent), Skipped, "not sent, nothing counted: the model probe was not sent: the daily token budget"},
	}
	for _, tt := range tests {
		f := newFixture(t)
		f.env.Probes.Model = func(context.Context) (ModelProbe, error) { return tt.res, tt.err }
		if r := f.result(t, "deep.model"); r.Status != tt.want || !strings.Contains(r.Evidence, tt.seen) {
			t.Errorf("%+v %v: %s %q, want %s with %q", tt.res, tt.err, r.Status, r.Evidence, tt.want, tt.seen)
		}
	}
}
