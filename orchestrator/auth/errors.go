package auth

import (
	"errors"
	"time"
)

// Sentinel errors, returned wrapped; match them with errors.Is. Their texts
// are safe to show to a client; wrapped errors as a whole are not.
var (
	// ErrInvalidCredentials is a failed login: unknown user and wrong
	// password alike, so that usernames cannot be enumerated.
	ErrInvalidCredentials = errors.New("invalid username or password")
	// ErrWrongPassword is a wrong current password on a password change.
	ErrWrongPassword = errors.New("the current password is wrong")
	// ErrLockedOut means too many failed logins from this client or for
	// this username; see LimitError for how long.
	ErrLockedOut = errors.New("too many failed attempts; try again later")
	// ErrRateLimited means too many setup attempts; see LimitError.
	ErrRateLimited = errors.New("too many attempts; try again later")
	// ErrBusy means too many logins are already waiting for a password
	// check; see LimitError. Logins from a known device are never refused
	// this way, only queued.
	ErrBusy = errors.New("too many logins in progress; try again in a moment")
	// ErrSetupDone means an admin exists: first-run setup is over for good.
	ErrSetupDone = errors.New("setup is already complete")
	// ErrSetupCode is a wrong, expired or already used setup code.
	ErrSetupCode = errors.New("invalid or expired setup code")
	// ErrInvalidToken is any token that is not accepted: malformed, badly
	// signed, expired, of the wrong type, or of a revoked session.
	ErrInvalidToken = errors.New("invalid or expired token")
	// ErrInvalidUsername and ErrWeakPassword are matched by a PolicyError.
	ErrInvalidUsername = errors.New("invalid username")
	ErrWeakPassword    = errors.New("password does not meet the policy")
	// ErrNoSession is an unknown session id.
	ErrNoSession = errors.New("no such session")
	// ErrMalformedHash is an encoded password hash that cannot be parsed,
	// or whose parameters are out of bounds.
	ErrMalformedHash = errors.New("malformed password hash")
)

// LimitError is a refusal by a rate limiter. It matches ErrLockedOut (a
// login) or ErrRateLimited (setup).
type LimitError struct {
	Err        error         // ErrLockedOut, ErrRateLimited or ErrBusy
	RetryAfter time.Duration // how long until the next attempt is allowed
}

func (e *LimitError) Error() string { return "auth: " + e.Err.Error() }

// Unwrap makes errors.Is(err, e.Err) hold.
func (e *LimitError) Unwrap() error { return e.Err }

// PolicyError is a username or password refused by the policy. Reason is
// safe to show to the user; it never contains the password.
type PolicyError struct {
	Field  string // "username" or "password"
	Reason string // e.g. "must be at least 12 characters long"
}

func (e *PolicyError) Error() string { return "auth: " + e.Field + " " + e.Reason }

// Is makes a PolicyError match ErrInvalidUsername or ErrWeakPassword.
func (e *PolicyError) Is(target error) bool {
	if e.Field == "username" {
		return target == ErrInvalidUsername
	}
	return target == ErrWeakPassword
}
