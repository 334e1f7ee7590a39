package server_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/mcp/server"
)

const initializeBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{` +
	`"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}`

func TestRequestGuard(t *testing.T) {
	const maxBody = 1024
	path := startServer(t, server.Config{WorkerUID: os.Getuid(), MaxBodyBytes: maxBody}, "", 0o660, testTools()...)
	hc := unixHTTPClient(path)
	big := `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"` + strings.Repeat("x", 2*maxBody) + `"}}`

	tests := []struct {
		name   string
		path   string
		host   string
		header map[string]string
		body   string
		// chunked sends the body without a Content-Length.
		chunked bool
		want    int
	}{
		{name: "valid", path: "/mcp", want: http.StatusOK},
		{name: "valid host with port", path: "/mcp", host: "localhost:8080", want: http.StatusOK},
		{name: "origin", path: "/mcp", header: map[string]string{"Origin": "http://localhost"}, want: http.StatusForbidden},
		{name: "empty origin", path: "/mcp", header: map[string]string{"Origin": ""}, want: http.StatusForbidden},
		{name: "referer", path: "/mcp", header: map[string]string{"Referer": "http://localhost/x"}, want: http.StatusForbidden},
		{name: "bad host", path: "/mcp", host: "evil.example", want: http.StatusForbidden},
		{name: "localhost lookalike", path: "/mcp", host: "localhost.evil.example", want: http.StatusForbidden},
		{name: "bad port", path: "/mcp", host: "localhost:x", want: http.StatusForbidden},
		{name: "loopback ip", path: "/mcp", host: "127.0.0.1", want: http.StatusForbidden},
		{name: "unknown path", path: "/admin", want: http.StatusNotFound},
		{name: "path prefix", path: "/mcp/x", want: http.StatusNotFound},
		{name: "oversized body", path: "/mcp", body: big, want: http.StatusRequestEntityTooLarge},
		{name: "oversized chunked body", path: "/mcp", body: big, chunked: true, want: http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := tt.body
			if body == "" {
				body = initializeBody
			}
			var r io.Reader = strings.NewReader(body)
			if tt.chunked {
				r = io.MultiReader(r) // hides the length: sent chunked
			}
			req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, "http://localhost"+tt.path, r)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			for k, v := range tt.header {
				req.Header[k] = []string{v}
			}
			if tt.host != "" {
				req.Host = tt.host
			}
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatalf("request: %v", err)
			}
			got := readAll(t, resp)
			if resp.StatusCode != tt.want {
				t.Fatalf("status = %d (%q), want %d", resp.StatusCode, got, tt.want)
			}
			if tt.want == http.StatusOK && !strings.Contains(got, `"protocolVersion"`) {
				t.Fatalf("valid request got no initialize result: %q", got)
			}
		})
	}
}
