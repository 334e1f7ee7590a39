package egress

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestBodyCap(t *testing.T) {
	const limit = 1000
	tests := []struct {
		name          string
		size          int
		contentLength bool
		truncate      bool
		wantErr       bool
		wantLen       int
	}{
		{"at cap", limit, true, false, false, limit},
		{"over cap with length", 3000, true, false, true, 0},
		{"over cap chunked", 3000, false, false, true, 0},
		{"one over, chunked", limit + 1, false, false, true, 0},
		{"truncated with length", 3000, true, true, false, limit},
		{"truncated chunked", 3000, false, true, false, limit},
		{"at cap, truncating", limit, false, true, false, limit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := bytes.Repeat([]byte("x"), tt.size)
			s, _ := server(t, func(w http.ResponseWriter, _ *http.Request) {
				if tt.contentLength {
					w.Header().Set("Content-Length", strconv.Itoa(len(body)))
				} else {
					w.(http.Flusher).Flush() // forces chunked encoding
				}
				w.Write(body)
			})
			c := mustClient(t, Policy{Allow: []string{"127.0.0.1"}, MaxBodyBytes: limit, Truncate: tt.truncate})
			resp, err := c.Get(context.Background(), s.URL)
			if tt.wantErr {
				if !errors.Is(err, ErrTooLarge) || err.Error() != "egress: response body larger than 1000 bytes" {
					t.Fatalf("err = %v, want ErrTooLarge", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Body) != tt.wantLen || resp.Truncated != (tt.size > limit) {
				t.Errorf("len %d truncated %v", len(resp.Body), resp.Truncated)
			}
		})
	}
}

func TestTruncatingCopy(t *testing.T) {
	s, _ := server(t, func(w http.ResponseWriter, _ *http.Request) { w.Write(bytes.Repeat([]byte("y"), 4096)) })
	c := mustClient(t, Policy{Allow: []string{"127.0.0.1"}, MaxBodyBytes: 1 << 10})
	if _, err := c.Get(context.Background(), s.URL); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("original: err = %v, want ErrTooLarge", err)
	}
	resp, err := c.Truncating().Get(context.Background(), s.URL)
	if err != nil || len(resp.Body) != 1<<10 || !resp.Truncated {
		t.Fatalf("truncating copy: %v", err)
	}
}

func TestSlowBodyTimesOut(t *testing.T) {
	s, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for range 50 {
			w.Write([]byte("."))
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-tick.C:
			}
		}
	})
	c := mustClient(t, Policy{Allow: []string{"127.0.0.1"}, Timeout: time.Second})
	_, err := c.Get(context.Background(), s.URL)
	if !errors.Is(err, ErrTimeout) || err.Error() != "egress: timed out after 1s" {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if errors.Is(err, ErrRefused) || strings.Contains(err.Error(), "127.0.0.1") {
		t.Errorf("err = %q", err)
	}
}
