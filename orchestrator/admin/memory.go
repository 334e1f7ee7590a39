package admin

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/store"
)

// memoryNote is a note as the Memory page and GET /api/v1/memory show it:
// with who can read it and the conversation that wrote it.
type memoryNote struct {
	store.MemoryNote
	// Readers says in words which conversations read the note.
	Readers string `json:"readers"`
	// ConversationTitle is the title of the conversation that wrote it,
	// "" when it is gone or the note was imported.
	ConversationTitle string `json:"conversation_title,omitempty"`
	Shared            bool   `json:"shared"`
}

// readers says who reads a note of audience a, for the admin.
func readers(a string) string {
	switch {
	case a == store.AudienceEveryone:
		return "every conversation: the web chat, the API, every Discord DM and channel"
	case a == store.AudienceAdmin:
		return "the admin only (web chat and API)"
	case strings.HasPrefix(a, "discord-user:"):
		return "Discord user " + strings.TrimPrefix(a, "discord-user:") + " in DMs with the bot, and the admin"
	case strings.HasPrefix(a, "discord-channel:"):
		return "Discord channel " + strings.TrimPrefix(a, "discord-channel:") + ", and the admin"
	}
	return a
}

// memoryNotes returns every note, newest first, for the admin.
func (s *Server) memoryNotes(ctx context.Context) ([]memoryNote, error) {
	notes, err := s.Store.MemoryNotes(ctx, store.AudienceAdmin)
	if err != nil {
		return nil, err
	}
	titles := map[string]string{}
	out := make([]memoryNote, 0, len(notes))
	for i := len(notes) - 1; i >= 0; i-- {
		n := notes[i]
		title, ok := titles[n.ConversationID]
		if !ok && n.ConversationID != "" {
			if c, err := s.Store.GetConversation(ctx, n.ConversationID); err == nil {
				title = c.Title
				if title == "" {
					title = "(untitled)"
				}
			}
			titles[n.ConversationID] = title
		}
		out = append(out, memoryNote{MemoryNote: n, Readers: readers(n.Audience), ConversationTitle: title,
			Shared: n.Audience == store.AudienceEveryone})
	}
	return out, nil
}

// listMemory is GET /api/v1/memory: every note with its audience.
func (s *Server) apiListMemory(w http.ResponseWriter, r *http.Request) error {
	notes, err := s.memoryNotes(r.Context())
	if err != nil {
		return err
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"notes": notes})
	return nil
}

// shareMemory is POST /api/v1/memory/{id}/share.
func (s *Server) apiShareMemory(w http.ResponseWriter, r *http.Request) error {
	n, err := s.doShareMemory(r)
	if err != nil {
		return err
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"id": n.ID, "audience": store.AudienceEveryone, "was": n.Audience})
	return nil
}

// deleteMemory is DELETE /api/v1/memory/{id}.
func (s *Server) apiDeleteMemory(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.doDeleteMemory(r); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// doShareMemory widens a note to everyone and audits it. The audit entry
// names the note and its audiences, never its text.
func (s *Server) doShareMemory(r *http.Request) (store.MemoryNote, error) {
	n, err := s.Store.ShareMemoryNote(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return n, errorf(http.StatusNotFound, "no such note")
	}
	if err != nil {
		return n, err
	}
	s.auditEvent(r, audit.Event{Actor: who(r).actor(), Action: "memory.shared", Target: n.ID, Outcome: audit.OutcomeOK,
		Details: map[string]any{"from": n.Audience, "to": store.AudienceEveryone, "bytes": len(n.Text)}})
	return n, nil
}

// doDeleteMemory deletes a note and audits it (without its text).
func (s *Server) doDeleteMemory(r *http.Request) (store.MemoryNote, error) {
	n, err := s.Store.DeleteMemoryNote(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return n, errorf(http.StatusNotFound, "no such note")
	}
	if err != nil {
		return n, err
	}
	s.auditEvent(r, audit.Event{Actor: who(r).actor(), Action: "memory.deleted", Target: n.ID, Outcome: audit.OutcomeOK,
		Details: map[string]any{"audience": n.Audience, "bytes": len(n.Text)}})
	return n, nil
}

// memoryData is the Memory page.
type memoryData struct {
	Notes   []memoryNote
	Pending []store.PendingMemory
}

func (s *Server) pageMemory(w http.ResponseWriter, r *http.Request) error {
	notes, err := s.memoryNotes(r.Context())
	if err != nil {
		return err
	}
	pending, err := s.Store.PendingMemories(r.Context())
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "memory", view{Title: "Memory", Nav: "memory", Script: "confirm.js",
		Data: memoryData{Notes: notes, Pending: pending}})
	return nil
}

func (s *Server) pageShareMemory(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.doShareMemory(r); err != nil {
		return err
	}
	s.redirect(w, r, "/memory", "The note is shared with every conversation.")
	return nil
}

func (s *Server) pageDeleteMemory(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.doDeleteMemory(r); err != nil {
		return err
	}
	s.redirect(w, r, "/memory", "Deleted the note.")
	return nil
}
