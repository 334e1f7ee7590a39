package main

import (
	"net/netip"
	"slices"
	"testing"
)

func TestUIURL(t *testing.T) {
	for in, want := range map[string]string{
		"0.0.0.0:8080": "http://127.0.0.1:8080", "127.0.0.1:39001": "http://127.0.0.1:39001",
		"[::]:8080": "http://127.0.0.1:8080", "[::1]:8080": "http://[::1]:8080", ":8080": "http://127.0.0.1:8080",
	} {
		if got := uiURL(in); got != want {
			t.Errorf("uiURL(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestParseProxies(t *testing.T) {
	got, err := parseProxies([]string{"127.0.0.1", "10.0.0.0/8", "::1", "192.168.1.7/24"})
	want := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("192.168.1.0/24")}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("parseProxies = %v, %v; want %v", got, err, want)
	}
	if _, err := parseProxies([]string{"proxy.example"}); err == nil {
		t.Error("a hostname was accepted as a trusted proxy")
	}
}
