package admin

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/airlockhq/airlock/orchestrator/auth"
)

// authError maps the auth package's errors to statuses. Their texts are
// the sentinels' own, safe to show; a PolicyError's reason never holds the
// password.
func authError(err error) error {
	var le *auth.LimitError
	var pe *auth.PolicyError
	switch {
	case errors.As(err, &le):
		return &httpError{Code: http.StatusTooManyRequests, Msg: le.Err.Error() +
			" (retry in " + (le.RetryAfter.Round(time.Second)).String() + ")", retryAfter: le.RetryAfter}
	case errors.As(err, &pe):
		return errorf(http.StatusBadRequest, pe.Field+" "+pe.Reason)
	case errors.Is(err, auth.ErrInvalidCredentials):
		return errorf(http.StatusUnauthorized, auth.ErrInvalidCredentials.Error())
	case errors.Is(err, auth.ErrWrongPassword):
		return errorf(http.StatusForbidden, auth.ErrWrongPassword.Error())
	case errors.Is(err, auth.ErrSetupDone):
		return errorf(http.StatusGone, auth.ErrSetupDone.Error())
	case errors.Is(err, auth.ErrSetupCode):
		return errorf(http.StatusForbidden, auth.ErrSetupCode.Error())
	case errors.Is(err, auth.ErrNoSession):
		return errorf(http.StatusNotFound, auth.ErrNoSession.Error())
	}
	return err
}

// --- pages ---

type signinData struct {
	Username string
	Next     string
	Code     bool // the setup form: ask for the code
}

func (s *Server) pageLoginForm(w http.ResponseWriter, r *http.Request) error {
	if need, err := s.Auth.SetupNeeded(r.Context()); err != nil {
		return err
	} else if need {
		http.Redirect(w, r, "/setup", http.StatusSeeOther)
		return nil
	}
	if _, err := s.sessionOf(r); err == nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return nil
	}
	s.render(w, r, http.StatusOK, "login", view{Title: "Sign in", CSRF: s.preSessionCSRF(w, r),
		Data: signinData{Next: safeNext(r.URL.Query().Get("next"))}})
	return nil
}

func (s *Server) pageLogin(w http.ResponseWriter, r *http.Request) error {
	user, next := r.PostFormValue("username"), safeNext(r.PostFormValue("next"))
	res, err := s.signIn(w, r, user, r.PostFormValue("password"), auth.TypeSession)
	if err != nil {
		he, ok := authError(err).(*httpError)
		if !ok {
			return err
		}
		setRetryAfter(w, he)
		s.render(w, r, he.Code, "login", view{Title: "Sign in", CSRF: s.preSessionCSRF(w, r), Error: he.Msg,
			Data: signinData{Username: user, Next: next}})
		return nil
	}
	s.setSessionCookie(w, r, res.Token, res.Session.ExpiresAt)
	clearCookie(w, preCSRFCookie, s.secure(r))
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

func (s *Server) pageLogout(w http.ResponseWriter, r *http.Request) error {
	if err := s.Auth.Logout(r.Context(), who(r).Session.ID); err != nil {
		return authError(err)
	}
	clearCookie(w, sessionCookie, s.secure(r))
	s.redirect(w, r, "/login", "You are signed out.")
	return nil
}

func (s *Server) pageSetupForm(w http.ResponseWriter, r *http.Request) error {
	need, err := s.Auth.SetupNeeded(r.Context())
	if err != nil {
		return err
	}
	if !need {
		return errorf(http.StatusNotFound, "not found")
	}
	s.render(w, r, http.StatusOK, "setup", view{Title: "Set up Airlock", CSRF: s.preSessionCSRF(w, r),
		Data: signinData{Code: true}})
	return nil
}

// pageSetup creates the first admin from the setup form, signs them in and
// continues the wizard with the model settings.
func (s *Server) pageSetup(w http.ResponseWriter, r *http.Request) error {
	user, pass := r.PostFormValue("username"), r.PostFormValue("password")
	again := r.PostFormValue("password_again")
	fail := func(err error) error {
		he, ok := authError(err).(*httpError)
		if !ok {
			return err
		}
		if he.Code == http.StatusGone {
			return errorf(http.StatusNotFound, "not found")
		}
		setRetryAfter(w, he)
		s.render(w, r, he.Code, "setup", view{Title: "Set up Airlock", CSRF: s.preSessionCSRF(w, r), Error: he.Msg,
			Data: signinData{Username: user, Code: true}})
		return nil
	}
	if pass != again {
		return fail(errorf(http.StatusBadRequest, "the two passwords differ"))
	}
	if _, err := s.Auth.CompleteSetup(r.Context(), r.PostFormValue("code"), user, pass, s.clientIP(r)); err != nil {
		return fail(err)
	}
	res, err := s.signIn(w, r, user, pass, auth.TypeSession)
	if err != nil {
		return authError(err)
	}
	s.setSessionCookie(w, r, res.Token, res.Session.ExpiresAt)
	clearCookie(w, preCSRFCookie, s.secure(r))
	s.redirect(w, r, "/welcome/llm", "Your admin account is ready.")
	return nil
}

func setRetryAfter(w http.ResponseWriter, he *httpError) {
	if he.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(he.retryAfter.Round(time.Second)/time.Second)+1))
	}
}
