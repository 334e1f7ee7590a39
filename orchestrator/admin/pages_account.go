package admin

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/airlockhq/airlock/orchestrator/auth"
)

type accountData struct {
	Username    string
	Sessions    []sessionRow
	Others      int // sessions other than this one
	MinPassword int
}

type sessionRow struct {
	auth.Session
	Current bool
}

func (s *Server) pageAccount(w http.ResponseWriter, r *http.Request) error {
	return s.renderAccount(w, r, http.StatusOK, "")
}

// renderAccount renders the account page with an optional error.
func (s *Server) renderAccount(w http.ResponseWriter, r *http.Request, code int, errMsg string) error {
	p := who(r)
	list, err := s.Auth.Sessions(r.Context(), p.Admin.ID)
	if err != nil {
		return err
	}
	d := accountData{Username: p.Admin.Username, MinPassword: auth.MinPasswordChars}
	for _, ss := range list {
		cur := ss.ID == p.Session.ID
		if !cur {
			d.Others++
		}
		d.Sessions = append(d.Sessions, sessionRow{Session: ss, Current: cur})
	}
	s.render(w, r, code, "account", view{Title: "Account", Nav: "account", Error: errMsg, Script: "confirm.js", Data: d})
	return nil
}

// pageChangePassword changes the admin's password. Every session and
// known-device token is revoked (this one too); the browser gets the new
// session's cookie and a new known-device cookie.
func (s *Server) pageChangePassword(w http.ResponseWriter, r *http.Request) error {
	cur, next := r.PostFormValue("current_password"), r.PostFormValue("new_password")
	if next != r.PostFormValue("new_password_again") {
		return s.renderAccount(w, r, http.StatusBadRequest, "the two new passwords differ")
	}
	tok, ss, err := s.Auth.ChangePassword(r.Context(), who(r).Session, cur, next)
	if err != nil {
		var he *httpError
		if !errors.As(authError(err), &he) {
			return err
		}
		setRetryAfter(w, he)
		return s.renderAccount(w, r, he.Code, he.Msg)
	}
	s.setSessionCookie(w, r, tok, ss.ExpiresAt)
	// The change revoked every known-device token; this browser stays known.
	if dev, exp, err := s.Auth.DeviceToken(r.Context(), ss.AdminID); err == nil {
		s.setDeviceCookie(w, r, dev, exp)
	}
	s.redirect(w, r, "/account", "Your password is changed. Every other session and API token was signed out.")
	return nil
}

// pageSignOutOthers revokes every session of the admin but this one.
func (s *Server) pageSignOutOthers(w http.ResponseWriter, r *http.Request) error {
	p := who(r)
	n, err := s.Auth.SignOutOthers(r.Context(), p.Admin.ID, p.Session.ID)
	if err != nil {
		return err
	}
	msg := "Signed out " + strconv.Itoa(n) + " other sessions."
	if n == 1 {
		msg = "Signed out 1 other session."
	}
	s.redirect(w, r, "/account", msg)
	return nil
}

// pageRevokeSession revokes one of the admin's own active sessions;
// revoking the current one signs out.
func (s *Server) pageRevokeSession(w http.ResponseWriter, r *http.Request) error {
	p := who(r)
	id := r.PathValue("id")
	if err := s.Auth.RevokeSession(r.Context(), p.Admin.ID, id); err != nil {
		return authError(err)
	}
	if id == p.Session.ID {
		clearCookie(w, sessionCookie, s.secure(r))
		s.redirect(w, r, "/login", "You are signed out.")
		return nil
	}
	s.redirect(w, r, "/account", "The session is revoked.")
	return nil
}
