package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/secure/vault"
)

// DefaultDeviceTTL is how long a known-device token stays valid; every
// successful login from the device renews it.
const DefaultDeviceTTL = 90 * 24 * time.Hour

const (
	deviceVersion       = "d1"
	deviceKeyLabel      = "airlock known-device key v1\x00"
	maxDeviceTokenBytes = 1024
)

// deviceClaims are the content of a known-device token.
type deviceClaims struct {
	AdminID  string `json:"a"`
	Username string `json:"u"`
	Device   string `json:"d"` // random id, the key of the device's own limit
	Expires  int64  `json:"e"` // unix seconds
}

// deviceKey derives an admin's device-token key from the server key and
// the admin's token key, like signingKey with its own label: a password
// change (a new token key) invalidates every device token of the admin.
func deviceKey(server vault.Key, tokenKey []byte) []byte {
	m := hmac.New(sha256.New, server[:])
	m.Write([]byte(deviceKeyLabel))
	m.Write(tokenKey)
	return m.Sum(nil)
}

// deviceMAC signs the body of a device token.
func deviceMAC(key []byte, body string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(body))
	return m.Sum(nil)
}

// mintDevice returns a known-device token of admin a for device id (a new
// one when id is empty) and its expiry. The token is
//
//	d1.<base64url(JSON claims)>.<base64url(HMAC-SHA256(deviceKey, "d1." || claims))>
func (s *Service) mintDevice(a store.Admin, id string) (string, time.Time) {
	if id == "" {
		id = rand.Text()
	}
	exp := s.now().Add(s.deviceTTL).Truncate(time.Second)
	b, _ := json.Marshal(deviceClaims{AdminID: a.ID, Username: a.Username, Device: id, Expires: exp.Unix()})
	b64 := base64.RawURLEncoding
	body := deviceVersion + "." + b64.EncodeToString(b)
	return body + "." + b64.EncodeToString(deviceMAC(deviceKey(s.serverKey, a.TokenKey), body)), exp
}

// knownDevice returns the device id of tok when it is an unexpired device
// token, validly signed, of the admin named username; else "". The admin
// is found by the username typed, not by the token, so nothing in the
// token is trusted before its MAC is checked. A database failure counts as
// an unknown device: the stricter limits apply.
func (s *Service) knownDevice(ctx context.Context, username, tok string) string {
	if tok == "" || len(tok) > maxDeviceTokenBytes || CheckUsername(username) != nil {
		return ""
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || parts[0] != deviceVersion {
		return ""
	}
	a, err := s.st.AdminByUsername(ctx, NormalizeUsername(username))
	if err != nil {
		return ""
	}
	b64 := base64.RawURLEncoding.Strict()
	mac, err := b64.DecodeString(parts[2])
	if err != nil || !hmac.Equal(mac, deviceMAC(deviceKey(s.serverKey, a.TokenKey), parts[0]+"."+parts[1])) {
		return ""
	}
	raw, err := b64.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c deviceClaims
	if json.Unmarshal(raw, &c) != nil || c.AdminID != a.ID || c.Username != a.Username || c.Device == "" ||
		!s.now().Before(time.Unix(c.Expires, 0)) {
		return ""
	}
	return c.Device
}

// deviceKeyOf is the limiter key, and deviceLabel the audit label, of a
// device id. The label is a prefix: enough to tell devices apart, useless
// as a token (which needs the MAC anyway).
func deviceKeyOf(id string) string { return "device:" + id }

func deviceLabel(id string) string { return "device:" + truncate(id, 8) }

// DeviceToken returns a new known-device token of a signed-in admin and its
// expiry: for the browser that changed the password, whose token the
// change revoked with all the others.
func (s *Service) DeviceToken(ctx context.Context, adminID string) (string, time.Time, error) {
	a, err := s.st.AdminByID(ctx, adminID)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("auth: device token: %w", err)
	}
	tok, exp := s.mintDevice(a, "")
	return tok, exp, nil
}
