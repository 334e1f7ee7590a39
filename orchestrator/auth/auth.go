// Package auth is the authentication core of the admin UI and API:
// first-run setup, password login, session tokens, password changes and
// session revocation.
//
// Invariants:
//   - No default credentials. While no admin exists, StartSetup mints a
//     one-time setup code (100 random bits, 30 minutes) of which only the
//     SHA-256 is stored; CompleteSetup needs it, is rate limited per client
//     only (a global limit would let anyone block the owner, and adds
//     nothing against guessing 100 bits), and creates the admin and redeems the code in one
//     transaction, so exactly one admin can ever come out of setup. Once an
//     admin exists, setup is refused for good.
//   - Passwords are stored only as argon2id hashes (random salt, PHC
//     string) and compared in constant time. A login for an unknown user
//     verifies against a dummy hash of the same parameters: the same work
//     and the same error, ErrInvalidCredentials, as a wrong password.
//   - Logins from unknown devices are limited per client IP (IPv6 by /64)
//     and per username, unknown usernames included; a login that sends a
//     valid known-device token (an HMAC-signed, expiring token issued on
//     the admin's earlier successful login, keyed by the admin's token key)
//     is limited per device instead, so locking the username from many
//     addresses cannot lock the admin's own devices out. Attempts are
//     counted when they start, so concurrent guesses cannot pass the limit;
//     locks double up to a cap. Limiter state is in memory: a restart
//     clears it (argon2id still bounds the guessing rate).
//   - Tokens are JWTs, HS256 only, with iss, sub, iat, exp, typ and sid all
//     required. The signing key is HMAC(server key, admin token key): the
//     server key lives in a 0600 file, the token key in the database and is
//     replaced on every password change, which revokes all earlier tokens.
//     Every Authenticate also re-reads the session row, so logout and
//     "sign out other sessions" take effect on the next request.
//   - Every setup, login success, failure and lockout, logout, session
//     revocation and password change is audited with stable action names
//     (auth.setup, auth.login, auth.lockout, ...). Unauthenticated failures
//     and lockouts are aggregated: a client's first failure in a 5-minute
//     window gets its own entry and log line, the rest one summary with a
//     count, and at most 20 clients per window get entries of their own, so
//     a flood writes a bounded number of rows and lines. No password, setup code,
//     hash or token ever appears in an error, a log line or an audit entry.
package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/secure/vault"
)

// Default token lifetimes.
const (
	DefaultSessionTTL  = 12 * time.Hour
	DefaultAPITokenTTL = 30 * 24 * time.Hour
)

// maxHashers bounds concurrent password hashing: each argon2id run holds
// 64 MiB, and a flood of logins must not exhaust memory.
const maxHashers = 2

// maxLoginsQueued bounds the unknown-device logins waiting for a hashing
// slot: beyond it a login is refused at once with ErrBusy (429, retry in
// busyRetry) instead of holding its connection. Known-device logins,
// setup and password changes always queue, so a flood cannot lock the
// admin's own devices out.
const (
	maxLoginsQueued = 8
	busyRetry       = time.Second
)

// After each hash the Service reclaims its memory before the next hash may
// start (issue 13, item 3): Go would otherwise keep the finished hash's
// 64 MiB as garbage until the heap doubled, and return it to the OS only
// minutes later. While other hashes are running or queued, a forced GC makes
// the block reusable by the next one (peak: maxHashers blocks, not one per
// queued login); after the last one, debug.FreeOSMemory also hands it back
// to the OS, so the process is back to its idle RSS as the login answers.
var (
	releaseMemory = runtime.GC
	returnMemory  = debug.FreeOSMemory
)

// Config holds a Service's dependencies. Store and ServerKey are required.
type Config struct {
	Store     *store.Store
	ServerKey vault.Key
	Logger    *slog.Logger                       // nil: discard
	Audit     func(context.Context, audit.Event) // nil: events are only logged
	Hasher    Hasher                             // nil: Argon2id{DefaultParams()}
	Now       func() time.Time                   // nil: time.Now

	SessionTTL  time.Duration // lifetime of TypeSession tokens; 0: DefaultSessionTTL
	APITokenTTL time.Duration // lifetime of TypeAPI tokens; 0: DefaultAPITokenTTL
	DeviceTTL   time.Duration // lifetime of known-device tokens; 0: DefaultDeviceTTL
}

// Service authenticates admins. It is safe for concurrent use.
type Service struct {
	st        *store.Store
	serverKey vault.Key
	logger    *slog.Logger
	auditFn   func(context.Context, audit.Event)
	hasher    Hasher
	now       func() time.Time
	ttl       map[string]time.Duration
	parser    *jwt.Parser
	dummyHash string
	hashSlots chan struct{}
	// hashMu guards hashing, the number of hashes running or waiting.
	hashMu    sync.Mutex
	hashing   int
	deviceTTL time.Duration
	failures  failureLog

	loginUser, loginIP, loginDevice, passwordChange, setupIP *limiter
}

