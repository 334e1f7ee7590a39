package auth

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

func TestHashVerifyRoundTrip(t *testing.T) {
	h1, err := HashPassword("a secret password", cheapParams)
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := HashPassword("a secret password", cheapParams)
	if h1 == h2 {
		t.Fatal("two hashes of one password are equal: no random salt")
	}
	if !regexp.MustCompile(`^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`).MatchString(h1) {
		t.Fatalf("hash %q is not the expected PHC string", h1)
	}
	for _, tc := range []struct {
		pw   string
		want bool
	}{{"a secret password", true}, {"a secret passworD", false}, {"", false}} {
		got, err := VerifyPassword(tc.pw, h1)
		if err != nil || got != tc.want {
			t.Errorf("VerifyPassword(%q) = %v, %v; want %v", tc.pw, got, err, tc.want)
		}
	}
}

func TestDefaultParamsRoundTrip(t *testing.T) {
	h, err := Argon2id{Params: DefaultParams()}.Hash("production parameters")
	if err != nil || !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=2,p=2$") {
		t.Fatalf("Hash = %q, %v", h, err)
	}
	if ok, err := VerifyPassword("production parameters", h); !ok || err != nil {
		t.Fatalf("VerifyPassword = %v, %v", ok, err)
	}
}

func TestVerifyMalformed(t *testing.T) {
	good, _ := HashPassword("pw", cheapParams)
	parts := strings.Split(good, "$")
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	tests := []struct{ name, enc string }{
		{"empty", ""},
		{"bcrypt", "$2a$10$abcdefghijklmnopqrstuv"},
		{"argon2i", with(1, "argon2i")},
		{"old version", with(2, "v=16")},
		{"too much memory", with(3, "m=4194304,t=1,p=1")},
		{"too many passes", with(3, "m=64,t=1000,p=1")},
		{"zero threads", with(3, "m=64,t=1,p=0")},
		{"threads overflow", with(3, "m=64,t=1,p=257")},
		{"trailing junk", with(3, "m=64,t=1,p=1,x=2")},
		{"bad salt", with(4, "!!!")},
		{"short salt", with(4, "c2FsdA")},
		{"short key", with(5, "a2V5")},
		{"extra field", good + "$x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok, err := VerifyPassword("pw", tc.enc)
			if ok || !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("VerifyPassword = %v, %v; want ErrMalformedHash", ok, err)
			}
		})
	}
	if _, err := HashPassword("pw", Params{Time: 1, MemoryKiB: 1 << 30, Threads: 1, SaltLen: 16, KeyLen: 32}); err == nil {
		t.Fatal("HashPassword accepted out-of-bounds parameters")
	}
}

func TestPolicy(t *testing.T) {
	tests := []struct {
		user, pw string
		wantUser error
		wantPW   error
	}{
		{"alice", "correct horse battery", nil, nil},
		{" Alice ", "correct horse battery", nil, nil},
		{"a.b_c-d@example", "twelve chars", nil, nil},
		{"", "correct horse battery", ErrInvalidUsername, nil},
		{".alice", "correct horse battery", ErrInvalidUsername, nil},
		{"ali ce", "correct horse battery", ErrInvalidUsername, nil},
		{"alicé", "correct horse battery", ErrInvalidUsername, nil},
		{strings.Repeat("a", 65), "correct horse battery", ErrInvalidUsername, nil},
		{"alice", "eleven char", nil, ErrWeakPassword},
		{"alice", "éééééééééééé", nil, nil}, // 12 characters, 24 bytes
		{"alice", strings.Repeat("x", 1025), nil, ErrWeakPassword},
		{"alice", strings.Repeat(" ", 20), nil, ErrWeakPassword},
		{"alice", "\xff\xfe invalid utf8 text", nil, ErrWeakPassword},
		{"administrator", "Administrator", nil, ErrWeakPassword},
	}
	for _, tc := range tests {
		if err := CheckUsername(tc.user); !errors.Is(err, tc.wantUser) || (err == nil) != (tc.wantUser == nil) {
			t.Errorf("CheckUsername(%q) = %v, want %v", tc.user, err, tc.wantUser)
		}
		err := CheckPassword(tc.user, tc.pw)
		if !errors.Is(err, tc.wantPW) || (err == nil) != (tc.wantPW == nil) {
			t.Errorf("CheckPassword(%q, len %d) = %v, want %v", tc.user, len(tc.pw), err, tc.wantPW)
		}
		var pe *PolicyError
		if err != nil && (!errors.As(err, &pe) || strings.Contains(err.Error(), tc.pw)) {
			t.Errorf("CheckPassword error %q is not a PolicyError free of the password", err)
		}
	}
}

// BenchmarkDefaultParams measures one production hash (aim: 50 to 150 ms).
func BenchmarkDefaultParams(b *testing.B) {
	h := Argon2id{Params: DefaultParams()}
	for b.Loop() {
		if _, err := h.Hash("benchmark password"); err != nil {
			b.Fatal(err)
		}
	}
}
