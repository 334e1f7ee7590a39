package discord

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/bwmarrin/discordgo"
)

// MaxMessageLen is Discord's limit on a message's length, in characters.
const MaxMessageLen = 2000

// noMentions lets a message mention nobody: not @everyone, roles or users.
func noMentions() *discordgo.MessageAllowedMentions {
	return &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}
}

// sendTimeout bounds posting one reply.
const sendTimeout = 30 * time.Second

// send posts text to in's channel, split into parts Discord accepts; in a
// guild the first part replies to in's message. An answer already made is
// posted even while the bot stops (a settings change restarts it): the REST
// API needs no gateway, and the user must not lose the reply.
func (b *Bot) send(ctx context.Context, in incoming, text string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
	defer cancel()
	var ref *discordgo.MessageReference
	if !in.dm && in.id != "" {
		f := false
		ref = &discordgo.MessageReference{MessageID: in.id, ChannelID: in.channelID, FailIfNotExists: &f}
	}
	if err := b.post(ctx, in.channelID, text, ref); err != nil {
		b.fail("send reply", err, "channel", in.channelID)
	}
}

// post sends text to a channel, masked links unmasked, split by Split
// into at most MaxMessages parts, without mentions and with embeds
// suppressed unless previews are allowed (see links.go).
func (b *Bot) post(ctx context.Context, channelID, text string, ref *discordgo.MessageReference) error {
	for _, part := range capParts(Split(unmask(text), MaxMessageLen), b.cfg.MaxMessages) {
		msg := &discordgo.MessageSend{Content: part, AllowedMentions: noMentions(), Reference: ref,
			Flags: messageFlags(part, b.cfg.LinkPreviews, b.cfg.PreviewHosts)}
		if _, err := b.session.ChannelMessageSendComplex(channelID, msg, discordgo.WithContext(ctx)); err != nil {
			return err
		}
		ref = nil
	}
	return nil
}

// typing shows the typing indicator in a channel, renewed every
// TypingEvery, until the returned stop is called; stop waits for the
// renewing goroutine to end.
func (b *Bot) typing(ctx context.Context, channelID string) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(b.cfg.TypingEvery)
		defer t.Stop()
		for {
			if err := b.session.ChannelTyping(channelID, discordgo.WithContext(ctx)); err != nil && ctx.Err() == nil {
				b.log.Warn("discord: typing indicator", "channel", channelID, "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// startNew binds the channel to a fresh conversation and answers through
// respond.
func (b *Bot) startNew(ctx context.Context, channelID string, dm bool, userName string, respond func(string)) {
	_, err := b.deps.Store.NewExternalConversation(ctx, store.SourceDiscord, channelID,
		title(dm, userName, channelID))
	if err != nil {
		b.fail("new conversation", err, "channel", channelID)
		respond(textApology)
		return
	}
	respond(textNewConv)
}

// textCut ends the last message of a reply cut to MaxMessages parts.
const textCut = "(The reply was %d messages long; the rest is cut. The whole reply is in the conversation in Airlock's web UI.)"

// capParts keeps at most max parts; when it drops some, the last one kept
// is shortened to make room for a note saying so.
func capParts(parts []string, max int) []string {
	if max < 1 || len(parts) <= max {
		return parts
	}
	note := fmt.Sprintf(textCut, len(parts))
	last := Split(parts[max-1], MaxMessageLen-textLen(note)-1)
	kept := slices.Clone(parts[:max-1])
	if len(last) > 0 {
		return append(kept, last[0]+"\n"+note)
	}
	return append(kept, note)
}
