package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// forge signs claims as the server would, with method m and key k (nil:
// the admin's real signing key).
func forge(t *testing.T, e *env, m jwt.SigningMethod, k any, c jwt.Claims) string {
	t.Helper()
	if k == nil {
		a, err := e.st.AdminByUsername(context.Background(), adminName)
		if err != nil {
			t.Fatal(err)
		}
		k = signingKey(e.svc.serverKey, a.TokenKey)
	}
	tok, err := jwt.NewWithClaims(m, c).SignedString(k)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// mapClaims are valid claims for session s, as a map to edit.
func mapClaims(e *env, s Session) jwt.MapClaims {
	return jwt.MapClaims{"iss": issuer, "sub": s.AdminID, "sid": s.ID, "typ": s.Type,
		"iat": e.clock.Now().Unix(), "exp": e.clock.Now().Add(time.Hour).Unix()}
}

func without(c jwt.MapClaims, key string) jwt.MapClaims {
	out := jwt.MapClaims{}
	for k, v := range c {
		if k != key {
			out[k] = v
		}
	}
	return out
}

func with(c jwt.MapClaims, key string, v any) jwt.MapClaims {
	out := without(c, key)
	out[key] = v
	return out
}

func TestTokensRefused(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.withAdmin(t)
	tok, s := e.login(t, TypeSession)
	apiTok, _ := e.login(t, TypeAPI)
	c := mapClaims(e, s)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := e.st.AdminByUsername(ctx, adminName)
	parts := strings.Split(tok, ".")
	flip := func(s string) string {
		b := []byte(s)
		b[len(b)/2] ^= 1
		return string(b)
	}
	none := forge(t, e, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, c)
	tests := []struct {
		name, token, typ string
	}{
		{"empty", "", TypeSession},
		{"garbage", "not.a.jwt", TypeSession},
		{"oversized", tok + strings.Repeat("A", maxTokenBytes), TypeSession},
		{"tampered signature", parts[0] + "." + parts[1] + "." + flip(parts[2]), TypeSession},
		{"tampered payload", parts[0] + "." + flip(parts[1]) + "." + parts[2], TypeSession},
		{"alg none", none, TypeSession},
		{"alg none, empty signature", strings.TrimSuffix(none, "."), TypeSession},
		{"RS256", forge(t, e, jwt.SigningMethodRS256, rsaKey, c), TypeSession},
		{"HS384 with the right key", forge(t, e, jwt.SigningMethodHS384, nil, c), TypeSession},
		{"RS256 header, HMAC signature", algConfusion(t, e, c), TypeSession},
		{"server key only", forge(t, e, jwt.SigningMethodHS256, e.svc.serverKey[:], c), TypeSession},
		{"token key only", forge(t, e, jwt.SigningMethodHS256, stored.TokenKey, c), TypeSession},
		{"missing exp", forge(t, e, jwt.SigningMethodHS256, nil, without(c, "exp")), TypeSession},
		{"missing iat", forge(t, e, jwt.SigningMethodHS256, nil, without(c, "iat")), TypeSession},
		{"iat in the future", forge(t, e, jwt.SigningMethodHS256, nil, with(c, "iat", e.clock.Now().Add(time.Hour).Unix())), TypeSession},
		{"missing typ", forge(t, e, jwt.SigningMethodHS256, nil, without(c, "typ")), TypeSession},
		{"missing sid", forge(t, e, jwt.SigningMethodHS256, nil, without(c, "sid")), TypeSession},
		{"unknown sid", forge(t, e, jwt.SigningMethodHS256, nil, with(c, "sid", "ses_nope")), TypeSession},
		{"unknown sub", forge(t, e, jwt.SigningMethodHS256, nil, with(c, "sub", "adm_nope")), TypeSession},
		{"wrong issuer", forge(t, e, jwt.SigningMethodHS256, nil, with(c, "iss", "other")), TypeSession},
		{"typ api on the session's sid", forge(t, e, jwt.SigningMethodHS256, nil, with(c, "typ", TypeAPI)), TypeAPI},
		{"session token where api wanted", tok, TypeAPI},
		{"api token where session wanted", apiTok, TypeSession},
		{"expired", forge(t, e, jwt.SigningMethodHS256, nil, with(c, "exp", e.clock.Now().Add(-time.Second).Unix())), TypeSession},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := e.svc.Authenticate(ctx, tc.token, tc.typ); !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("Authenticate = %v, want ErrInvalidToken", err)
			}
		})
	}
	// The controls: the real tokens, and a forged valid one, are accepted.
	for _, ok := range []struct{ token, typ string }{
		{tok, TypeSession}, {apiTok, TypeAPI}, {forge(t, e, jwt.SigningMethodHS256, nil, c), TypeSession},
	} {
		if _, _, err := e.svc.Authenticate(ctx, ok.token, ok.typ); err != nil {
			t.Fatalf("valid %s token refused: %v", ok.typ, err)
		}
	}
}

