package admin

import (
	"io"
	"net/http"
	"testing"
)

// BenchmarkAuthenticatedRequest measures what every admin request pays
// for its authentication: the JWT check and the session row lookup, plus
// routing, the security headers and the redacted JSON answer of a small
// route (GET /api/v1/status over loopback HTTP).
func BenchmarkAuthenticatedRequest(b *testing.B) {
	e := newEnv(b)
	e.setup()
	tok := e.apiToken()
	req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/status", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	b.ReportAllocs()
	for b.Loop() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("status: %v", err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// BenchmarkDashboardPage measures rendering the dashboard for a signed-in
// browser (session cookie, CSRF token, template, redaction).
func BenchmarkDashboardPage(b *testing.B) {
	e := newEnv(b)
	e.setup()
	br := e.login()
	b.ReportAllocs()
	for b.Loop() {
		resp, err := br.c.Get(e.srv.URL + "/")
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("dashboard: %v", err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
