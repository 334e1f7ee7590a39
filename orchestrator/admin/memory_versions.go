package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/airlockhq/airlock/orchestrator/approval"
	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/store"
)

// Memory under review (issue 16, item 3): the versions of each audience's
// notes and of each workspace file the model wrote, their diffs, restore,
// the admin's edits and pins, and the memory writes awaiting approval.

// versionInfo is a version as the API lists it, without its content.
type versionInfo struct {
	ID             string `json:"id"`
	Subject        string `json:"subject"`
	Action         string `json:"action"`
	Actor          string `json:"actor"`
	ConversationID string `json:"conversation_id,omitempty"`
	TaskID         string `json:"task_id,omitempty"`
	CreatedAt      string `json:"created_at"`
	Notes          int    `json:"notes"`
	Bytes          int    `json:"bytes"`
	// At is CreatedAt, for the pages.
	At time.Time `json:"-"`
}

func infoOf(v store.MemoryVersion) versionInfo {
	return versionInfo{ID: v.ID, Subject: v.Subject, Action: v.Action, Actor: v.Actor, ConversationID: v.ConversationID,
		TaskID: v.TaskID, CreatedAt: v.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z07:00"), Notes: len(v.Notes),
		Bytes: len(v.Text()), At: v.CreatedAt}
}

// versionDiff is a version with the unified diff from the one before it
// (or from the one named by against).
type versionDiff struct {
	Version store.MemoryVersion `json:"version"`
	Text    string              `json:"text"`
	Against string              `json:"against,omitempty"` // the id compared with; "" for the first
	Diff    string              `json:"diff"`
}

// subjectParam reads the optional subject query parameter.
func subjectParam(r *http.Request) (string, error) {
	sub := r.URL.Query().Get("subject")
	switch {
	case sub == "":
		return "", nil
	case strings.HasPrefix(sub, store.WorkspaceSubject) && len(sub) <= len(store.WorkspaceSubject)+1024:
		return sub, nil
	case store.CheckAudience(sub) == nil:
		return sub, nil
	}
	return "", errorf(http.StatusBadRequest, `subject must be an audience ("admin", "everyone", "discord-user:<id>", "discord-channel:<id>") or "workspace:<path>"`)
}

// diffOf loads the version id and its diff; against, if not empty, names
// the version to compare with (of the same subject).
func (s *Server) diffOf(ctx context.Context, id, against string) (versionDiff, error) {
	v, prev, err := s.Store.MemoryVersion(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return versionDiff{}, errorf(http.StatusNotFound, "no such memory version: "+truncateID(id))
	}
	if err != nil {
		return versionDiff{}, err
	}
	if against != "" {
		prev, _, err = s.Store.MemoryVersion(ctx, against)
		if errors.Is(err, store.ErrNotFound) {
			return versionDiff{}, errorf(http.StatusNotFound, "against: no such memory version: "+truncateID(against))
		}
		if err != nil {
			return versionDiff{}, err
		}
		if prev.Subject != v.Subject {
			return versionDiff{}, errorf(http.StatusBadRequest, "against: the version is of another subject")
		}
	}
	from := "(nothing before)"
	if prev.ID != "" {
		from = prev.ID
	}
	return versionDiff{Version: v, Text: v.Text(), Against: prev.ID,
		Diff: approval.Unified(from, v.ID, prev.Text(), v.Text())}, nil
}

func truncateID(id string) string {
	if len(id) > 40 {
		return id[:40] + "…"
	}
	return id
}

// GET /api/v1/memory/versions?subject=&limit=
func (s *Server) apiMemoryVersions(w http.ResponseWriter, r *http.Request) error {
	sub, err := subjectParam(r)
	if err != nil {
		return err
	}
	limit := 0
	if l := r.URL.Query().Get("limit"); l != "" {
		if limit, err = strconv.Atoi(l); err != nil || limit < 1 || limit > store.MaxVersionsPerSubject {
			return errorf(http.StatusBadRequest, fmt.Sprintf("limit must be a number from 1 to %d", store.MaxVersionsPerSubject))
		}
	}
	vs, err := s.Store.MemoryVersions(r.Context(), sub, limit)
	if err != nil {
		return err
	}
	out := make([]versionInfo, len(vs))
	for i, v := range vs {
		out[i] = infoOf(v)
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"versions": out})
	return nil
}

// GET /api/v1/memory/versions/{id}: the version, its text and its diff
// from the one before.
func (s *Server) apiMemoryVersion(w http.ResponseWriter, r *http.Request) error {
	d, err := s.diffOf(r.Context(), r.PathValue("id"), "")
	if err != nil {
		return err
	}
	s.writeJSON(w, http.StatusOK, d)
	return nil
}

