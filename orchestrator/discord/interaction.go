package discord

import (
	"context"

	"github.com/bwmarrin/discordgo"
)

// cmdNew is the slash command that starts a new conversation.
const cmdNew = "new"

const (
	textNotAllowed     = "Sorry, you are not allowed to use this bot."
	textUnknownCommand = "Sorry, I don't know that command."
)

// onInteraction answers slash commands. They obey the same allowlists as
// messages; a refusal is ephemeral (only its user sees it) and audited.
func (b *Bot) onInteraction(_ *discordgo.Session, ic *discordgo.InteractionCreate) {
	i := ic.Interaction
	if i == nil || i.Type != discordgo.InteractionApplicationCommand {
		return
	}
	user := i.User
	if i.Member != nil && i.Member.User != nil {
		user = i.Member.User
	}
	if user == nil || user.Bot {
		return
	}
	if !b.seen.first("interaction:" + i.ID) {
		return
	}
	b.spawn(func(ctx context.Context) { b.command(ctx, i, user) })
}

// command answers a slash command from user.
func (b *Bot) command(ctx context.Context, i *discordgo.Interaction, user *discordgo.User) {
	dm, err := b.isDM(ctx, i.GuildID, i.ChannelID)
	if err != nil {
		b.fail("channel lookup", err, "channel", i.ChannelID)
		return
	}
	if reason := b.refusal(user.ID, i.ChannelID, dm); reason != "" {
		b.auditIgnored(ctx, user.ID, i.ChannelID, dm, "command", reason)
		b.respond(ctx, i, textNotAllowed, true)
		return
	}
	// Data that did not parse leaves Data nil (or of another type):
	// ApplicationCommandData would panic.
	if data, ok := i.Data.(discordgo.ApplicationCommandInteractionData); !ok || data.Name != cmdNew {
		b.respond(ctx, i, textUnknownCommand, true)
		return
	}
	if allowed, _ := b.limits.allow(user.ID); !allowed {
		b.respond(ctx, i, textRateLimited, true)
		return
	}
	b.startNew(ctx, i.ChannelID, dm, user.Username, func(text string) { b.respond(ctx, i, text, false) })
}

// respond answers an interaction with a message, optionally ephemeral.
func (b *Bot) respond(ctx context.Context, i *discordgo.Interaction, text string, ephemeral bool) {
	data := &discordgo.InteractionResponseData{Content: text, AllowedMentions: noMentions(),
		Flags: discordgo.MessageFlagsSuppressEmbeds}
	if ephemeral {
		data.Flags |= discordgo.MessageFlagsEphemeral
	}
	resp := &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource, Data: data}
	if err := b.session.InteractionRespond(i, resp, discordgo.WithContext(ctx)); err != nil {
		b.fail("interaction response", err, "channel", i.ChannelID)
	}
}
