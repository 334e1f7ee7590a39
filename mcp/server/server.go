// Package server serves the orchestrator's MCP tools (mcp-go, streamable
// HTTP, stateless) on the Unix socket the AI worker connects to.
//
// Security invariants:
//
//   - Only the worker's uid is served. Every accepted connection's kernel
//     peer credentials (SO_PEERCRED) are checked in the listener, before any
//     HTTP byte is parsed: a peer with another uid (or unreadable
//     credentials) gets a bare "403 Forbidden" and the connection is closed.
//     Refusals are logged and reported to Config.OnRefused, rate-limited per
//     uid so a hammering peer cannot flood the audit log.
//   - Every request is checked again: the peer credentials stored by
//     peercred.ConnContext must be present and carry the worker uid; any
//     Origin or Referer header is refused (a browser is never a legitimate
//     client); the Host must be localhost; only /mcp is served; the body is
//     capped at Config.MaxBodyBytes before mcp-go reads it.
//   - Tool handlers see the peer credentials in their context
//     (peercred.FromContext). A handler that panics or returns a Go error
//     yields a tool error result saying only "internal error"; the details
//     go to the log, never to the worker.
//   - The server never connects to the worker; there is no session state, so
//     a restarted orchestrator needs no recovery and a worker cannot address
//     another client's session.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	mcpserver "github.com/mark3labs/mcp-go/server"

	"github.com/airlockhq/airlock/secure/peercred"
)

// DefaultMaxBodyBytes is the request body cap used when Config.MaxBodyBytes
// is zero.
const DefaultMaxBodyBytes = 4 << 20

// Path is the only HTTP path served.
const Path = "/mcp"

// HTTP server limits. There is deliberately no ReadTimeout or WriteTimeout:
// net/http cancels a request's context when the connection's read deadline
// passes, and a write deadline would cut long-polling tool calls
// (runtime_next_task waits up to 30 s and runtime_llm may take minutes).
// Tool handlers bound their own work with their ctx.
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
)

// Config configures a Server.
type Config struct {
	// WorkerUID is the only uid allowed to connect (dev mode: our own uid).
	WorkerUID int
	// Logger receives refusals and handler failures; nil means slog.Default.
	Logger *slog.Logger
	// OnRefused, if set, is called (at most once per uid per RefusalWindow)
	// for each refused peer. It runs on the accept path: keep it quick.
	OnRefused func(Refusal)
	// MaxBodyBytes caps a request body; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Name and Version are what the server reports to MCP clients.
	Name, Version string
}

// Refusal describes a peer the server refused.
type Refusal struct {
	Cred peercred.Cred
	// Reason is a short human-readable explanation.
	Reason string
	// Suppressed counts refusals of the same uid that were not reported since
	// the previous report.
	Suppressed int
}

// Server is the MCP server on the worker socket.
type Server struct {
	cfg     Config
	log     *slog.Logger
	handler http.Handler
	mcp     *mcpserver.MCPServer
	http    *http.Server
	limiter *refusalLimiter
	// refusing is a semaphore bounding the goroutines that answer refused
	// peers.
	refusing chan struct{}

	baseCtx    context.Context
	cancelBase context.CancelFunc
	serveOnce  sync.Once
}

// New builds a Server offering tools. It does no I/O.
func New(cfg Config, tools ...mcpserver.ServerTool) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Name == "" {
		cfg.Name = "airlock"
	}
	s := &Server{cfg: cfg, log: cfg.Logger, limiter: newRefusalLimiter(time.Now),
		refusing: make(chan struct{}, maxRefusing)}
	s.baseCtx, s.cancelBase = context.WithCancel(context.Background())

	m := mcpserver.NewMCPServer(cfg.Name, cfg.Version,
		mcpserver.WithToolCapabilities(false),
		mcpserver.WithToolHandlerMiddleware(s.recoverTool),
	)
	m.AddTools(tools...)
	s.mcp = m
	streamable := mcpserver.NewStreamableHTTPServer(m,
		mcpserver.WithEndpointPath(Path),
		mcpserver.WithStateLess(true),
		mcpserver.WithDisableStreaming(true),
		mcpserver.WithStreamableHTTPLogger(s.log),
	)
	s.handler = s.guard(streamable)
	s.http = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ConnContext:       peercred.ConnContext,
		BaseContext:       func(net.Listener) context.Context { return s.baseCtx },
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	return s
}

// Handler returns the guarded HTTP handler serving /mcp. It refuses every
// request whose context lacks the worker's peer credentials, so it only works
// behind an http.Server whose ConnContext is peercred.ConnContext.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve accepts connections on ln (a Unix listener from peercred.Listen)
// until Shutdown. Peers whose uid is not the worker's are refused at accept.
// It returns nil after Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	err := errors.New("server: Serve called twice")
	s.serveOnce.Do(func() {
		err = s.http.Serve(&guardedListener{Listener: ln, s: s})
	})
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("server: serve: %w", err)
	}
	return nil
}

// Shutdown stops accepting, cancels the context of in-flight tool calls (so
// long-polls return at once), and waits for them until ctx ends, after which
// remaining connections are closed.
func (s *Server) Shutdown(ctx context.Context) error {
	s.cancelBase()
	err := s.http.Shutdown(ctx)
	if err != nil {
		s.http.Close()
		return fmt.Errorf("server: shutdown: %w", err)
	}
	return nil
}
