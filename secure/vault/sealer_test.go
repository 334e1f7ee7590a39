package vault

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func newTestSealer(t *testing.T) *Sealer {
	t.Helper()
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSealer(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const canary = "canary-7f3b9c2e-value"

func TestSealOpenRoundTrip(t *testing.T) {
	s := newTestSealer(t)
	for _, v := range []string{"", canary, strings.Repeat("x", MaxValueLen)} {
		blob, err := s.Seal("NAME", []byte(v))
		if err != nil {
			t.Fatal(err)
		}
		if len(blob) != Overhead+len(v) || blob[0] != formatV1 {
			t.Fatalf("blob of %d-byte value: len %d, version %d", len(v), len(blob), blob[0])
		}
		if v != "" && bytes.Contains(blob, []byte(v)) {
			t.Fatal("blob contains the plaintext")
		}
		got, err := s.Open("NAME", blob)
		if err != nil || string(got) != v {
			t.Fatalf("Open = %d bytes, %v; want the %d-byte value", len(got), err, len(v))
		}
	}
}

func TestSealUsesFreshNonce(t *testing.T) {
	s := newTestSealer(t)
	a, _ := s.Seal("NAME", []byte(canary))
	b, _ := s.Seal("NAME", []byte(canary))
	if bytes.Equal(a[1:1+nonceSize], b[1:1+nonceSize]) || bytes.Equal(a, b) {
		t.Fatal("two seals of the same value share a nonce")
	}
}

func TestOpenRejects(t *testing.T) {
	s := newTestSealer(t)
	blob, err := s.Seal("NAME", []byte(canary))
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		b := bytes.Clone(blob)
		b[i] ^= 0x01
		return b
	}
	tests := []struct {
		desc   string
		sealer *Sealer
		name   string
		blob   []byte
	}{
		{"other name", s, "OTHER", blob},
		{"name prefix", s, "NAM", blob},
		{"other key", newTestSealer(t), "NAME", blob},
		{"flipped version", s, "NAME", flip(0)},
		{"flipped nonce", s, "NAME", flip(3)},
		{"flipped ciphertext", s, "NAME", flip(1 + nonceSize + 2)},
		{"flipped tag", s, "NAME", flip(len(blob) - 1)},
		{"truncated", s, "NAME", blob[:len(blob)-1]},
		{"too short", s, "NAME", blob[:Overhead-1]},
		{"empty", s, "NAME", nil},
		{"extended", s, "NAME", append(bytes.Clone(blob), 0)},
	}
	for _, tt := range tests {
		got, err := tt.sealer.Open(tt.name, tt.blob)
		if !errors.Is(err, ErrDecrypt) || got != nil {
			t.Errorf("%s: Open = %d bytes, %v; want nil, ErrDecrypt", tt.desc, len(got), err)
		}
		if err != nil && strings.Contains(err.Error(), "canary") {
			t.Errorf("%s: error reveals the value: %v", tt.desc, err)
		}
	}
}

func TestKeyCheck(t *testing.T) {
	s := newTestSealer(t)
	check, err := s.KeyCheck()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.VerifyKeyCheck(check); err != nil {
		t.Fatalf("VerifyKeyCheck(own) = %v", err)
	}
	other := newTestSealer(t)
	err = other.VerifyKeyCheck(check)
	if !errors.Is(err, ErrWrongKey) || !strings.Contains(err.Error(), "does not match this database") {
		t.Fatalf("VerifyKeyCheck(other key) = %v, want ErrWrongKey", err)
	}
	// A secret blob is no key check, and the key check opens as no secret.
	secret, _ := s.Seal(keyCheckName, []byte(keyCheckMarker))
	if err := s.VerifyKeyCheck(secret); !errors.Is(err, ErrWrongKey) {
		t.Errorf("a secret sealed under the reserved name passed as key check: %v", err)
	}
	if _, err := s.Open(keyCheckName, check); !errors.Is(err, ErrDecrypt) {
		t.Errorf("the key check opened as a secret: %v", err)
	}
	if err := ValidName(keyCheckName); err == nil {
		t.Error("the reserved key-check name is a valid secret name")
	}
}

func TestNewSealerRefusesZeroKey(t *testing.T) {
	if _, err := NewSealer(Key{}); err == nil {
		t.Fatal("NewSealer accepted an all-zero key")
	}
}

func TestSealerRendersNothing(t *testing.T) {
	s := newTestSealer(t)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if got := fmt.Sprintf(verb, s); !strings.Contains(got, "redacted") {
			t.Errorf("%s of a Sealer = %q", verb, got)
		}
	}
}
