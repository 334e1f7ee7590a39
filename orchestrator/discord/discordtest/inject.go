package discordtest

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/bwmarrin/discordgo"
)

// Dispatch sends the gateway event typ with data to the connected client,
// or, while none has a ready session, queues it for the next READY or
// RESUMED.
func (s *Server) Dispatch(typ string, data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("discordtest: dispatch %s: %w", typ, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dispatchLocked(event{Type: typ, Data: raw})
	return nil
}

// SendMessage dispatches MESSAGE_CREATE for m, giving it an id and a
// timestamp when it has none, and returns its id.
func (s *Server) SendMessage(m discordgo.Message) (string, error) {
	if m.ID == "" {
		s.mu.Lock()
		m.ID = s.newIDLocked()
		s.mu.Unlock()
	}
	if m.Timestamp.IsZero() {
		m.Timestamp = time.Now().UTC()
	}
	return m.ID, s.Dispatch("MESSAGE_CREATE", m)
}

// SendInteraction dispatches INTERACTION_CREATE for i, filling in its id,
// token, application id and version when empty, and returns its id.
func (s *Server) SendInteraction(i discordgo.Interaction) (string, error) {
	s.mu.Lock()
	if i.ID == "" {
		i.ID = s.newIDLocked()
	}
	if i.Token == "" {
		i.Token = "itoken-" + i.ID
	}
	s.mu.Unlock()
	if i.AppID == "" {
		i.AppID = s.opts.AppID
	}
	if i.Version == 0 {
		i.Version = 1
	}
	return i.ID, s.Dispatch("INTERACTION_CREATE", i)
}

// DirectMessage returns a DM from user to the bot in channelID.
func DirectMessage(user *discordgo.User, channelID, content string) discordgo.Message {
	return discordgo.Message{ChannelID: channelID, Author: user, Content: content}
}

// GuildMessage returns a message in a guild channel; it mentions each user
// in mentions, with a <@id> in front of content.
func GuildMessage(user *discordgo.User, guildID, channelID, content string, mentions ...*discordgo.User) discordgo.Message {
	m := discordgo.Message{GuildID: guildID, ChannelID: channelID, Author: user, Content: content,
		Mentions: mentions}
	for i := len(mentions) - 1; i >= 0; i-- {
		m.Content = "<@" + mentions[i].ID + "> " + m.Content
	}
	return m
}

// SlashCommand returns the interaction of user running the chat command
// name in channelID; guildID empty means in a DM.
func SlashCommand(user *discordgo.User, guildID, channelID, name string) discordgo.Interaction {
	i := discordgo.Interaction{Type: discordgo.InteractionApplicationCommand, GuildID: guildID,
		ChannelID: channelID, Data: discordgo.ApplicationCommandInteractionData{ID: "cmd-" + name, Name: name,
			CommandType: discordgo.ChatApplicationCommand}}
	if guildID == "" {
		i.User = user
	} else {
		i.Member = &discordgo.Member{User: user, GuildID: guildID}
	}
	return i
}
