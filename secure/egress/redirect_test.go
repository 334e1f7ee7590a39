package egress

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

func TestRedirectToMetadataRefused(t *testing.T) {
	for _, target := range []string{"http://169.254.169.254/latest/meta-data/", "http://[::ffff:169.254.169.254]/"} {
		t.Run(target, func(t *testing.T) {
			s, hits := server(t, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, target, http.StatusFound)
			})
			_, err := mustClient(t, Policy{Allow: []string{"127.0.0.0/8"}}).Get(context.Background(), s.URL)
			wantRefused(t, err)
			if want := "egress: refused: 169.254.169.254 is a link-local address (the cloud metadata endpoint)"; err.Error() != want {
				t.Errorf("err = %q, want %q", err, want)
			}
			if hits.Load() != 1 {
				t.Errorf("allowed server got %d requests, want 1", hits.Load())
			}
		})
	}
}

func TestRedirectToBadSchemeRefused(t *testing.T) {
	for _, target := range []string{"file:///etc/passwd", "ftp://example.com/", "http://u:p@127.0.0.1/"} {
		s, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target, http.StatusMovedPermanently)
		})
		_, err := mustClient(t, Policy{Allow: []string{"127.0.0.0/8"}}).Get(context.Background(), s.URL)
		wantRefused(t, err, "egress: refused: ")
		if strings.Contains(err.Error(), "u:p@") {
			t.Errorf("error %q shows credentials", err)
		}
	}
}

func TestRedirectLoop(t *testing.T) {
	tests := []struct {
		max       int
		wantHits  int64
		wantError string
	}{
		{0, 6, "egress: refused: too many redirects (more than 5)"},
		{2, 3, "egress: refused: too many redirects (more than 2)"},
		{-1, 1, "egress: refused: too many redirects (more than 0)"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.max), func(t *testing.T) {
			s, hits := server(t, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "/again", http.StatusFound)
			})
			_, err := mustClient(t, Policy{Allow: []string{"127.0.0.1"}, MaxRedirects: tt.max}).Get(context.Background(), s.URL)
			wantRefused(t, err)
			if err.Error() != tt.wantError {
				t.Errorf("err = %q, want %q", err, tt.wantError)
			}
			if hits.Load() != tt.wantHits {
				t.Errorf("server got %d requests, want %d", hits.Load(), tt.wantHits)
			}
		})
	}
}

func TestRedirectFollowed(t *testing.T) {
	var mu sync.Mutex
	var referers, agents []string
	s, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		referers = append(referers, r.Referer())
		agents = append(agents, r.UserAgent())
		mu.Unlock()
		switch r.URL.Path {
		case "/a":
			http.Redirect(w, r, "/b?key=SECRET", http.StatusFound)
		case "/b":
			http.Redirect(w, r, "/c", http.StatusTemporaryRedirect)
		default:
			io.WriteString(w, "final")
		}
	})
	resp, err := mustClient(t, Policy{Allow: []string{"127.0.0.1"}, UserAgent: "test-agent"}).Get(context.Background(), s.URL+"/a")
	if err != nil {
		t.Fatal(err)
	}
	if resp.URL.Path != "/c" || string(resp.Body) != "final" {
		t.Errorf("final %s %q", resp.URL, resp.Body)
	}
	mu.Lock()
	defer mu.Unlock()
	for i := range referers {
		if referers[i] != "" || agents[i] != "test-agent" {
			t.Errorf("hop %d: Referer %q, User-Agent %q", i, referers[i], agents[i])
		}
	}
	if len(referers) != 3 {
		t.Errorf("%d hops, want 3", len(referers))
	}
}

// TestDoFollowingVetsEveryHop: a hop the caller's rule refuses is never
// sent, whatever the status, and the 3xx comes back with its Location.
func TestDoFollowingVetsEveryHop(t *testing.T) {
	other, otherHits := server(t, hello)
	for _, code := range []int{301, 302, 303, 307, 308} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			s, hits := server(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/same" {
					http.Redirect(w, r, other.URL+"/away", code)
					return
				}
				http.Redirect(w, r, "/same", code)
			})
			var asked []string
			follow := func(next *http.Request, via []*http.Request) bool {
				asked = append(asked, next.URL.Host)
				return next.URL.Host == via[0].URL.Host
			}
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, s.URL+"/start", strings.NewReader("body"))
			req.Header.Set("X-Api-Key", "k")
			resp, err := mustClient(t, Policy{Allow: []string{"127.0.0.1"}}).DoFollowing(req, follow)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != code || resp.Header.Get("Location") != other.URL+"/away" || resp.URL.Path != "/same" {
				t.Errorf("resp = %d Location %q from %s; want the %d from /same", resp.Status, resp.Header.Get("Location"), resp.URL, code)
			}
			if hits.Load() != 2 || otherHits.Load() != 0 || len(asked) != 2 {
				t.Errorf("hits: first %d, other %d, rule asked %v; want 2, 0 and two hops", hits.Load(), otherHits.Load(), asked)
			}
		})
	}
}
