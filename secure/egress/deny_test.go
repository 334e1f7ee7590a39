package egress

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"testing"
)

// An allowlisted host is still refused on a denied address and port: the
// admin server's own, given as its exact address or as 0.0.0.0.
func TestDenyBeatsAllow(t *testing.T) {
	s, _ := server(t, func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("admin")) })
	ap := netip.MustParseAddrPort(strings.TrimPrefix(s.URL, "http://"))
	for _, deny := range []netip.AddrPort{ap, netip.AddrPortFrom(netip.IPv4Unspecified(), ap.Port())} {
		c := mustClient(t, Policy{Allow: []string{"127.0.0.1", "localhost"}, Deny: []netip.AddrPort{deny}})
		for _, u := range []string{s.URL, strings.Replace(s.URL, "127.0.0.1", "localhost", 1)} {
			_, err := c.Get(context.Background(), u)
			if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "orchestrator's own service") {
				t.Errorf("deny %s, GET %s: err = %v, want a refusal", deny, u, err)
			}
		}
		// Streaming shares the check.
		resp, err := c.Streaming(nil).Get(s.URL)
		if err == nil {
			resp.Body.Close()
			t.Errorf("Streaming reached a denied address")
		}
	}
	c := mustClient(t, Policy{Allow: []string{"127.0.0.1"}, Deny: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:1")}})
	if _, err := c.Get(context.Background(), s.URL); err != nil {
		t.Errorf("another port was refused: %v", err)
	}
	c.SetDeny([]netip.AddrPort{ap})
	if _, err := c.Get(context.Background(), s.URL); !errors.Is(err, ErrRefused) {
		t.Errorf("after SetDeny: %v", err)
	}
}
