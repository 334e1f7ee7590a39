package auth

import (
	"encoding/hex"
	"testing"

	"github.com/airlockhq/airlock/secure/vault"
)

// TestDerivedKeysPinned pins every key derived from the server key: a
// change to a label or to the derivation would silently sign everyone out
// (tokens, known devices) or invalidate every open form (CSRF), so it must
// show up here. The values were computed independently (Python's hmac).
func TestDerivedKeysPinned(t *testing.T) {
	var server vault.Key
	for i := range server {
		server[i] = byte(i)
	}
	tokenKey := []byte("token-key")
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"csrf", CSRFKey(server), "327f222c1333f6486316cff307469b17b8bc9b3bd48669d916eabe334c201604"},
		{"token signing", signingKey(server, tokenKey), "c8ccf6a5cdf9ae65b39e35bc1b5cff338f9214e2562c48eda6ee5992d5bc8032"},
		{"known device", deviceKey(server, tokenKey), "74fcf09e7cf06de7d547fa2a426fb4287ee046e4da15d8551d70c43adfbca92b"},
	}
	for _, tt := range tests {
		if got := hex.EncodeToString(tt.got); got != tt.want {
			t.Errorf("%s key = %s, want %s", tt.name, got, tt.want)
		}
	}
	var other vault.Key
	if hex.EncodeToString(CSRFKey(other)) == tests[0].want {
		t.Error("the CSRF key does not depend on the server key")
	}
}
