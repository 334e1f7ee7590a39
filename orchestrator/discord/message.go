package discord

import (
	"context"
	"errors"
	"strings"

	"github.com/airlockhq/airlock/orchestrator"
	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/bwmarrin/discordgo"
)

// Texts the bot sends of its own.
const (
	textApology     = "Sorry, something went wrong while answering. Please try again later."
	textTooLong     = "Sorry, that message is too long for me."
	textRateLimited = "You're sending messages faster than I can answer. Please wait a minute and try again."
	textNewConv     = "Started a new conversation. Earlier messages stay readable in the web UI."
	textEmpty       = "Hi! Send me a message and I'll answer it."
	textAttachments = "(I can't read attachments, so I ignored the file you sent.)"
	textNoReply     = "(The assistant had nothing to say.)"
)

// incoming is a message the bot will answer.
type incoming struct {
	id, channelID, userID, userName string
	dm                              bool
	text                            string
	attachments                     int
}

// onMessage filters a MESSAGE_CREATE on the gateway goroutine and hands a
// message that may be for the bot to its own goroutine. A message id seen
// within dedupeWindow is dropped: Discord may deliver an event twice.
func (b *Bot) onMessage(_ *discordgo.Session, mc *discordgo.MessageCreate) {
	m := mc.Message
	me := b.me()
	// Webhook messages carry a user-like author that anyone with the
	// webhook's URL chooses: never answered as that user.
	if m == nil || m.ID == "" || m.Author == nil || m.Author.Bot || m.WebhookID != "" ||
		m.Author.ID == me || me == "" || !b.seen.first("message:"+m.ID) {
		return
	}
	b.spawn(func(ctx context.Context) {
		if in, ok := b.accept(ctx, m); ok {
			b.answer(ctx, in)
		}
	})
}

// accept decides whether m is for the bot and from someone it answers,
// auditing strangers who address it. Whether m is a DM is what the API
// says of its channel, not a missing guild id.
func (b *Bot) accept(ctx context.Context, m *discordgo.Message) (incoming, bool) {
	me := b.me()
	dm, err := b.isDM(ctx, m.GuildID, m.ChannelID)
	if err != nil {
		b.fail("channel lookup", err, "channel", m.ChannelID)
		return incoming{}, false
	}
	in := incoming{id: m.ID, channelID: m.ChannelID, userID: m.Author.ID, userName: m.Author.Username,
		dm: dm, attachments: len(m.Attachments)}
	if !in.dm && !mentions(m, me) {
		return incoming{}, false
	}
	if reason := b.refusal(in.userID, in.channelID, in.dm); reason != "" {
		b.auditIgnored(ctx, in.userID, in.channelID, in.dm, "message", reason)
		return incoming{}, false
	}
	in.text = stripMention(m.Content, me)
	return in, true
}

// isDM reports whether a channel is a DM with the bot. A message or
// interaction with a guild id is not; for one without, the channel's type
// is asked of the API (once per channel): an event that merely lacks its
// guild id is not taken for a DM.
func (b *Bot) isDM(ctx context.Context, guildID, channelID string) (bool, error) {
	if guildID != "" {
		return false, nil
	}
	if channelID == "" {
		return false, errors.New("no channel id")
	}
	if dm, ok := b.kinds.get(channelID); ok {
		return dm, nil
	}
	ch, err := b.session.Channel(channelID, discordgo.WithContext(ctx))
	if err != nil {
		return false, err
	}
	dm := ch.Type == discordgo.ChannelTypeDM
	b.kinds.put(channelID, dm)
	return dm, nil
}

// refusal returns why a user in a channel is not answered, or "".
func (b *Bot) refusal(userID, channelID string, dm bool) string {
	switch {
	case !b.allowedUser(userID):
		return "user not allowlisted"
	case !dm && !b.allowedChannel(channelID):
		return "channel not allowlisted"
	}
	return ""
}

func mentions(m *discordgo.Message, id string) bool {
	for _, u := range m.Mentions {
		if u != nil && u.ID == id {
			return true
		}
	}
	return false
}

// stripMention removes the bot's mentions (<@id> and <@!id>) from text.
func stripMention(text, id string) string {
	text = strings.ReplaceAll(text, "<@"+id+">", "")
	text = strings.ReplaceAll(text, "<@!"+id+">", "")
	return strings.TrimSpace(text)
}

// answer handles one accepted message: rate limit, !new, the handler.
func (b *Bot) answer(ctx context.Context, in incoming) {
	switch allowed, warn := b.limits.allow(in.userID); {
	case !allowed && warn:
		b.send(ctx, in, textRateLimited)
		return
	case !allowed:
		return
	}
	if strings.EqualFold(in.text, "!new") {
		b.startNew(ctx, in.channelID, in.dm, in.userName, func(text string) { b.send(ctx, in, text) })
		return
	}
	var note string
	if in.attachments > 0 {
		note = textAttachments + "\n"
	}
	if in.text == "" {
		b.send(ctx, in, note+textEmpty)
		return
	}
	b.send(ctx, in, note+b.ask(ctx, in))
}

// ask runs the handler with the typing indicator on and returns the text
// to post: the reply, or an apology.
func (b *Bot) ask(ctx context.Context, in incoming) string {
	conv, err := b.deps.Store.ExternalConversation(ctx, store.SourceDiscord, in.channelID,
		title(in.dm, in.userName, in.channelID))
	if err != nil {
		b.fail("conversation lookup", err, "channel", in.channelID)
		return textApology
	}
	stop := b.typing(ctx, in.channelID)
	reply, err := b.deps.Handler.HandleMessage(ctx, orchestrator.Message{ConversationID: conv.ID,
		Source: store.SourceDiscord, Author: "discord:" + in.userID, Text: in.text, Audience: audience(in)})
	stop()
	switch {
	case errors.Is(err, orchestrator.ErrMessageTooLarge):
		return textTooLong
	case err != nil:
		b.fail("answer", err, "channel", in.channelID, "user", in.userID, "conversation", conv.ID)
		return textApology
	case strings.TrimSpace(reply.Text) == "":
		return textNoReply
	}
	return reply.Text
}

// audience is the memory audience of a message: a DM's notes are its
// sender's, a channel's are the channel's.
func audience(in incoming) string {
	if in.dm {
		return store.DiscordUserAudience(in.userID)
	}
	return store.DiscordChannelAudience(in.channelID)
}

// title names a new conversation.
func title(dm bool, userName, channelID string) string {
	if dm {
		return "Discord DM with " + userName
	}
	return "Discord channel " + channelID
}
