package admin

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator"
	"github.com/airlockhq/airlock/orchestrator/store"
)

// chatData is the chat page: the conversation list and, when one is open,
// its messages.
type chatData struct {
	Conversations []store.Conversation
	Current       *store.Conversation
	Messages      []store.Message
	ReadOnly      bool // a Discord conversation: a transcript only
	Live          bool // the page can stream replies
}

// readOnly reports whether a conversation is answered elsewhere (Discord):
// the web shows its transcript but does not post into it, since the reply
// would never reach the people in that channel.
func readOnly(c store.Conversation) bool { return c.Source == store.SourceDiscord }

func (s *Server) showChat(w http.ResponseWriter, r *http.Request) error {
	convs, err := s.Store.ListConversations(r.Context(), 100, 0)
	if err != nil {
		return err
	}
	d := chatData{Conversations: convs, Live: s.Live != nil}
	if id := r.PathValue("id"); id != "" {
		c, err := s.Store.GetConversation(r.Context(), id)
		if err != nil {
			return err
		}
		if d.Messages, err = s.Store.Messages(r.Context(), id); err != nil {
			return err
		}
		d.Current, d.ReadOnly = &c, readOnly(c)
	}
	s.render(w, r, http.StatusOK, "chat", view{Title: "Chat", Nav: "chat", Data: d, Script: "chat.js"})
	return nil
}

func (s *Server) pageNewChat(w http.ResponseWriter, r *http.Request) error {
	c, err := s.Store.CreateConversation(r.Context(), store.SourceWeb, "")
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/chat/"+c.ID, http.StatusSeeOther)
	return nil
}

// pageSendMessage posts a message. From chat.js (Accept: application/json)
// it answers 202 at once and the reply streams over /events; from a plain
// form it waits for the reply and shows the conversation again.
func (s *Server) pageSendMessage(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	c, err := s.Store.GetConversation(r.Context(), id)
	if err != nil {
		return err
	}
	if readOnly(c) {
		return errorf(http.StatusConflict, "this conversation happens in Discord; its transcript is read-only here")
	}
	m := orchestrator.Message{ConversationID: id, Source: store.SourceWeb, Author: who(r).actor(),
		Text: r.PostFormValue("text")}
	if err := orchestrator.CheckText(m.Text); err != nil {
		return errorf(http.StatusBadRequest, err.Error())
	}
	if c.Title == "" {
		if err := s.Store.TitleIfEmpty(r.Context(), id, titleOf(m.Text)); err != nil {
			s.Logger.Warn("titling a conversation failed", "conversation_id", id, "err", err)
		}
	}
	if isAPI(r) {
		// The task outlives this request; its deadline bounds it.
		go func() {
			if _, err := s.Core.HandleMessage(context.WithoutCancel(r.Context()), m); err != nil {
				s.Logger.Warn("web chat message failed", "conversation_id", id, "err", err)
			}
		}()
		s.writeJSON(w, http.StatusAccepted, map[string]string{"conversation_id": id})
		return nil
	}
	if _, err := s.Core.HandleMessage(r.Context(), m); err != nil {
		return messageError(err)
	}
	http.Redirect(w, r, "/chat/"+id+"#end", http.StatusSeeOther)
	return nil
}

// messageError maps the core's refusals of a message to a 400.
func messageError(err error) error {
	switch {
	case errors.Is(err, orchestrator.ErrEmptyMessage), errors.Is(err, orchestrator.ErrMessageTooLarge),
		errors.Is(err, orchestrator.ErrInvalidText):
		return errorf(http.StatusBadRequest, err.Error())
	}
	return err
}

// Event streams: how often an idle stream sends a comment, so that proxies
// keep it open, and how often its session is checked again.
const (
	sseKeepAlive = 15 * time.Second
	sseRecheck   = time.Second
)

// chatEvents streams a conversation's live events (task started, partial
// reply text, reply stored, failure) as server-sent events. Every event
// passes the redactor. The session is checked again every sseRecheck,
// idle or not, and before a frame goes out when the last check is older
// than that, so logout, a password change or a revoked session ends a
// stream that is already open within a second.
func (s *Server) chatEvents(w http.ResponseWriter, r *http.Request) error {
	if s.Live == nil {
		return errorf(http.StatusNotFound, "live updates are not available")
	}
	id := r.PathValue("id")
	if _, err := s.Store.GetConversation(r.Context(), id); err != nil {
		return err
	}
	rc := http.NewResponseController(w)
	events, cancel := s.Live.Subscribe(id)
	defer cancel()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write([]byte(": connected\n\n")); err != nil {
		return nil
	}
	_ = rc.Flush()
	keepAlive := time.NewTicker(sseKeepAlive)
	defer keepAlive.Stop()
	recheck := time.NewTicker(sseRecheck)
	defer recheck.Stop()
	checked := time.Now()
	valid := func() bool {
		if _, err := s.sessionOf(r); err != nil {
			return false
		}
		checked = time.Now()
		return true
	}
	for {
		var frame []byte
		select {
		case <-r.Context().Done():
			return nil
		case <-recheck.C:
			if !valid() {
				return nil
			}
			continue
		case <-keepAlive.C:
			frame = []byte(": keep-alive\n\n")
		case ev, ok := <-events:
			if !ok {
				return nil
			}
			data, err := json.Marshal(ev)
			if err != nil {
				return nil
			}
			frame = append(append([]byte("event: "+ev.Type+"\ndata: "), s.redact(data)...), '\n', '\n')
		}
		if time.Since(checked) >= sseRecheck && !valid() {
			return nil
		}
		if _, err := w.Write(frame); err != nil {
			return nil
		}
		if err := rc.Flush(); err != nil {
			return nil
		}
	}
}

// roleClass is the CSS class of a message bubble.
func roleClass(m store.Message) string {
	switch m.Role {
	case tools.RoleUser:
		return "user"
	case tools.RoleAssistant:
		return "assistant"
	}
	return "tool"
}

// titleOf makes a conversation title of the start of its first message:
// one line, at most 60 characters.
func titleOf(text string) string {
	t := strings.Join(strings.Fields(text), " ")
	if r := []rune(t); len(r) > 60 {
		t = strings.TrimSpace(string(r[:59])) + "…"
	}
	return t
}
