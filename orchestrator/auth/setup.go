package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/store"
)

// SetupCodeTTL is how long a setup code stays valid.
const SetupCodeTTL = 30 * time.Minute

// SetupNeeded reports whether no admin exists yet.
func (s *Service) SetupNeeded(ctx context.Context) (bool, error) {
	n, err := s.st.CountAdmins(ctx)
	if err != nil {
		return false, fmt.Errorf("auth: setup needed: %w", err)
	}
	return n == 0, nil
}

// StartSetup mints a new one-time setup code, valid for SetupCodeTTL, and
// returns it, once: only its hash is stored. It replaces any earlier code.
// When an admin exists it returns ErrSetupDone. The caller prints the code
// to the log, where the operator finds it (docker compose logs).
func (s *Service) StartSetup(ctx context.Context) (string, error) {
	code := newSetupCode()
	now := s.now()
	h := hashSetupCode(code)
	if err := s.st.PutSetupCode(ctx, h[:], now, now.Add(SetupCodeTTL)); err != nil {
		if errors.Is(err, store.ErrAdminExists) {
			return "", fmt.Errorf("auth: start setup: %w", ErrSetupDone)
		}
		return "", fmt.Errorf("auth: start setup: %w", err)
	}
	s.record(ctx, audit.Event{Actor: actorSystem, Action: ActionSetupCode, Outcome: audit.OutcomeOK,
		Details: map[string]any{"expires_at": now.Add(SetupCodeTTL).UTC().Format(time.RFC3339)}})
	return code, nil
}

// newSetupCode returns 20 random base32 characters (100 bits) in four
// groups of five: ABCDE-FGHIJ-KLMNO-PQRST.
func newSetupCode() string {
	var b [13]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	s := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])[:20]
	return s[0:5] + "-" + s[5:10] + "-" + s[10:15] + "-" + s[15:20]
}

// hashSetupCode hashes a code as typed: case, spaces and dashes ignored.
func hashSetupCode(code string) [32]byte {
	norm := strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, strings.ToUpper(strings.TrimSpace(code)))
	return sha256.Sum256([]byte(norm))
}

// CompleteSetup creates the first admin, given the setup code. The username
// and password must pass CheckUsername and CheckPassword (a PolicyError,
// not counted as an attempt). Attempts are limited per client ip
// (ErrRateLimited, as a LimitError), never globally: other clients' wrong
// codes cannot block the owner's right one; a wrong, expired or used code
// is ErrSetupCode; once an admin exists, ErrSetupDone. Of any number of
// concurrent calls, at most one succeeds.
func (s *Service) CompleteSetup(ctx context.Context, code, username, password, ip string) (Admin, error) {
	need, err := s.SetupNeeded(ctx)
	if err != nil {
		return Admin{}, fmt.Errorf("auth: complete setup: %w", err)
	}
	if !need {
		return Admin{}, fmt.Errorf("auth: complete setup: %w", ErrSetupDone)
	}
	if err := CheckUsername(username); err != nil {
		return Admin{}, err
	}
	username = NormalizeUsername(username)
	if err := CheckPassword(username, password); err != nil {
		return Admin{}, err
	}
	armed, err := s.setupAttempt(ctx, ip, username)
	if err != nil {
		return Admin{}, err
	}
	h := hashSetupCode(code)
	if err := s.checkSetupCode(ctx, h); err != nil {
		if errors.Is(err, ErrSetupCode) {
			s.denied(ctx, ActionSetup, ip, username, reasonBadCode, nil)
			for _, l := range armed {
				s.lockout(ctx, l.scope, l.key, l.d)
			}
		}
		return Admin{}, err
	}
	return s.createSetupAdmin(ctx, h, username, password, ip)
}

// setupAttempt counts a setup attempt against the client's limit, and
// returns the lock it armed, if any.
func (s *Service) setupAttempt(ctx context.Context, ip, username string) ([]armedLock, error) {
	key := ipKey(ip)
	wait, d := s.setupIP.attempt(key, s.now())
	if wait > 0 {
		s.denied(ctx, ActionSetup, ip, username, reasonRateLimited, map[string]any{"scope": "setup_ip"})
		return nil, fmt.Errorf("auth: complete setup: %w", &LimitError{Err: ErrRateLimited, RetryAfter: wait})
	}
	if d > 0 {
		return []armedLock{{scope: "setup_ip", key: key, d: d}}, nil
	}
	return nil, nil
}

// checkSetupCode compares h with the stored code's hash, in constant time,
// and checks that the code is unused and unexpired.
func (s *Service) checkSetupCode(ctx context.Context, h [32]byte) error {
	c, err := s.st.GetSetupCode(ctx)
	if errors.Is(err, store.ErrNotFound) {
		c = store.SetupCode{Hash: make([]byte, 32)} // compare anyway; cannot match a real code's hash
	} else if err != nil {
		return fmt.Errorf("auth: complete setup: %w", err)
	}
	match := subtle.ConstantTimeCompare(c.Hash, h[:]) == 1 && err == nil
	switch {
	case match && !c.UsedAt.IsZero():
		// The right code, redeemed meanwhile by a concurrent call.
		return fmt.Errorf("auth: complete setup: %w", ErrSetupDone)
	case !match || !s.now().Before(c.ExpiresAt):
		return fmt.Errorf("auth: complete setup: %w", ErrSetupCode)
	}
	return nil
}

func (s *Service) createSetupAdmin(ctx context.Context, h [32]byte, username, password, ip string) (Admin, error) {
	ph, err := s.hash(ctx, password)
	if err != nil {
		return Admin{}, fmt.Errorf("auth: complete setup: %w", err)
	}
	a, err := s.st.CreateSetupAdmin(ctx, h[:], store.Admin{Username: username, PasswordHash: ph,
		TokenKey: newTokenKey(), CreatedAt: s.now()})
	switch {
	case errors.Is(err, store.ErrAdminExists):
		return Admin{}, fmt.Errorf("auth: complete setup: %w", ErrSetupDone)
	case errors.Is(err, store.ErrNotFound):
		return Admin{}, fmt.Errorf("auth: complete setup: %w", ErrSetupCode)
	case err != nil:
		return Admin{}, fmt.Errorf("auth: complete setup: %w", err)
	}
	s.record(ctx, audit.Event{Actor: actorAdmin(a.Username), Action: ActionSetup, Target: a.Username,
		Outcome: audit.OutcomeOK, Details: map[string]any{"client_ip": safeField(ip), "username": a.Username}})
	s.logger.Info("first admin created by setup", "username", a.Username, "client_ip", safeField(ip))
	return adminOf(a), nil
}
