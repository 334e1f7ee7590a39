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

// Login checks a username and password and, on success, creates a session
// of type typ (TypeSession or TypeAPI) and returns its token. An unknown
// username and a wrong password cost the same work and give the same
// error, ErrInvalidCredentials. While the client or the username is locked
// out, it returns a LimitError matching ErrLockedOut without checking the
// password.
func (s *Service) Login(ctx context.Context, username, password, ip, userAgent, typ string) (string, Session, error) {
	if _, ok := s.ttl[typ]; !ok {
		return "", Session{}, fmt.Errorf("auth: login: unknown token type %q", safeField(typ))
	}
	armed, err := s.loginAttempt(ctx, username, ip)
	if err != nil {
		return "", Session{}, err
	}
	a, err := s.checkPassword(ctx, username, password)
	if errors.Is(err, ErrInvalidCredentials) {
		s.denied(ctx, ActionLogin, ip, username, reasonBadCredentials, nil)
		for _, l := range armed {
			s.lockout(ctx, l.scope, l.key, l.d)
		}
	}
	if err != nil {
		return "", Session{}, fmt.Errorf("auth: login: %w", err)
	}
	s.loginUser.reset(userKey(username))
	s.loginIP.reset(ipKey(ip))
	tok, ss, err := s.newSession(ctx, a, typ, ip, userAgent)
	if err != nil {
		return "", Session{}, fmt.Errorf("auth: login: %w", err)
	}
	s.record(ctx, audit.Event{Actor: actorAdmin(a.Username), Action: ActionLogin, Target: a.Username,
		Outcome: audit.OutcomeOK, Details: map[string]any{"client_ip": safeField(ip), "username": a.Username,
			"session_id": ss.ID, "token_type": typ}})
	return tok, ss, nil
}

// armedLock is a lock that an attempt armed: it is audited if the attempt
// fails.
type armedLock struct {
	scope, key string
	d          time.Duration
}

// loginAttempt counts a login attempt for the username and the client.
func (s *Service) loginAttempt(ctx context.Context, username, ip string) ([]armedLock, error) {
	now := s.now()
	var armed []armedLock
	for _, l := range []struct {
		lim        *limiter
		scope, key string
	}{{s.loginUser, "username", userKey(username)}, {s.loginIP, "client_ip", ipKey(ip)}} {
		wait, d := l.lim.attempt(l.key, now)
		if wait > 0 {
			s.denied(ctx, ActionLogin, ip, username, reasonLocked,
				map[string]any{"scope": l.scope, "retry_after_s": int64(wait / time.Second)})
			return nil, fmt.Errorf("auth: login: %w", &LimitError{Err: ErrLockedOut, RetryAfter: wait})
		}
		if d > 0 {
			armed = append(armed, armedLock{scope: l.scope, key: l.key, d: d})
		}
	}
	return armed, nil
}

// checkPassword returns the admin if password is theirs, else
// ErrInvalidCredentials. An unknown username is verified against the dummy
// hash: exactly one hasher Verify either way.
func (s *Service) checkPassword(ctx context.Context, username, password string) (store.Admin, error) {
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
	ok, err := s.verify(ctx, password, encoded)
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
