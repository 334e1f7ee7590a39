// Package mcptest runs small external MCP servers on loopback for tests:
// one built with mark3labs/mcp-go (streamable HTTP or SSE) and one with the
// official modelcontextprotocol/go-sdk. Both can require a header and
// record every request's headers, so a test can see where a credential
// went. Only tests import this package.
package mcptest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// Options configure a server.
type Options struct {
	// Header and Value, when set, are required on every request (else 401).
	Header, Value string
	// SSE serves the older SSE transport instead of streamable HTTP.
	SSE bool
	// Addr, when set, is the loopback address to listen on (a server
	// restarted on the port of one that stopped).
	Addr string
	// FloodBytes, when set, adds the tool flood, whose call is answered
	// (streamable HTTP) with a JSON-RPC result that long, written as it
	// goes: a hostile server.
	FloodBytes int
	// Authorize, when set, decides whether a request may proceed (else
	// 401 with a WWW-Authenticate: Bearer challenge): how an OAuth
	// protected server checks its tokens (see AuthServer.Protect).
	Authorize func(*http.Request) bool
	// Challenge, when set, gives the WWW-Authenticate of that 401 instead
	// of a bare Bearer challenge (one naming resource_metadata, RFC 9728).
	Challenge func(*http.Request) string
	// Wrap, when set, wraps the whole handler (a protected resource
	// metadata document served beside the MCP endpoint).
	Wrap func(http.Handler) http.Handler
}

// Server is a running test server.
type Server struct {
	URL  string
	HTTP *httptest.Server
	mark *server.MCPServer

	mu      sync.Mutex
	headers []http.Header
}

// Headers returns the headers of every request received so far.
func (s *Server) Headers() []http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]http.Header(nil), s.headers...)
}

// Saw reports whether any request carried value in any header.
func (s *Server) Saw(value string) bool {
	for _, h := range s.Headers() {
		for _, vs := range h {
			for _, v := range vs {
				if strings.Contains(v, value) {
					return true
				}
			}
		}
	}
	return false
}

func (s *Server) guard(opts Options, next http.Handler) http.Handler {
	if opts.Wrap != nil {
		o := opts
		o.Wrap = nil
		return opts.Wrap(s.guard(o, next))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.headers = append(s.headers, r.Header.Clone())
		s.mu.Unlock()
		if opts.Header != "" && r.Header.Get(opts.Header) != opts.Value {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if opts.Authorize != nil && !opts.Authorize(r) {
			challenge := `Bearer error="invalid_token"`
			if opts.Challenge != nil {
				challenge = opts.Challenge(r)
			}
			w.Header().Set("WWW-Authenticate", challenge)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if opts.FloodBytes > 0 && r.Method == http.MethodPost {
			body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			var req struct {
				ID     json.RawMessage `json:"id"`
				Method string          `json:"method"`
				Params struct {
					Name string `json:"name"`
				} `json:"params"`
			}
			if json.Unmarshal(body, &req) == nil && req.Method == "tools/call" && req.Params.Name == "flood" {
				flood(w, req.ID, opts.FloodBytes)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		next.ServeHTTP(w, r)
	})
}

// Mark starts a mark3labs/mcp-go server with the tools echo (text),
// whoami (returns the Authorization and X-Api-Key headers it got: an
// echoing server), big (bytes: a text result that long), and hang (waits
// until the call is abandoned).
func Mark(t testing.TB, opts Options) *Server {
	ms := server.NewMCPServer("mark-test", "1", server.WithToolCapabilities(true))
	ms.AddTool(mcp.NewTool("echo", mcp.WithDescription("Echo the text back."),
		mcp.WithString("text", mcp.Required(), mcp.Description("Text to echo."))),
		func(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return mcp.NewToolResultText(req.GetString("text", "")), nil
		})
	ms.AddTool(mcp.NewTool("whoami", mcp.WithDescription("Say which credential the request carried.")),
		func(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return mcp.NewToolResultText(fmt.Sprintf("authorization=%q api-key=%q",
				req.Header.Get("Authorization"), req.Header.Get("X-Api-Key"))), nil
		})
	ms.AddTool(mcp.NewTool("big", mcp.WithDescription("Return a long text."),
		mcp.WithNumber("bytes", mcp.Required())),
		func(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return mcp.NewToolResultText(strings.Repeat("x", req.GetInt("bytes", 0))), nil
		})
	ms.AddTool(mcp.NewTool("hang", mcp.WithDescription("Never answer.")),
		func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		})
	if opts.FloodBytes > 0 {
		ms.AddTool(mcp.NewTool("flood", mcp.WithDescription("Return a very long result.")),
			func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				return mcp.NewToolResultText("never reached: the guard answers"), nil
			})
	}
	s := &Server{mark: ms}
	if opts.SSE {
		sse := server.NewSSEServer(ms)
		s.HTTP = httptest.NewServer(s.guard(opts, sse))
		server.WithBaseURL(s.HTTP.URL)(sse)
		s.URL = s.HTTP.URL + "/sse"
	} else {
		s.HTTP = httptest.NewUnstartedServer(s.guard(opts, server.NewStreamableHTTPServer(ms)))
		if opts.Addr != "" {
			ln, err := net.Listen("tcp", opts.Addr)
			if err != nil {
				t.Fatal(err)
			}
			s.HTTP.Listener.Close()
			s.HTTP.Listener = ln
		}
		s.HTTP.Start()
		s.URL = s.HTTP.URL + "/mcp"
	}
	t.Cleanup(s.close)
	return s
}

// SetTool adds or replaces a tool of a Mark server whose handler returns
// reply: how a test changes a definition between two listings.
func (s *Server) SetTool(name, description, reply string) {
	s.mark.AddTool(mcp.NewTool(name, mcp.WithDescription(description)),
		func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return mcp.NewToolResultText(reply), nil
		})
}

type greetIn struct {
	Name string `json:"name" jsonschema:"who to greet"`
}

// GoSDK starts an official go-sdk server (streamable HTTP) with the tool
// greet (name).
func GoSDK(t testing.TB, opts Options) *Server {
	srv := sdk.NewServer(&sdk.Implementation{Name: "sdk-test", Version: "1"}, nil)
	sdk.AddTool(srv, &sdk.Tool{Name: "greet", Description: "Greet someone by name."},
		func(_ context.Context, _ *sdk.CallToolRequest, in greetIn) (*sdk.CallToolResult, any, error) {
			return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: "hello, " + in.Name}}}, nil, nil
		})
	h := sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return srv }, nil)
	s := &Server{}
	s.HTTP = httptest.NewServer(s.guard(opts, h))
	s.URL = s.HTTP.URL + "/mcp"
	t.Cleanup(s.close)
	return s
}

func flood(w http.ResponseWriter, id json.RawMessage, n int) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"content":[{"type":"text","text":"`, id)
	chunk := bytes.Repeat([]byte("x"), 64<<10)
	for sent := 0; sent < n; sent += len(chunk) {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
	fmt.Fprint(w, `"}]}}`)
}

// close cuts open streams (SSE) first, which Close would wait for.
func (s *Server) close() {
	s.HTTP.CloseClientConnections()
	s.HTTP.Close()
}
