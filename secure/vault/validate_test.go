package vault

import (
	"errors"
	"strings"
	"testing"
)

func TestValidName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"A", true},
		{"LLM_API_KEY", true},
		{"X9_", true},
		{"A" + strings.Repeat("B", 63), true},
		{"A" + strings.Repeat("B", 64), false},
		{"", false},
		{"_A", false},
		{"9A", false},
		{"lower", false},
		{"A-B", false},
		{"A B", false},
		{"É", false},
		{"A\x00", false},
	}
	for _, tt := range tests {
		err := ValidName(tt.name)
		if (err == nil) != tt.ok {
			t.Errorf("ValidName(%q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidName) || !strings.Contains(err.Error(), "A-Z, 0-9 and _") {
				t.Errorf("ValidName(%q) error %q does not state the rule", tt.name, err)
			}
			if tt.name != "" && strings.Contains(err.Error(), tt.name) {
				t.Errorf("ValidName(%q) error repeats the name: %q", tt.name, err)
			}
		}
	}
}

func TestValidValue(t *testing.T) {
	tests := []struct {
		desc, value, reason string
	}{
		{"8 bytes", "12345678", ""},
		{"max", strings.Repeat("v", MaxValueLen), ""},
		{"inner space and newline", "line one\nline two", ""},
		{"too short", "s3cr3t!", "cannot be redacted safely from output"},
		{"empty", "", "cannot be redacted safely"},
		{"too long", strings.Repeat("v", MaxValueLen+1), "at most 16384"},
		{"bad utf-8", "abcdefgh\xff", "UTF-8"},
		{"NUL", "abcd\x00efgh", "NUL"},
		{"trailing newline", "abcdefgh\n", "whitespace"},
		{"leading space", " abcdefgh", "whitespace"},
	}
	for _, tt := range tests {
		err := ValidValue(tt.value)
		if tt.reason == "" {
			if err != nil {
				t.Errorf("%s: ValidValue = %v, want nil", tt.desc, err)
			}
			continue
		}
		if err == nil || !errors.Is(err, ErrInvalidValue) || !strings.Contains(err.Error(), tt.reason) {
			t.Errorf("%s: ValidValue = %v, want ErrInvalidValue saying %q", tt.desc, err, tt.reason)
			continue
		}
		if len(tt.value) >= 4 && strings.Contains(err.Error(), strings.TrimSpace(tt.value)[:4]) {
			t.Errorf("%s: error quotes the value: %q", tt.desc, err)
		}
	}
}
