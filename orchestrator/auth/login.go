package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/store"
)

// touchEvery is how stale a session's last-seen time may get before
// Authenticate writes a new one.
const touchEvery = time.Minute

// Lengths kept of client-supplied session details.
const (
	maxUserAgentBytes = 256
	maxIPBytes        = 64
)

// LoginRequest is one login attempt.
type LoginRequest struct {
	Username, Password string
	IP, UserAgent      string
	Type               string // TypeSession or TypeAPI
	// Device is the known-device token the client sent back, if any (see
	// LoginResult.Device).
	Device string
}

// LoginResult is a successful login.
type LoginResult struct {
	Token   string
	Session Session
	// Device is a known-device token for the client to keep (a cookie) and
	// send with its next logins, valid until DeviceExpires; it renews the
	// one sent, if that was valid.
	Device        string
	DeviceExpires time.Time
}

// Login is SignIn without a known-device token.
func (s *Service) Login(ctx context.Context, username, password, ip, userAgent, typ string) (string, Session, error) {
	r, err := s.SignIn(ctx, LoginRequest{Username: username, Password: password, IP: ip, UserAgent: userAgent, Type: typ})
	return r.Token, r.Session, err
}

// SignIn checks a username and password and, on success, creates a session
// of type req.Type (TypeSession or TypeAPI) and returns its token and a
// known-device token. An unknown username and a wrong password cost the
// same work and give the same error, ErrInvalidCredentials.
//
// A request with a valid known-device token for the username is limited
// only per device; any other is limited per client and per username. While
// a limit applies, it returns a LimitError matching ErrLockedOut without
// checking the password. So an attacker who locks the username out from
// many addresses locks out only unknown devices, never the admin's own.
func (s *Service) SignIn(ctx context.Context, req LoginRequest) (LoginResult, error) {
	if _, ok := s.ttl[req.Type]; !ok {
		return LoginResult{}, fmt.Errorf("auth: login: unknown token type %q", safeField(req.Type))
	}
	dev := s.knownDevice(ctx, req.Username, req.Device)
	armed, err := s.loginAttempt(ctx, req.Username, req.IP, dev)
	if err != nil {
		return LoginResult{}, err
	}
	a, err := s.checkPassword(ctx, req.Username, req.Password, dev == "")
	if errors.Is(err, ErrBusy) {
		s.denied(ctx, ActionLogin, req.IP, req.Username, reasonBusy, nil)
	}
	if errors.Is(err, ErrInvalidCredentials) {
		s.denied(ctx, ActionLogin, req.IP, req.Username, reasonBadCredentials, deviceDetail(dev))
		for _, l := range armed {
			s.lockout(ctx, l.scope, l.key, l.d)
		}
	}
	if err != nil {
		return LoginResult{}, fmt.Errorf("auth: login: %w", err)
	}
	// A success clears only the counts it was charged to: a known device
	// leaves the username's count, which others may be running up, alone.
	if dev != "" {
		s.loginDevice.reset(deviceKeyOf(dev))
	} else {
		s.loginUser.reset(userKey(req.Username))
		s.loginIP.reset(ipKey(req.IP))
	}
	tok, ss, err := s.newSession(ctx, a, req.Type, req.IP, req.UserAgent)
	if err != nil {
		return LoginResult{}, fmt.Errorf("auth: login: %w", err)
	}
	details := map[string]any{"client_ip": safeField(req.IP), "username": a.Username,
		"session_id": ss.ID, "token_type": req.Type, "known_device": dev != ""}
	s.record(ctx, audit.Event{Actor: actorAdmin(a.Username), Action: ActionLogin, Target: a.Username,
		Outcome: audit.OutcomeOK, Details: details})
	devTok, devExp := s.mintDevice(a, dev)
	return LoginResult{Token: tok, Session: ss, Device: devTok, DeviceExpires: devExp}, nil
}

// deviceDetail is the audit detail naming a known device, if any.
func deviceDetail(dev string) map[string]any {
	if dev == "" {
		return nil
	}
	return map[string]any{"device": deviceLabel(dev)}
}

// armedLock is a lock that an attempt armed: it is audited if the attempt
// fails.
type armedLock struct {
	scope, key string
	d          time.Duration
}

