package logref

import (
	"regexp"
	"testing"
)

func TestNewIsShortHexAndFresh(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}$`)
	seen := map[string]bool{}
	for range 100 {
		r := New()
		if !re.MatchString(r) {
			t.Fatalf("New() = %q, want 8 hex digits", r)
		}
		seen[r] = true
	}
	if len(seen) < 99 {
		t.Errorf("%d distinct references out of 100", len(seen))
	}
}
