package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// signIn signs in as the admin from ip with the device token dev.
func (e *env) signIn(password, ip, dev string) (LoginResult, error) {
	return e.svc.SignIn(context.Background(), LoginRequest{Username: adminName, Password: password, IP: ip,
		UserAgent: "ua", Type: TypeSession, Device: dev})
}

// guessFromMany sends n wrong passwords for the admin from n addresses
// (none repeats within 50), 30 seconds apart, and returns how many were
// checked (not refused by a lock).
func (e *env) guessFromMany(t *testing.T, n int) int {
	t.Helper()
	checked := 0
	for i := range n {
		_, err := e.signIn(fmt.Sprintf("guess %d", i), fmt.Sprintf("198.51.%d.%d", i/250, i%250), "")
		switch {
		case errors.Is(err, ErrInvalidCredentials):
			checked++
		case !errors.Is(err, ErrLockedOut):
			t.Fatalf("guess %d: %v", i, err)
		}
		e.clock.Advance(30 * time.Second)
	}
	return checked
}

// TestKnownDeviceSignsInDuringAttack (issue 11, item 3): an attacker with
// many addresses locks the username for unknown devices, but the admin's
// known device signs in at once, from its old address and from a new one;
// the attacker's guessing stays bounded by the username's lock.
func TestKnownDeviceSignsInDuringAttack(t *testing.T) {
	e := newEnv(t)
	e.withAdmin(t)
	first, err := e.signIn(goodPassword, "192.0.2.1", "")
	if err != nil || first.Device == "" || !first.DeviceExpires.Equal(e.clock.Now().Add(DefaultDeviceTTL)) {
		t.Fatalf("first sign-in = %+v, %v; want a device token valid for %v", first, err, DefaultDeviceTTL)
	}
	e.hasher.take()

	// 1000 guesses from 1000 addresses over 500 minutes: the username lock
	// (5 guesses, then 15 minutes doubling to 4 hours) checks only 30.
	if checked := e.guessFromMany(t, 1000); checked != 30 {
		t.Fatalf("%d of 1000 guesses from many addresses were checked; want 30", checked)
	}
	// An unknown device is locked out with the right password, from a new
	// address and from the admin's usual one: an address is no proof of
	// identity, and letting unknown devices through would let guessing
	// through too.
	for _, ip := range []string{"203.0.113.50", "192.0.2.1"} {
		if _, err := e.signIn(goodPassword, ip, ""); !errors.Is(err, ErrLockedOut) {
			t.Fatalf("unknown device from %s during the attack = %v, want ErrLockedOut", ip, err)
		}
	}
	// The known device gets in at once, from its old and from a new address.
	for _, ip := range []string{"192.0.2.1", "203.0.113.60"} {
		res, err := e.signIn(goodPassword, ip, first.Device)
		if err != nil || res.Token == "" {
			t.Fatalf("known device from %s during the attack = %v, want success", ip, err)
		}
		if _, _, err := e.svc.Authenticate(context.Background(), res.Token, TypeSession); err != nil {
			t.Fatalf("the known device's session: %v", err)
		}
		if e.knownDeviceID(res.Device) != e.knownDeviceID(first.Device) {
			t.Fatal("a renewed device token names another device")
		}
	}
	if e.countAudit(t, ActionLogin, "ok", `"known_device":true`) != 2 {
		t.Fatal("the known device's logins are not audited as such")
	}
	// Its success did not clear the attacker's lock.
	if checked := e.guessFromMany(t, 100); checked != 0 {
		t.Fatalf("%d guesses checked after the admin's sign-in; the username lock must stay", checked)
	}
}

// knownDeviceID is the device id of a valid token of the admin, or "".
func (e *env) knownDeviceID(tok string) string {
	return e.svc.knownDevice(context.Background(), adminName, tok)
}