// algConfusion builds a token whose header says RS256 but whose signature
// is HMAC-SHA256 with the real key.
func algConfusion(t *testing.T, e *env, c jwt.MapClaims) string {
	t.Helper()
	real := forge(t, e, jwt.SigningMethodHS256, nil, c)
	parts := strings.Split(real, ".")
	hdr := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	a, _ := e.st.AdminByUsername(context.Background(), adminName)
	sig, err := jwt.SigningMethodHS256.Sign(hdr+"."+parts[1], signingKey(e.svc.serverKey, a.TokenKey))
	if err != nil {
		t.Fatal(err)
	}
	return hdr + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func TestTokenExpiresWithSession(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.withAdmin(t)
	tok, s := e.login(t, TypeSession)
	// A token outliving its session row (here forged with a later exp) is
	// refused once the session has expired.
	long := forge(t, e, jwt.SigningMethodHS256, nil, with(mapClaims(e, s), "exp", e.clock.Now().Add(48*time.Hour).Unix()))
	e.clock.Advance(DefaultSessionTTL)
	for _, tk := range []string{tok, long} {
		if _, _, err := e.svc.Authenticate(ctx, tk, TypeSession); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("token after session expiry = %v, want ErrInvalidToken", err)
		}
	}
}

func TestRevocation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := e.withAdmin(t)
	t1, s1 := e.login(t, TypeSession)
	t2, s2 := e.login(t, TypeSession)
	t3, _ := e.login(t, TypeAPI)
	if err := e.svc.Logout(ctx, s1.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Logout(ctx, "ses_nope"); !errors.Is(err, ErrNoSession) {
		t.Fatalf("Logout(unknown) = %v, want ErrNoSession", err)
	}
	if _, _, err := e.svc.Authenticate(ctx, t1, TypeSession); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("logged-out token = %v, want ErrInvalidToken", err)
	}
	if n, err := e.svc.SignOutOthers(ctx, a.ID, s2.ID); err != nil || n != 1 {
		t.Fatalf("SignOutOthers = %d, %v; want 1 (the API session)", n, err)
	}
	if _, _, err := e.svc.Authenticate(ctx, t3, TypeAPI); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("signed-out API token = %v, want ErrInvalidToken", err)
	}
	if _, _, err := e.svc.Authenticate(ctx, t2, TypeSession); err != nil {
		t.Fatalf("kept session = %v", err)
	}
	if e.countAudit(t, ActionLogout, "ok") != 1 || e.countAudit(t, ActionSessionsRevoked, "ok", `"revoked":1`) != 1 {
		t.Fatal("logout or sign-out not audited")
	}
}

// TestRevokeSession: an admin revokes only their own active sessions; any
// other id is ErrNoSession and revokes nothing.
func TestRevokeSession(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := e.withAdmin(t)
	tok, s := e.login(t, TypeSession)
	for _, c := range []struct{ admin, session string }{{a.ID, "ses_nope"}, {"adm_someone_else", s.ID}} {
		if err := e.svc.RevokeSession(ctx, c.admin, c.session); !errors.Is(err, ErrNoSession) {
			t.Errorf("RevokeSession(%s, %s) = %v; want ErrNoSession", c.admin, c.session, err)
		}
	}
	if _, _, err := e.svc.Authenticate(ctx, tok, TypeSession); err != nil {
		t.Fatalf("the session after refused revocations: %v", err)
	}
	if err := e.svc.RevokeSession(ctx, a.ID, s.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.Authenticate(ctx, tok, TypeSession); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("a revoked session = %v; want ErrInvalidToken", err)
	}
	if err := e.svc.RevokeSession(ctx, a.ID, s.ID); !errors.Is(err, ErrNoSession) {
		t.Errorf("revoking it again = %v; want ErrNoSession", err)
	}
}

func TestAuthenticateStoreFailureIsNotInvalidToken(t *testing.T) {
	e := newEnv(t)
	e.withAdmin(t)
	tok, _ := e.login(t, TypeSession)
	e.st.Close()
	_, _, err := e.svc.Authenticate(context.Background(), tok, TypeSession)
	if err == nil || errors.Is(err, ErrInvalidToken) {
		t.Fatalf("Authenticate on a closed store = %v; want a failure that is not ErrInvalidToken", err)
	}
}

func TestServerKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), ServerKeyFile)
	k1, created, err := LoadOrCreateServerKey(path)
	if err != nil || !created {
		t.Fatalf("create = %v, %v", created, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != 32 {
		t.Fatalf("key file = %v, %v; want 0600 and 32 bytes", fi, err)
	}
	k2, created, err := LoadOrCreateServerKey(path)
	if err != nil || created || k2 != k1 {
		t.Fatalf("reload = created %v, %v; want the same key", created, err)
	}
	os.Chmod(path, 0o644)
	if _, _, err := LoadOrCreateServerKey(path); err == nil {
		t.Fatal("a world-readable key file was accepted")
	}
}

func TestNewRequiresKeyAndStore(t *testing.T) {
	e := newEnv(t)
	for i, cfg := range []Config{{Store: e.st}, {ServerKey: e.svc.serverKey}} {
		if _, err := New(cfg); err == nil {
			t.Fatalf("New(config %d) accepted a missing dependency", i)
		}
	}
}
