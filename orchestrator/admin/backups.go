package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/auth"
	"github.com/airlockhq/airlock/orchestrator/backup"
)

// backupStaleAfter is the age of the last good backup past which the
// dashboard warns.
const backupStaleAfter = 48 * time.Hour

// backupsData is the Backups page and GET /api/v1/backups.
type backupsData struct {
	Backups  []backup.Info `json:"backups"`
	Running  bool          `json:"running"`
	Dir      string        `json:"dir"`
	Interval string        `json:"interval"` // "0s": scheduled backups are off
	Keep     int           `json:"keep"`
	// Warning is the dashboard's warning about backups; "" when fine.
	Warning string `json:"warning,omitempty"`
}

func (s *Server) backupsData() (backupsData, error) {
	if s.Backups == nil {
		return backupsData{}, errorf(http.StatusNotFound, "backups are not set up on this server")
	}
	list, err := s.Backups.List()
	if err != nil {
		return backupsData{}, err
	}
	every, keep := s.Backups.Policy()
	return backupsData{Backups: list, Running: s.Backups.Running(), Dir: s.Backups.Dir(), Interval: every.String(),
		Keep: keep, Warning: s.backupWarning()}, nil
}

// backupWarning says what is wrong with the backups, or "".
func (s *Server) backupWarning() string {
	if s.Backups == nil {
		return ""
	}
	last, ok := s.Backups.LastGood()
	switch {
	case !ok:
		return "There is no verified backup yet."
	case time.Since(last.Created) > backupStaleAfter:
		return fmt.Sprintf("The last verified backup is %s old.", ago(last.Created))
	}
	return ""
}

func (s *Server) pageBackups(w http.ResponseWriter, r *http.Request) error {
	d, err := s.backupsData()
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "backups", view{Title: "Backups", Nav: "backups", Data: d})
	return nil
}

func (s *Server) apiListBackups(w http.ResponseWriter, r *http.Request) error {
	d, err := s.backupsData()
	if err != nil {
		return err
	}
	s.writeJSON(w, http.StatusOK, d)
	return nil
}

// startBackup starts a backup in the background for the signed-in admin.
func (s *Server) startBackup(r *http.Request) error {
	if s.Backups == nil {
		return errorf(http.StatusNotFound, "backups are not set up on this server")
	}
	if s.Backups.Running() {
		return errorf(http.StatusConflict, "a backup is already being made; wait for it to finish")
	}
	actor := who(r).actor()
	return s.background(r.Context(), func(context.Context) (func(context.Context), error) {
		return func(ctx context.Context) {
			if _, err := s.Backups.Create(ctx, actor); err != nil && !errors.Is(err, backup.ErrBusy) {
				s.Logger.Error("backup failed", "err", err)
			}
		}, nil
	})
}

func (s *Server) pageCreateBackup(w http.ResponseWriter, r *http.Request) error {
	if err := s.startBackup(r); err != nil {
		return err
	}
	s.redirect(w, r, "/backups", "A backup is being made; reload this page to see it.")
	return nil
}

func (s *Server) apiCreateBackup(w http.ResponseWriter, r *http.Request) error {
	if err := s.startBackup(r); err != nil {
		return err
	}
	s.writeJSON(w, http.StatusAccepted, map[string]any{"started": true})
	return nil
}

// downloadBackup sends a backup after the admin entered their password
// again: a backup holds every secret (under its passphrase), so a stolen
// session alone must not be enough to take one away.
func (s *Server) downloadBackup(w http.ResponseWriter, r *http.Request, password string) error {
	if s.Backups == nil {
		return errorf(http.StatusNotFound, "backups are not set up on this server")
	}
	p := who(r)
	name := r.PathValue("name")
	f, info, err := s.Backups.Open(name)
	if errors.Is(err, backup.ErrUnknownBackup) {
		return errorf(http.StatusNotFound, "no such backup")
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if err := s.Auth.ConfirmPassword(r.Context(), p.Session, password); err != nil {
		var le *auth.LimitError
		switch {
		case errors.As(err, &le):
			return &httpError{Code: http.StatusTooManyRequests, Msg: "too many wrong passwords; try again later", retryAfter: le.RetryAfter}
		case errors.Is(err, auth.ErrWrongPassword):
			return errorf(http.StatusForbidden, "password: wrong password; the backup was not sent")
		}
		return err
	}
	s.auditEvent(r, audit.Event{Actor: p.actor(), Action: "backup.downloaded", Target: info.Name, Outcome: audit.OutcomeOK,
		Details: map[string]any{"bytes": info.Bytes}})
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", `attachment; filename="`+info.Name+`"`)
	h.Set("Content-Length", strconv.FormatInt(info.Bytes, 10))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = io.Copy(w, f) // encrypted: nothing in it to redact
	return nil
}

func (s *Server) pageDownloadBackup(w http.ResponseWriter, r *http.Request) error {
	return s.downloadBackup(w, r, r.PostFormValue("password"))
}

func (s *Server) apiDownloadBackup(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Password string `json:"password"`
	}
	if err := s.decodeJSON(w, r, &in); err != nil {
		return err
	}
	return s.downloadBackup(w, r, in.Password)
}
