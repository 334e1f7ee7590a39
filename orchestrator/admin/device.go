package admin

import (
	"net/http"
	"time"

	"github.com/airlockhq/airlock/orchestrator/auth"
)

// deviceCookie holds the known-device token that a successful login (page,
// API or setup) hands out: the next logins of this browser or API client
// send it back, and are then limited per device instead of per username
// and client, so that others' wrong guesses cannot lock the admin out. It
// is signed by the auth service, HttpOnly, SameSite=Strict, and Secure
// when the request is.
const deviceCookie = "airlock_device"

// signIn logs in with the known-device token the client sent, if any, and
// on success hands the client a renewed one.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request, username, password, typ string) (auth.LoginResult, error) {
	req := auth.LoginRequest{Username: username, Password: password, IP: s.clientIP(r), UserAgent: r.UserAgent(),
		Type: typ}
	if c, err := r.Cookie(deviceCookie); err == nil {
		req.Device = c.Value
	}
	res, err := s.Auth.SignIn(r.Context(), req)
	if err != nil {
		return res, err
	}
	s.setDeviceCookie(w, r, res.Device, res.DeviceExpires)
	return res, nil
}

func (s *Server) setDeviceCookie(w http.ResponseWriter, r *http.Request, tok string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: deviceCookie, Value: tok, Path: "/", HttpOnly: true,
		Secure: s.secure(r), SameSite: http.SameSiteStrictMode, Expires: expires})
}