// GET /api/v1/memory/versions/{id}/diff?against=ID
func (s *Server) apiMemoryVersionDiff(w http.ResponseWriter, r *http.Request) error {
	d, err := s.diffOf(r.Context(), r.PathValue("id"), r.URL.Query().Get("against"))
	if err != nil {
		return err
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"id": d.Version.ID, "against": d.Against, "diff": d.Diff})
	return nil
}

// POST /api/v1/memory/versions/{id}/restore
func (s *Server) apiRestoreMemoryVersion(w http.ResponseWriter, r *http.Request) error {
	v, err := s.doRestoreVersion(r)
	if err != nil {
		return err
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"restored": v.ID, "subject": v.Subject})
	return nil
}

// doRestoreVersion restores a version (notes in the store, a file through
// the core, which writes the workspace) and audits it.
func (s *Server) doRestoreVersion(r *http.Request) (store.MemoryVersion, error) {
	ctx, id, actor := r.Context(), r.PathValue("id"), who(r).actor()
	v, _, err := s.Store.MemoryVersion(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return v, errorf(http.StatusNotFound, "no such memory version: "+truncateID(id))
	}
	if err != nil {
		return v, err
	}
	if v.IsFile() {
		if s.Core == nil {
			return v, errorf(http.StatusServiceUnavailable, "the workspace is not available")
		}
		err = s.Core.RestoreFileVersion(ctx, v, actor)
	} else {
		_, err = s.Store.RestoreMemoryVersion(ctx, id, store.Change{Actor: actor})
	}
	if errors.Is(err, store.ErrMemoryFull) {
		return v, errorf(http.StatusConflict, strings.TrimPrefix(err.Error(), "store: "))
	}
	if err != nil {
		return v, err
	}
	s.auditEvent(r, audit.Event{Actor: actor, Action: "memory.restored", Target: v.ID, Outcome: audit.OutcomeOK,
		Details: map[string]any{"subject": v.Subject, "bytes": len(v.Text())}})
	return v, nil
}

// editBody is the body of PUT /api/v1/memory/{id}.
type editBody struct {
	Text string `json:"text"`
}

// PUT /api/v1/memory/{id}: the admin edits a note's text.
func (s *Server) apiEditMemory(w http.ResponseWriter, r *http.Request) error {
	var b editBody
	if err := s.decodeJSON(w, r, &b); err != nil {
		return err
	}
	n, err := s.doEditMemory(r, b.Text)
	if err != nil {
		return err
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"id": n.ID, "audience": n.Audience, "bytes": len(b.Text)})
	return nil
}

func (s *Server) doEditMemory(r *http.Request, text string) (store.MemoryNote, error) {
	if strings.TrimSpace(text) == "" {
		return store.MemoryNote{}, errorf(http.StatusBadRequest, "text: must not be empty (delete the note instead)")
	}
	n, err := s.Store.EditMemoryNote(r.Context(), r.PathValue("id"), text, store.Change{Actor: who(r).actor()})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return n, errorf(http.StatusNotFound, "no such note")
	case err != nil && strings.Contains(err.Error(), "store: edit memory note: "):
		return n, errorf(http.StatusBadRequest, "text: "+err.Error()[strings.LastIndex(err.Error(), ": ")+2:])
	case err != nil:
		return n, err
	}
	s.auditEvent(r, audit.Event{Actor: who(r).actor(), Action: "memory.edited", Target: n.ID, Outcome: audit.OutcomeOK,
		Details: map[string]any{"audience": n.Audience, "bytes_before": len(n.Text), "bytes": len(text)}})
	return n, nil
}

// pinBody is the body of POST /api/v1/memory/{id}/pin.
type pinBody struct {
	Pinned *bool `json:"pinned"`
}

// POST /api/v1/memory/{id}/pin {"pinned": true|false}
func (s *Server) apiPinMemory(w http.ResponseWriter, r *http.Request) error {
	var b pinBody
	if err := s.decodeJSON(w, r, &b); err != nil {
		return err
	}
	if b.Pinned == nil {
		return errorf(http.StatusBadRequest, "pinned: required (true or false)")
	}
	n, err := s.doPinMemory(r, *b.Pinned)
	if err != nil {
		return err
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"id": n.ID, "pinned": *b.Pinned})
	return nil
}

func (s *Server) doPinMemory(r *http.Request, pinned bool) (store.MemoryNote, error) {
	n, err := s.Store.PinMemoryNote(r.Context(), r.PathValue("id"), pinned, store.Change{Actor: who(r).actor()})
	if errors.Is(err, store.ErrNotFound) {
		return n, errorf(http.StatusNotFound, "no such note")
	}
	if err != nil {
		return n, err
	}
	action := "memory.unpinned"
	if pinned {
		action = "memory.pinned"
	}
	s.auditEvent(r, audit.Event{Actor: who(r).actor(), Action: action, Target: n.ID, Outcome: audit.OutcomeOK,
		Details: map[string]any{"audience": n.Audience}})
	return n, nil
}

