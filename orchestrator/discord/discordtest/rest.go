package discordtest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/bwmarrin/discordgo"
)

// maxBody caps a request body the fake reads.
const maxBody = 1 << 20

// routes is the fake's route table. Everything passes record first.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws/", s.serveGateway)
	api := http.NewServeMux()
	api.HandleFunc("GET /api/{v}/gateway", s.getGateway)
	api.HandleFunc("GET /api/{v}/gateway/bot", s.getGateway)
	api.HandleFunc("GET /api/{v}/users/@me", s.getMe)
	api.HandleFunc("POST /api/{v}/users/@me/channels", s.createDM)
	api.HandleFunc("GET /api/{v}/channels/{id}", s.getChannel)
	api.HandleFunc("GET /api/{v}/guilds/{id}", s.getGuild)
	api.HandleFunc("POST /api/{v}/channels/{id}/messages", s.postMessage)
	api.HandleFunc("POST /api/{v}/channels/{id}/typing", s.postTyping)
	api.HandleFunc("POST /api/{v}/interactions/{id}/{token}/callback", s.postCallback)
	api.HandleFunc("PUT /api/{v}/applications/{app}/commands", s.putCommands)
	api.HandleFunc("POST /api/{v}/applications/{app}/commands", s.putCommands)
	api.HandleFunc("PUT /api/{v}/applications/{app}/guilds/{g}/commands", s.putCommands)
	api.HandleFunc("POST /api/{v}/applications/{app}/guilds/{g}/commands", s.putCommands)
	api.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "404: Not Found")
	})
	mux.Handle("/", s.authorized(api))
	return s.record(mux)
}

// record keeps a copy of every request, body included.
func (s *Server) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
		if err != nil {
			writeError(w, http.StatusBadRequest, "bad body")
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		s.mu.Lock()
		s.rec.requests = append(s.rec.requests, Request{Method: r.Method, Host: r.Host, Path: r.URL.Path,
			Authorization: r.Header.Get("Authorization"), Body: body})
		s.notifyLocked()
		s.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

// authorized refuses REST requests without the bot's token.
func (s *Server) authorized(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bot "+s.opts.Token {
			writeError(w, http.StatusUnauthorized, "401: Unauthorized")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) getGateway(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, discordgo.GatewayBotResponse{URL: s.GatewayURL(), Shards: 1,
		SessionStartLimit: discordgo.SessionInformation{Total: 1000, Remaining: 1000, MaxConcurrency: 1}})
}

func (s *Server) getMe(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, s.botUser())
}

func (s *Server) botUser() *discordgo.User {
	return &discordgo.User{ID: s.opts.BotID, Username: s.opts.BotName, Bot: true}
}

func (s *Server) createDM(w http.ResponseWriter, r *http.Request) {
	var req struct {
		RecipientID string `json:"recipient_id"`
	}
	if json.NewDecoder(r.Body).Decode(&req) != nil || req.RecipientID == "" {
		writeError(w, http.StatusBadRequest, "recipient_id required")
		return
	}
	s.mu.Lock()
	id := s.dmChannel[req.RecipientID]
	if id == "" {
		id = s.newIDLocked()
		s.dmChannel[req.RecipientID] = id
		s.channels[id] = discordgo.Channel{ID: id, Type: discordgo.ChannelTypeDM}
		s.notifyLocked()
	}
	s.mu.Unlock()
	writeJSON(w, discordgo.Channel{ID: id, Type: discordgo.ChannelTypeDM,
		Recipients: []*discordgo.User{{ID: req.RecipientID}}})
}

func (s *Server) getChannel(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	ch, ok := s.channels[r.PathValue("id")]
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "Unknown Channel")
		return
	}
	writeJSON(w, ch)
}

// getGuild answers a guild given to AddGuild; its approximate counts only
// with ?with_counts=true, as Discord does.
func (s *Server) getGuild(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	g, ok := s.guilds[r.PathValue("id")]
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "Unknown Guild")
		return
	}
	if r.URL.Query().Get("with_counts") != "true" {
		g.ApproximateMemberCount, g.ApproximatePresenceCount = 0, 0
	}
	writeJSON(w, g)
}

func (s *Server) postMessage(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Content         string                            `json:"content"`
		AllowedMentions *discordgo.MessageAllowedMentions `json:"allowed_mentions"`
		Flags           discordgo.MessageFlags            `json:"flags"`
	}
	if json.NewDecoder(r.Body).Decode(&req) != nil {
		writeError(w, http.StatusBadRequest, "bad JSON")
		return
	}
	if req.Content == "" || len([]rune(req.Content)) > 2000 {
		writeError(w, http.StatusBadRequest, "content must be 1 to 2000 characters")
		return
	}
	ch := r.PathValue("id")
	s.mu.Lock()
	s.rec.messages = append(s.rec.messages, SentMessage{ChannelID: ch, Content: req.Content,
		AllowedMentions: req.AllowedMentions, Flags: req.Flags})
	id := s.newIDLocked()
	s.notifyLocked()
	s.mu.Unlock()
	writeJSON(w, discordgo.Message{ID: id, ChannelID: ch, Content: req.Content, Author: s.botUser(),
		Timestamp: time.Now().UTC()})
}

func (s *Server) postTyping(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.rec.typing = append(s.rec.typing, r.PathValue("id"))
	s.notifyLocked()
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) postCallback(w http.ResponseWriter, r *http.Request) {
	var resp discordgo.InteractionResponse
	if json.NewDecoder(r.Body).Decode(&resp) != nil {
		writeError(w, http.StatusBadRequest, "bad JSON")
		return
	}
	s.mu.Lock()
	s.rec.callbacks = append(s.rec.callbacks, Callback{InteractionID: r.PathValue("id"),
		Token: r.PathValue("token"), Response: resp})
	s.notifyLocked()
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// putCommands accepts command registrations and echoes them back with ids.
func (s *Server) putCommands(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var cmds []*discordgo.ApplicationCommand
	if r.Method == http.MethodPost {
		var one discordgo.ApplicationCommand
		if json.Unmarshal(body, &one) != nil {
			writeError(w, http.StatusBadRequest, "bad JSON")
			return
		}
		cmds = append(cmds, &one)
	} else if json.Unmarshal(body, &cmds) != nil {
		writeError(w, http.StatusBadRequest, "bad JSON")
		return
	}
	s.mu.Lock()
	s.rec.commands = append(s.rec.commands, body)
	for _, c := range cmds {
		c.ID, c.ApplicationID = s.newIDLocked(), r.PathValue("app")
	}
	s.notifyLocked()
	s.mu.Unlock()
	if r.Method == http.MethodPost {
		writeJSON(w, cmds[0])
		return
	}
	writeJSON(w, cmds)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"message": msg, "code": 0})
}
