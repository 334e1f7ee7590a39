package auth

import (
	"strings"
	"unicode/utf8"
)

// Policy limits.
const (
	MinPasswordChars = 12   // characters (runes)
	MaxPasswordBytes = 1024 // bytes
	MaxUsernameBytes = 64
)

// NormalizeUsername trims spaces and lowercases: usernames are
// case-insensitive.
func NormalizeUsername(username string) string {
	return strings.ToLower(strings.TrimSpace(username))
}

// CheckUsername returns a PolicyError unless username, normalized, is 1 to
// 64 of a-z, 0-9 and . _ - @, starting with a letter or digit.
func CheckUsername(username string) error {
	u := NormalizeUsername(username)
	if u == "" || len(u) > MaxUsernameBytes {
		return &PolicyError{Field: "username", Reason: "must be 1 to 64 characters long"}
	}
	for i, c := range []byte(u) {
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || strings.IndexByte("._-@", c) < 0) {
			return &PolicyError{Field: "username",
				Reason: "may hold only letters a-z, digits and . _ - @, and must start with a letter or digit"}
		}
	}
	return nil
}

// CheckPassword returns a PolicyError unless password is valid UTF-8 of at
// least MinPasswordChars characters and at most MaxPasswordBytes bytes, and
// is not the username. The error never contains the password.
func CheckPassword(username, password string) error {
	switch {
	case !utf8.ValidString(password):
		return &PolicyError{Field: "password", Reason: "must be valid UTF-8 text"}
	case utf8.RuneCountInString(password) < MinPasswordChars:
		return &PolicyError{Field: "password", Reason: "must be at least 12 characters long"}
	case len(password) > MaxPasswordBytes:
		return &PolicyError{Field: "password", Reason: "must be at most 1024 bytes long"}
	case strings.TrimSpace(password) == "":
		return &PolicyError{Field: "password", Reason: "must not be only spaces"}
	case strings.EqualFold(strings.TrimSpace(password), NormalizeUsername(username)):
		return &PolicyError{Field: "password", Reason: "must not be the username"}
	}
	return nil
}
