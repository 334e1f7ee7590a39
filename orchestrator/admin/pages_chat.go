package admin

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
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

func (s *Server) pageChat(w http.ResponseWriter, r *http.Request) error {
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
		d.Current, d.ReadOnly = &c, orchestrator.ReadOnly(c, store.SourceWeb)
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
// form it waits for the reply and shows the conversation again. The core
// checks the message and the conversation; a post from chat.js to a
// conversation whose reply is still being written is refused at once
// (409), and at most maxBackgroundPosts replies are written for chat.js
// at a time (429 beyond).
func (s *Server) pageSendMessage(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	m := orchestrator.Message{ConversationID: id, Source: store.SourceWeb, Author: who(r).actor(),
		Text: r.PostFormValue("text")}
	if !isAPI(r) {
		if _, err := s.Core.HandleMessage(r.Context(), m); err != nil {
			return messageError(err)
		}
		http.Redirect(w, r, "/chat/"+id+"#end", http.StatusSeeOther)
		return nil
	}
	if err := s.background(r.Context(), func(ctx context.Context) (func(context.Context), error) {
		run, err := s.Core.StartMessage(ctx, m)
		if err != nil {
			return nil, messageError(err)
		}
		return func(ctx context.Context) {
			if _, err := run(ctx); err != nil {
				s.Logger.Warn("web chat message failed", "conversation_id", id, "err", err)
			}
		}, nil
	}); err != nil {
		return err
	}
	s.writeJSON(w, http.StatusAccepted, map[string]string{"conversation_id": id})
	return nil
}

// messageError maps the core's refusals of a message to a status.
func messageError(err error) error {
	switch {
	case errors.Is(err, orchestrator.ErrEmptyMessage), errors.Is(err, orchestrator.ErrMessageTooLarge),
		errors.Is(err, orchestrator.ErrInvalidText):
		return errorf(http.StatusBadRequest, err.Error())
	case errors.Is(err, orchestrator.ErrReadOnly), errors.Is(err, orchestrator.ErrBusy):
		return errorf(http.StatusConflict, err.Error())
	}
	return err
}

// Event streams: how often an idle stream sends a comment, so that proxies
// keep it open, and how often its session is checked again.
const (
	sseKeepAlive = 15 * time.Second
	sseRecheck   = time.Second
)

// pageChatEvents streams a conversation's live events (task started, partial
// reply text, reply stored, failure) as server-sent events. Every event
// passes the redactor. The session is checked again every sseRecheck,
// idle or not, and before a frame goes out when the last check is older
// than that, so logout, a password change or a revoked session ends a
// stream that is already open within a second.
func (s *Server) pageChatEvents(w http.ResponseWriter, r *http.Request) error {
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
