package scriptbroker

import (
	"net/url"
	"testing"
)

// TestRedirectAllowed: a script's request follows a redirect only to a
// granted host, on the port of the script's URL or the hop scheme's
// standard port, never from https down to http.
func TestRedirectAllowed(t *testing.T) {
	granted := []string{"api.example.com", "www.example.com", "::1"}
	tests := []struct {
		first, next string
		want        bool
	}{
		{"https://api.example.com/a", "https://api.example.com/b", true},
		{"https://api.example.com/a", "https://API.Example.com/b", true},
		{"https://api.example.com/a", "https://www.example.com/b", true},
		{"https://api.example.com/a", "https://www.example.com:443/b", true},
		{"http://api.example.com/a", "https://api.example.com/b", true}, // upgrade
		{"http://api.example.com:8080/a", "http://api.example.com:8080/b", true},
		{"http://api.example.com:8080/a", "https://api.example.com/b", true},
		{"http://[::1]:8080/a", "http://[::1]:8080/b", true},
		{"https://api.example.com/a", "https://evil.example.com/b", false},
		{"https://api.example.com/a", "https://api.example.com.evil.example/b", false},
		{"https://api.example.com/a", "http://api.example.com/b", false}, // downgrade
		{"https://api.example.com/a", "https://api.example.com:8443/b", false},
		{"http://api.example.com:8080/a", "http://api.example.com:9090/b", false},
		{"http://api.example.com/a", "http://api.example.com:443/b", false},
		{"http://[::1]:8080/a", "http://[::1]:9090/b", false},
		{"http://[::1]:8080/a", "http://127.0.0.1:8080/b", false},
	}
	for _, tt := range tests {
		first, _ := url.Parse(tt.first)
		next, _ := url.Parse(tt.next)
		if got := redirectAllowed(granted, first, next); got != tt.want {
			t.Errorf("%s -> %s: %v, want %v", tt.first, tt.next, got, tt.want)
		}
	}
}
