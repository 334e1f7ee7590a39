package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/golang-jwt/jwt/v5"

	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/secure/vault"
)

// Token types: the typ claim.
const (
	TypeSession = "session" // the browser's cookie
	TypeAPI     = "api"     // an Authorization: Bearer token
)

// ServerKeyFile is the conventional name of the server key file, in
// <data>/secure/.
const ServerKeyFile = "jwt.key"

const (
	issuer        = "airlock"
	maxTokenBytes = 4096
	keyLabel      = "airlock admin token signing key v1\x00"
)

// claims are a token's claims: registered iss, sub (admin id), iat and exp,
// plus typ and sid (session id).
type claims struct {
	Type      string `json:"typ"`
	SessionID string `json:"sid"`
	jwt.RegisteredClaims
}

// LoadOrCreateServerKey returns the server key stored at path
// (conventionally <data>/secure/jwt.key), creating it on first start: 32
// random bytes, mode 0600, written atomically and never overwritten. A file
// that is not a regular 0600 file of exactly 32 bytes is refused.
func LoadOrCreateServerKey(path string) (key vault.Key, created bool, err error) {
	key, created, err = vault.LoadOrCreateKey(path)
	if err != nil {
		return vault.Key{}, false, fmt.Errorf("auth: server key: %w", err)
	}
	return key, created, nil
}

// signingKey derives an admin's token signing key from the server key and
// the admin's token key: HMAC-SHA256(serverKey, label || tokenKey). Neither
// a copy of the database (token keys) nor the key file alone can forge a
// token, and a new token key invalidates every earlier token.
func signingKey(server vault.Key, tokenKey []byte) []byte {
	m := hmac.New(sha256.New, server[:])
	m.Write([]byte(keyLabel))
	m.Write(tokenKey)
	return m.Sum(nil)
}

// csrfKeyLabel separates the CSRF key from the other keys derived from the
// server key.
const csrfKeyLabel = "airlock csrf key v1"

// CSRFKey derives the key of the admin UI's CSRF tokens from the server
// key: HMAC-SHA256(serverKey, label). It is stable across restarts, so a
// form stays valid, and changes with the server key.
func CSRFKey(server vault.Key) []byte {
	m := hmac.New(sha256.New, server[:])
	m.Write([]byte(csrfKeyLabel))
	return m.Sum(nil)
}

// newParser returns the token parser: HS256 only, iss, exp and strict
// base64 required, times from now.
func (s *Service) newParser() *jwt.Parser {
	return jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithIssuer(issuer),
		jwt.WithStrictDecoding(),
		jwt.WithTimeFunc(s.now),
	)
}

// sign returns the token of session ss of admin a.
func (s *Service) sign(a store.Admin, ss store.AdminSession) (string, error) {
	c := claims{Type: ss.Type, SessionID: ss.ID, RegisteredClaims: jwt.RegisteredClaims{
		Issuer:    issuer,
		Subject:   a.ID,
		IssuedAt:  jwt.NewNumericDate(ss.CreatedAt),
		ExpiresAt: jwt.NewNumericDate(ss.ExpiresAt),
	}}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(signingKey(s.serverKey, a.TokenKey))
	if err != nil {
		return "", fmt.Errorf("auth: sign token: %w", err)
	}
	return tok, nil
}

// parse verifies token and returns its claims and its admin. The admin is
// looked up by the unverified sub claim to find the signing key; nothing
// else is trusted before the signature has been checked.
func (s *Service) parse(ctx context.Context, token string) (claims, store.Admin, error) {
	if token == "" || len(token) > maxTokenBytes {
		return claims{}, store.Admin{}, errors.New("empty or oversized token")
	}
	var c claims
	var a store.Admin
	_, err := s.parser.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		if t.Method != jwt.SigningMethodHS256 || c.Subject == "" {
			return nil, errors.New("unexpected signing method or no subject")
		}
		var err error
		if a, err = s.st.AdminByID(ctx, c.Subject); err != nil {
			return nil, asStoreError(err)
		}
		return signingKey(s.serverKey, a.TokenKey), nil
	})
	if err != nil {
		return claims{}, store.Admin{}, err
	}
	if c.IssuedAt == nil || c.SessionID == "" || c.Type == "" {
		return claims{}, store.Admin{}, errors.New("missing iat, sid or typ claim")
	}
	return c, a, nil
}