// Admin is an admin account, without its secrets.
type Admin struct {
	ID        string    `json:"id"`
	Username  string    `json:"username"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Session is an active session: the server side of one token.
type Session struct {
	ID         string    `json:"id"`
	AdminID    string    `json:"admin_id"`
	Type       string    `json:"type"` // TypeSession or TypeAPI
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	UserAgent  string    `json:"user_agent"`
	IP         string    `json:"ip"`
}

// New returns a Service. It hashes one random password (the dummy hash for
// unknown users), so it takes as long as one login.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.ServerKey == (vault.Key{}) {
		return nil, errors.New("auth: new: a store and a non-zero server key are required")
	}
	s := &Service{st: cfg.Store, serverKey: cfg.ServerKey, logger: cfg.Logger, auditFn: cfg.Audit,
		hasher: cfg.Hasher, now: cfg.Now, hashSlots: make(chan struct{}, maxHashers),
		ttl: map[string]time.Duration{TypeSession: cfg.SessionTTL, TypeAPI: cfg.APITokenTTL}}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.hasher == nil {
		s.hasher = Argon2id{Params: DefaultParams()}
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.ttl[TypeSession] = orDefault(s.ttl[TypeSession], DefaultSessionTTL)
	s.ttl[TypeAPI] = orDefault(s.ttl[TypeAPI], DefaultAPITokenTTL)
	s.deviceTTL = orDefault(cfg.DeviceTTL, DefaultDeviceTTL)
	s.parser = s.newParser()
	r := defaultLimitRules()
	s.loginUser, s.loginIP, s.loginDevice = newLimiter(r.loginUser), newLimiter(r.loginIP), newLimiter(r.loginDevice)
	s.passwordChange, s.setupIP = newLimiter(r.passwordChange), newLimiter(r.setupIP)
	dummy, err := s.hash(context.Background(), rand.Text())
	if err != nil {
		return nil, fmt.Errorf("auth: new: dummy hash: %w", err)
	}
	s.dummyHash = dummy
	return s, nil
}

// orDefault returns d, or def when d is not positive.
func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// verify runs the hasher's Verify, at most maxHashers at a time. With
// bounded, it is refused with ErrBusy when maxLoginsQueued others wait.
func (s *Service) verify(ctx context.Context, password, encoded string, bounded bool) (bool, error) {
	if err := s.acquire(ctx, bounded); err != nil {
		return false, err
	}
	defer s.release()
	return s.hasher.Verify(password, encoded)
}

// hash runs the hasher's Hash, at most maxHashers at a time.
func (s *Service) hash(ctx context.Context, password string) (string, error) {
	if err := s.acquire(ctx, false); err != nil {
		return "", err
	}
	defer s.release()
	h, err := s.hasher.Hash(password)
	if err != nil {
		return "", fmt.Errorf("auth: hash password: %w", err)
	}
	return h, nil
}

// acquire takes a hashing slot, waiting until ctx ends. With bounded, it
// refuses at once when maxLoginsQueued are already waiting.
func (s *Service) acquire(ctx context.Context, bounded bool) error {
	s.hashMu.Lock()
	if bounded && s.hashing >= maxHashers+maxLoginsQueued {
		s.hashMu.Unlock()
		return &LimitError{Err: ErrBusy, RetryAfter: busyRetry}
	}
	s.hashing++
	s.hashMu.Unlock()
	select {
	case s.hashSlots <- struct{}{}:
		return nil
	case <-ctx.Done():
		s.hashMu.Lock()
		s.hashing--
		s.hashMu.Unlock()
		return fmt.Errorf("auth: waiting to hash: %w", ctx.Err())
	}
}

// release reclaims the finished hash's memory, then frees its slot: with a
// forced GC while other hashes run or wait, by returning memory to the OS
// after the last one.
func (s *Service) release() {
	s.hashMu.Lock()
	s.hashing--
	last := s.hashing == 0
	s.hashMu.Unlock()
	switch {
	case !bigHashes(s.hasher):
	case last:
		returnMemory()
	default:
		releaseMemory()
	}
	<-s.hashSlots
}

// bigHashes reports whether h's hashes hold enough memory (1 MiB or more)
// for reclaiming it to be worth a forced GC: the production argon2id
// parameters do, the cheap ones of tests and other hashers do not.
func bigHashes(h Hasher) bool {
	a, ok := h.(Argon2id)
	return ok && a.Params.MemoryKiB >= 1<<10
}

// newTokenKey returns 32 random bytes.
func newTokenKey() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k) // crypto/rand.Read never fails (it crashes the program instead)
	return k
}

func adminOf(a store.Admin) Admin {
	return Admin{ID: a.ID, Username: a.Username, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
}

func sessionOf(ss store.AdminSession) Session {
	return Session{ID: ss.ID, AdminID: ss.AdminID, Type: ss.Type, CreatedAt: ss.CreatedAt,
		LastSeenAt: ss.LastSeenAt, ExpiresAt: ss.ExpiresAt, UserAgent: ss.UserAgent, IP: ss.IP}
}
