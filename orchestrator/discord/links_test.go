package discord

import (
	"context"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/orchestrator"
	"github.com/airlockhq/airlock/orchestrator/discord/discordtest"
	"github.com/bwmarrin/discordgo"
)

func TestUnmask(t *testing.T) {
	tests := []struct{ in, want string }{
		{"see [your bank](https://evil.example/?q=secret)", "see your bank (https://evil.example/?q=secret)"},
		{"[x](<https://evil.example/a b>)", `[x]\(<https://evil.example/a b>)`},
		{"[x](<https://evil.example/a>)", "x (https://evil.example/a)"},
		{`[x](https://evil.example "title")`, "x (https://evil.example)"},
		{"[x](HTTPS://evil.example/a_(b))", "x (HTTPS://evil.example/a_(b))"},
		{"[[a](https://x.example)](https://evil.example)", "a (https://x.example) (https://evil.example)"},
		{"[multi\nline](https://evil.example)", "multi\nline (https://evil.example)"},
		{"handlers[0](event) and [link](not a url)", "handlers[0](event) and [link](not a url)"},
		{"[x]( javascript:alert(1))", `[x]\( javascript:alert(1))`},
	}
	for _, tt := range tests {
		if got := unmask(tt.in); got != tt.want {
			t.Errorf("unmask(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMessageFlags(t *testing.T) {
	hosts := []string{"www.youtube.com", "example.org"}
	suppressed := discordgo.MessageFlagsSuppressEmbeds
	tests := []struct {
		text     string
		previews bool
		want     discordgo.MessageFlags
	}{
		{"no links", false, suppressed},
		{"https://www.youtube.com/watch?v=1", false, suppressed},
		{"https://www.youtube.com/watch?v=1 and HTTP://EXAMPLE.ORG:8080/x", true, 0},
		{"no links at all", true, 0},
		{"https://www.youtube.com/ and https://evil.example/?d=secret", true, suppressed},
		{"https://www.youtube.com@evil.example/", true, suppressed},
		{"https://www.youtube.com\\@evil.example/", true, suppressed},
		{"https://www.youtube.com.evil.example/", true, suppressed},
		{"https://evil.example#https://www.youtube.com", true, suppressed},
		{"https://www.youtube.com:/x", true, suppressed},
		{"<https://evil.example/>", true, suppressed},
	}
	for _, tt := range tests {
		if got := messageFlags(tt.text, tt.previews, hosts); got != tt.want {
			t.Errorf("messageFlags(%q, %v) = %d, want %d", tt.text, tt.previews, got, tt.want)
		}
	}
}

// TestRepliesAndDMsSuppressEmbeds (issue 20, item 1): replies and admin
// DMs are posted with SUPPRESS_EMBEDS, so Discord fetches no URL the model
// wrote; masked links reach the channel with their target shown.
func TestRepliesAndDMsSuppressEmbeds(t *testing.T) {
	e := newEnv(t, nil)
	e.handler.reply = func(_ context.Context, m orchestrator.Message) (orchestrator.Reply, error) {
		return orchestrator.Reply{Text: "Check [your bank](https://evil.example/?pin=4321) or https://evil.example/x?d=secret"}, nil
	}
	e.send(discordtest.DirectMessage(alice, aliceDM, "hi"))
	got := e.waitMessages(aliceDM, 1)
	if err := e.bot.NotifyScriptProposed(e.ctx, scriptInfo("weather_now", strings.Repeat("ab", 32))); err != nil {
		t.Fatal(err)
	}
	e.slash(discordtest.SlashCommand(alice, "", aliceDM, "new"))
	e.waitFor("callback", func() bool { return len(e.fake.Callbacks()) == 1 })
	e.stop()
	if got[0].Content != "Check your bank (https://evil.example/?pin=4321) or https://evil.example/x?d=secret" {
		t.Errorf("reply = %q", got[0].Content)
	}
	for _, m := range e.fake.Messages() {
		if m.Flags&discordgo.MessageFlagsSuppressEmbeds == 0 {
			t.Errorf("message to %s posted without SUPPRESS_EMBEDS: %.60q", m.ChannelID, m.Content)
		}
	}
	if n := len(e.fake.Messages()); n != 2 {
		t.Errorf("%d messages, want the reply and the admin DM", n)
	}
	if d := e.fake.Callbacks()[0].Response.Data; d == nil || d.Flags&discordgo.MessageFlagsSuppressEmbeds == 0 {
		t.Errorf("interaction response without SUPPRESS_EMBEDS: %+v", d)
	}
}

// TestLinkPreviewsOptIn: with previews on, a message whose links all point
// to allowlisted hosts is posted without the flag; any other keeps it.
func TestLinkPreviewsOptIn(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.LinkPreviews, c.PreviewHosts = true, []string{"WWW.YouTube.com"} })
	e.handler.reply = func(_ context.Context, m orchestrator.Message) (orchestrator.Reply, error) {
		return orchestrator.Reply{Text: m.Text}, nil
	}
	e.send(discordtest.DirectMessage(alice, aliceDM, "https://www.youtube.com/watch?v=1"))
	e.waitMessages(aliceDM, 1)
	e.send(discordtest.DirectMessage(alice, aliceDM, "https://www.youtube.com/ https://evil.example/?q=1"))
	got := e.waitMessages(aliceDM, 2)
	if got[0].Flags != 0 || got[1].Flags&discordgo.MessageFlagsSuppressEmbeds == 0 {
		t.Errorf("flags %d and %d, want 0 (allowlisted) and SUPPRESS_EMBEDS", got[0].Flags, got[1].Flags)
	}
}