// TestKnownDeviceOwnLimit: wrong passwords with a device token lock that
// device only (it cannot be used to guess without limit), and do not
// count against the username.
func TestKnownDeviceOwnLimit(t *testing.T) {
	e := newEnv(t)
	e.withAdmin(t)
	res, err := e.signIn(goodPassword, "192.0.2.1", "")
	if err != nil {
		t.Fatal(err)
	}
	dev := res.Device
	for i := range 5 {
		if _, err := e.signIn("wrong password", "192.0.2.1", dev); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("wrong password %d with the device = %v", i, err)
		}
	}
	if _, err := e.signIn(goodPassword, "192.0.2.1", dev); !errors.Is(err, ErrLockedOut) {
		t.Fatalf("the locked device = %v, want ErrLockedOut", err)
	}
	if e.failureCount(t, ActionLockout, "device") != 1 {
		t.Fatal("the device lock is not audited")
	}
	// The username and the client were not charged.
	if _, err := e.signIn(goodPassword, "192.0.2.1", ""); err != nil {
		t.Fatalf("an unknown device after the device's lock = %v", err)
	}
	e.clock.Advance(15 * time.Minute)
	if _, err := e.signIn(goodPassword, "192.0.2.1", dev); err != nil {
		t.Fatalf("the device after its lock = %v", err)
	}
}

// TestDeviceTokenRefused: a forged, altered, expired, foreign or revoked
// device token counts as an unknown device.
func TestDeviceTokenRefused(t *testing.T) {
	e := newEnv(t)
	a := e.withAdmin(t)
	ctx := context.Background()
	res, err := e.signIn(goodPassword, "192.0.2.1", "")
	if err != nil {
		t.Fatal(err)
	}
	dev := res.Device
	if e.knownDeviceID(dev) == "" {
		t.Fatal("a fresh device token is not accepted")
	}
	parts := strings.Split(dev, ".")
	flip := func(s string) string {
		if s[0] == 'A' {
			return "B" + s[1:]
		}
		return "A" + s[1:]
	}
	stored, err := e.st.AdminByID(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := e.svc.mintDevice(stored, "")
	other = strings.Replace(other, "d1.", "d2.", 1)
	for name, tok := range map[string]string{
		"altered claims": parts[0] + "." + flip(parts[1]) + "." + parts[2],
		"altered MAC":    parts[0] + "." + parts[1] + "." + flip(parts[2]),
		"no MAC":         parts[0] + "." + parts[1],
		"other version":  other,
		"garbage":        "not a token",
		"oversized":      dev + strings.Repeat("A", maxDeviceTokenBytes),
	} {
		if e.knownDeviceID(tok) != "" {
			t.Errorf("%s: accepted", name)
		}
	}
	if e.svc.knownDevice(ctx, "bob", dev) != "" {
		t.Error("the admin's token was accepted for another username")
	}
	// Expired.
	e.clock.Advance(DefaultDeviceTTL)
	if e.knownDeviceID(dev) != "" {
		t.Error("an expired device token was accepted")
	}
	// A password change revokes every device token.
	res, err = e.signIn(goodPassword, "192.0.2.1", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.ChangePassword(ctx, res.Session, goodPassword, newPassword); err != nil {
		t.Fatal(err)
	}
	if e.knownDeviceID(res.Device) != "" {
		t.Error("a device token survived a password change")
	}
	// The browser that changed it gets a new one.
	fresh, exp, err := e.svc.DeviceToken(ctx, a.ID)
	if err != nil || e.knownDeviceID(fresh) == "" || !exp.After(e.clock.Now()) {
		t.Errorf("DeviceToken after the change = %v, %v; want a valid token", exp, err)
	}
}

// TestPasswordChangeNotLockedByLoginAttack: the login attack does not lock
// a signed-in admin out of changing the password.
func TestPasswordChangeNotLockedByLoginAttack(t *testing.T) {
	e := newEnv(t)
	e.withAdmin(t)
	_, cur := e.login(t, TypeSession)
	e.guessFromMany(t, 20)
	if _, _, err := e.svc.ChangePassword(context.Background(), cur, goodPassword, newPassword); err != nil {
		t.Fatalf("password change during a login attack = %v", err)
	}
}
