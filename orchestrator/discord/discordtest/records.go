package discordtest

import "slices"

// Requests returns every HTTP request received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.rec.requests)
}

// Messages returns the messages the bot posted, in order.
func (s *Server) Messages() []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.rec.messages)
}

// MessagesIn returns the messages the bot posted to one channel.
func (s *Server) MessagesIn(channelID string) []SentMessage {
	var out []SentMessage
	for _, m := range s.Messages() {
		if m.ChannelID == channelID {
			out = append(out, m)
		}
	}
	return out
}

// Typing returns the channel ids of the bot's typing requests, in order.
func (s *Server) Typing() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.rec.typing)
}

// Callbacks returns the bot's interaction responses, in order.
func (s *Server) Callbacks() []Callback {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.rec.callbacks)
}

// Commands returns the bodies of the bot's command registrations.
func (s *Server) Commands() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([][]byte, len(s.rec.commands))
	for i, c := range s.rec.commands {
		out[i] = slices.Clone(c)
	}
	return out
}

// Frames returns the frames the client sent on the gateway, in order.
func (s *Server) Frames() []Frame {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.rec.frames)
}

// DMChannel returns the id of the DM channel the bot opened with a user,
// or "" if it opened none.
func (s *Server) DMChannel(userID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dmChannel[userID]
}

// Stats counts gateway events.
type Stats struct {
	Identifies, Resumes, Heartbeats int
	Connected                       bool // a client has a READY or RESUMED session now
}

// Stats returns the gateway counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{Identifies: s.gw.identifies, Resumes: s.gw.resumes, Heartbeats: s.gw.heartbeats,
		Connected: s.gw.conn != nil && s.gw.ready}
}
