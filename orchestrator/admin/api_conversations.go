package admin

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/airlockhq/airlock/orchestrator"
	"github.com/airlockhq/airlock/orchestrator/store"
)

func (s *Server) apiListConversations(w http.ResponseWriter, r *http.Request) error {
	limit, offset, err := paging(r)
	if err != nil {
		return err
	}
	convs, err := s.Store.ListConversations(r.Context(), limit, offset)
	if err != nil {
		return err
	}
	if convs == nil {
		convs = []store.Conversation{}
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"conversations": convs})
	return nil
}

func (s *Server) apiCreateConversation(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Title string `json:"title"`
	}
	if err := s.decodeJSON(w, r, &in); err != nil {
		return err
	}
	conv, err := s.Store.CreateConversation(r.Context(), store.SourceAPI, in.Title)
	if errors.Is(err, store.ErrTitleTooLong) {
		return errorf(http.StatusBadRequest, store.ErrTitleTooLong.Error())
	}
	if err != nil {
		return err
	}
	s.writeJSON(w, http.StatusCreated, conv)
	return nil
}

func (s *Server) apiConversation(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	conv, err := s.Store.GetConversation(r.Context(), id)
	if err != nil {
		return err
	}
	msgs, err := s.Store.Messages(r.Context(), id)
	if err != nil {
		return err
	}
	usage, err := s.Store.ConversationUsage(r.Context(), id)
	if err != nil {
		return err
	}
	if msgs == nil {
		msgs = []store.Message{}
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"conversation": conv, "messages": msgs, "usage": usage})
	return nil
}

func (s *Server) apiPostMessage(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Text string `json:"text"`
	}
	if err := s.decodeJSON(w, r, &in); err != nil {
		return err
	}
	reply, err := s.Core.HandleMessage(r.Context(), orchestrator.Message{
		ConversationID: r.PathValue("id"), Source: "api", Author: who(r).actor(), Text: in.Text,
	})
	if err != nil {
		return messageError(err)
	}
	s.writeJSON(w, http.StatusOK, reply)
	return nil
}

func paging(r *http.Request) (limit, offset int, err error) {
	limit, offset = 50, 0
	q := r.URL.Query()
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 500 {
			return 0, 0, errorf(http.StatusBadRequest, "limit must be a number from 1 to 500")
		}
	}
	if v := q.Get("offset"); v != "" {
		if offset, err = strconv.Atoi(v); err != nil || offset < 0 {
			return 0, 0, errorf(http.StatusBadRequest, "offset must be a number of 0 or more")
		}
	}
	return limit, offset, nil
}