// GET /api/v1/memory/pending
func (s *Server) apiPendingMemory(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.Store.PendingMemories(r.Context())
	if err != nil {
		return err
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"pending": ps})
	return nil
}

// POST /api/v1/memory/pending/{id}/approve and .../reject
func (s *Server) apiDecideMemory(approve bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := s.doDecideMemory(r, approve)
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, map[string]any{"id": p.ID, "status": p.Status})
		return nil
	}
}

func (s *Server) doDecideMemory(r *http.Request, approve bool) (store.PendingMemory, error) {
	var maxBytes int64 // 0: the store's default
	if s.Core != nil {
		maxBytes = s.Core.MemoryBytes()
	}
	p, err := s.Store.DecidePendingMemory(r.Context(), r.PathValue("id"), approve, who(r).actor(), maxBytes)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return p, errorf(http.StatusNotFound, "no such pending memory write")
	case errors.Is(err, store.ErrDecided):
		return p, errorf(http.StatusConflict, "this memory write was already decided")
	case errors.Is(err, store.ErrMemoryFull):
		return p, errorf(http.StatusConflict, strings.TrimPrefix(err.Error(), "store: write memory: "))
	case err != nil:
		return p, err
	}
	action := "memory.rejected"
	if approve {
		action = "memory.approved"
	}
	s.auditEvent(r, audit.Event{Actor: who(r).actor(), Action: action, Target: p.ID, Outcome: audit.OutcomeOK,
		Details: map[string]any{"audience": p.Audience, "mode": p.Mode, "bytes": len(p.Text), "task_id": p.TaskID}})
	return p, nil
}

// Pages.

// historyData is the memory history page.
type historyData struct {
	Subject  string
	Subjects []string
	Versions []versionInfo
}

// GET /memory/history?subject=
func (s *Server) pageMemoryHistory(w http.ResponseWriter, r *http.Request) error {
	sub, err := subjectParam(r)
	if err != nil {
		return err
	}
	vs, err := s.Store.MemoryVersions(r.Context(), sub, 0)
	if err != nil {
		return err
	}
	subjects, err := s.Store.MemorySubjects(r.Context())
	if err != nil {
		return err
	}
	d := historyData{Subject: sub, Subjects: subjects}
	for _, v := range vs {
		d.Versions = append(d.Versions, infoOf(v))
	}
	s.render(w, r, http.StatusOK, "memory_history", view{Title: "Memory history", Nav: "memory", Data: d})
	return nil
}

// versionPage is the page of one version.
type versionPage struct {
	versionDiff
	Info  versionInfo
	Lines []diffLine
}

// GET /memory/versions/{id}
func (s *Server) pageMemoryVersion(w http.ResponseWriter, r *http.Request) error {
	d, err := s.diffOf(r.Context(), r.PathValue("id"), "")
	if err != nil {
		return err
	}
	p := versionPage{versionDiff: d, Info: infoOf(d.Version)}
	if d.Diff != "" {
		p.Lines = classifyDiff(d.Diff)
	}
	s.render(w, r, http.StatusOK, "memory_version", view{Title: "Memory version", Nav: "memory", Script: "confirm.js", Data: p})
	return nil
}

func (s *Server) pageRestoreMemoryVersion(w http.ResponseWriter, r *http.Request) error {
	v, err := s.doRestoreVersion(r)
	if err != nil {
		return err
	}
	s.redirect(w, r, "/memory/history?subject="+url.QueryEscape(v.Subject), "Restored the version of "+v.CreatedAt.UTC().Format("2006-01-02 15:04:05")+".")
	return nil
}

func (s *Server) pageEditMemory(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.doEditMemory(r, r.PostFormValue("text")); err != nil {
		return err
	}
	s.redirect(w, r, "/memory", "Saved the note.")
	return nil
}

func (s *Server) pagePinMemory(w http.ResponseWriter, r *http.Request) error {
	pinned := r.PostFormValue("pinned") == "on"
	if _, err := s.doPinMemory(r, pinned); err != nil {
		return err
	}
	msg := "Unpinned the note."
	if pinned {
		msg = "Pinned the note: it is put in the assistant's instructions first."
	}
	s.redirect(w, r, "/memory", msg)
	return nil
}

func (s *Server) pageDecideMemory(approve bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if _, err := s.doDecideMemory(r, approve); err != nil {
			return err
		}
		msg := "Rejected the memory write."
		if approve {
			msg = "Approved the memory write: the note is saved."
		}
		s.redirect(w, r, "/memory", msg)
		return nil
	}
}
