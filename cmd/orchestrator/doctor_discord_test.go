package main

import (
	"context"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/orchestrator/discord/discordtest"
	"github.com/airlockhq/airlock/orchestrator/doctor"
	"github.com/airlockhq/airlock/orchestrator/settings"
	"github.com/airlockhq/airlock/secure/redact"
	"github.com/bwmarrin/discordgo"
)

// TestDoctorDiscordPublicServers: the deep probe looks each allowed
// channel's server up on the (fake) Discord with the bot's token, and
// discord.public_servers warns for the Community server, not for the
// small private one or a DM channel; a failed lookup's error does not
// show the token.
func TestDoctorDiscordPublicServers(t *testing.T) {
	const token = "doctor-canary-token-5f1e2d3c"
	dc, err := discordtest.New(discordtest.Options{Token: token})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dc.Close() })
	dc.AddChannel(discordgo.Channel{ID: "10", GuildID: "77", Type: discordgo.ChannelTypeGuildText})
	dc.AddChannel(discordgo.Channel{ID: "11", GuildID: "88", Type: discordgo.ChannelTypeGuildText})
	dc.AddChannel(discordgo.Channel{ID: "12", Type: discordgo.ChannelTypeDM})
	dc.AddGuild(discordgo.Guild{ID: "77", Name: "Open Hangout", Features: []discordgo.GuildFeature{discordgo.GuildFeatureCommunity},
		ApproximateMemberCount: 900})
	dc.AddGuild(discordgo.Guild{ID: "88", Name: "family", ApproximateMemberCount: 4})
	holder := &redact.Holder{}
	r, err := redact.New(redactEntries("", token))
	if err != nil {
		t.Fatal(err)
	}
	holder.Store(r)
	probe := discordChannelProbe(token, dc.Client(), holder)
	ctx := context.Background()

	if ch, err := probe(ctx, "10"); err != nil || ch.GuildID != "77" || ch.GuildName != "Open Hangout" || ch.Members != 900 ||
		len(ch.Features) != 1 || ch.Features[0] != "COMMUNITY" {
		t.Fatalf("channel 10: %+v %v", ch, err)
	}
	if ch, err := probe(ctx, "12"); err != nil || ch.GuildID != "" {
		t.Fatalf("DM channel: %+v %v", ch, err)
	}
	if _, err := probe(ctx, "404"); err == nil || strings.Contains(err.Error(), token) {
		t.Fatalf("unknown channel: %v", err)
	}

	run := func(channels ...string) doctor.Result {
		s := settings.Settings{}
		s.Discord.AllowedChannels = channels
		rep := doctor.Run(ctx, doctor.Env{Settings: s, DiscordToken: true, Deep: true,
			Probes: doctor.Probes{DiscordChannel: probe}})
		res, _ := rep.Find("discord.public_servers")
		return res
	}
	if res := run("11", "12"); res.Status != doctor.Pass {
		t.Errorf("private server and DM: %s %q", res.Status, res.Evidence)
	}
	res := run("11", "10")
	if res.Status != doctor.Warn || !strings.Contains(res.Evidence, `10 in server "Open Hangout" (77): COMMUNITY, about 900 members`) {
		t.Errorf("community server: %s %q", res.Status, res.Evidence)
	}
	// Every lookup carried the bot's token, and only to the fake.
	for _, req := range dc.Requests() {
		if req.Authorization != "Bot "+token {
			t.Errorf("%s %s without the bot token", req.Method, req.Path)
		}
	}
}
