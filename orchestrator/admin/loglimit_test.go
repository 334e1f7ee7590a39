package admin

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestRequestLogLinesBounded floods the server, in process, with requests
// that anyone can send and that each used to write a log line: bad bearer
// tokens, JSON bodies without their content type, cross-site logins. The
// log lines stay bounded per client and in all, and the count of what was
// held back reaches the log once the window turns.
func TestRequestLogLinesBounded(t *testing.T) {
	e := newEnv(t)
	e.setup()
	now := time.Now()
	e.server.logLimit.now = func() time.Time { return now }
	h := e.server.Handler()
	send := func(client string, i int) {
		var r *http.Request
		switch i % 3 {
		case 0:
			r = httptest.NewRequest(http.MethodGet, "/api/v1/status", nil)
			r.Header.Set("Authorization", "Bearer not-a-token")
		case 1:
			r = httptest.NewRequest(http.MethodPost, "/api/v1/auth/login", strings.NewReader(`{"username":"a","password":"b"}`))
		default:
			r = httptest.NewRequest(http.MethodPost, "/api/v1/auth/login", strings.NewReader(`{"username":"a","password":"b"}`))
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("Sec-Fetch-Site", "cross-site")
		}
		r.Host = "127.0.0.1"
		r.RemoteAddr = client + ":40000"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code < 400 {
			t.Fatalf("request %d answered %d, want a refusal", i, w.Code)
		}
	}
	lines := func() int { return strings.Count(e.logs.String(), "\n") }
	before := lines()

	// One client, 3,000 refused requests of three kinds.
	for i := range 3000 {
		send("192.0.2.7", i)
	}
	if got, max := lines()-before, 3*logPerClient; got > max {
		t.Fatalf("one client's 3,000 refused requests wrote %d log lines, want at most %d", got, max)
	}
	// 500 clients in the same minute: the total bound holds.
	for c := range 500 {
		for i := range 3 {
			send(fmt.Sprintf("198.51.%d.%d", c/250, c%250), i)
		}
	}
	if got := lines() - before; got > logTotal {
		t.Fatalf("refused requests from 500 clients wrote %d log lines, want at most %d", got, logTotal)
	}
	// The next window's first line says how many were held back.
	now = now.Add(logWindow)
	n := lines()
	send("192.0.2.7", 0)
	if lines() != n+1 || !strings.Contains(tail(e.logs.String(), 1), "lines_held_back=") {
		t.Fatalf("the first line of the next window does not carry the held-back count:\n%s", tail(e.logs.String(), 3))
	}
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(ls[max(0, len(ls)-n):], "\n")
}