// loginAttempt counts a login attempt: for a known device dev against the
// device's limit, else against the username's and the client's.
func (s *Service) loginAttempt(ctx context.Context, username, ip, dev string) ([]armedLock, error) {
	type check struct {
		lim               *limiter
		scope, key, label string
	}
	checks := []check{{s.loginUser, "username", userKey(username), userKey(username)},
		{s.loginIP, "client_ip", ipKey(ip), ipKey(ip)}}
	if dev != "" {
		checks = []check{{s.loginDevice, "device", deviceKeyOf(dev), deviceLabel(dev)}}
	}
	now := s.now()
	var armed []armedLock
	for _, l := range checks {
		wait, d := l.lim.attempt(l.key, now)
		if wait > 0 {
			s.denied(ctx, ActionLogin, ip, username, reasonLocked,
				map[string]any{"scope": l.scope, "retry_after_s": int64(wait / time.Second)})
			return nil, fmt.Errorf("auth: login: %w", &LimitError{Err: ErrLockedOut, RetryAfter: wait})
		}
		if d > 0 {
			armed = append(armed, armedLock{scope: l.scope, key: l.label, d: d})
		}
	}
	return armed, nil
}

// checkPassword returns the admin if password is theirs, else
// ErrInvalidCredentials. An unknown username is verified against the dummy
// hash: exactly one hasher Verify either way. With bounded (a login from
// an unknown device) it may be refused with ErrBusy instead.
func (s *Service) checkPassword(ctx context.Context, username, password string, bounded bool) (store.Admin, error) {
	var a store.Admin
	found := false
	if CheckUsername(username) == nil {
		var err error
		a, err = s.st.AdminByUsername(ctx, NormalizeUsername(username))
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return store.Admin{}, err
		}
		found = err == nil
	}
	encoded := s.dummyHash
	if found {
		encoded = a.PasswordHash
	}
	ok, err := s.verify(ctx, password, encoded, bounded)
	if err != nil {
		return store.Admin{}, err
	}
	if !ok || !found {
		return store.Admin{}, ErrInvalidCredentials
	}
	return a, nil
}

// newSession creates a session of a and returns its token.
func (s *Service) newSession(ctx context.Context, a store.Admin, typ, ip, userAgent string) (string, Session, error) {
	now := s.now()
	ss, err := s.st.CreateAdminSession(ctx, store.NewAdminSession{AdminID: a.ID, Type: typ,
		UserAgent: truncate(userAgent, maxUserAgentBytes), IP: truncate(ip, maxIPBytes),
		At: now, ExpiresAt: now.Add(s.ttl[typ])})
	if err != nil {
		return "", Session{}, err
	}
	tok, err := s.sign(a, ss)
	if err != nil {
		return "", Session{}, err
	}
	return tok, sessionOf(ss), nil
}

// Authenticate verifies token and returns its admin and session. The token
// must be of type wantTyp, validly signed with the admin's current key and
// unexpired, and its session must exist, belong to the admin, and be
// neither revoked nor expired; else ErrInvalidToken. A database failure is
// returned as itself, not as ErrInvalidToken.
func (s *Service) Authenticate(ctx context.Context, token, wantTyp string) (Admin, Session, error) {
	c, a, err := s.parse(ctx, token)
	if err != nil {
		return s.authError(err)
	}
	if c.Type != wantTyp {
		return s.authError(errors.New("wrong token type"))
	}
	ss, err := s.st.GetAdminSession(ctx, c.SessionID)
	if err != nil {
		return s.authError(asStoreError(err))
	}
	now := s.now()
	if ss.AdminID != a.ID || ss.Type != c.Type || !ss.RevokedAt.IsZero() || !now.Before(ss.ExpiresAt) {
		return s.authError(errors.New("session revoked, expired or not the token's"))
	}
	if now.Sub(ss.LastSeenAt) >= touchEvery {
		if err := s.st.TouchAdminSession(ctx, ss.ID, now); err != nil {
			s.logger.Warn("cannot record session activity", "session_id", ss.ID, "err", err)
		} else {
			ss.LastSeenAt = now
		}
	}
	return adminOf(a), sessionOf(ss), nil
}

// authError maps a refusal to ErrInvalidToken; a database failure (a
// storeError) stays what it is.
func (s *Service) authError(err error) (Admin, Session, error) {
	var se *storeError
	if errors.As(err, &se) {
		return Admin{}, Session{}, fmt.Errorf("auth: authenticate: %w", se.err)
	}
	return Admin{}, Session{}, fmt.Errorf("auth: authenticate: %w: %w", ErrInvalidToken, err)
}

// storeError marks a database failure other than a missing row.
type storeError struct{ err error }

func (e *storeError) Error() string { return e.err.Error() }

func (e *storeError) Unwrap() error { return e.err }

// asStoreError wraps err in a storeError unless it is nil or ErrNotFound.
func asStoreError(err error) error {
	if err == nil || errors.Is(err, store.ErrNotFound) {
		return err
	}
	return &storeError{err: err}
}
