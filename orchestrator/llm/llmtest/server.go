// Package llmtest is an in-process fake LLM provider for tests. It speaks
// the OpenAI Chat Completions API (POST /v1/chat/completions) and the
// Anthropic Messages API (POST /v1/messages), and answers with scripted
// replies, a rule hook, or a deterministic default.
//
// A request with "stream": true is answered in the provider's server-sent
// events, the text cut into pieces of a few bytes and tool arguments into
// fragments, with an optional delay between events (Reply.ChunkDelay,
// SetChunkDelay) so that a test can watch partial text arrive. A streamed
// answer carries the same reply as the whole one would.
//
// With a Server s, point an OpenAI client at s.URL()+"/v1" and an Anthropic
// client at s.URL(). Every request is recorded, raw and parsed back into the
// provider-neutral tools.Message form, so tests can assert what the gateway
// really sent.
//
// For out-of-process use (cmd/fakellm in a container test) the same handler
// serves control endpoints: POST /_fake/enqueue (JSON array of Reply),
// GET /_fake/requests (JSON array of RecordedRequest) and POST /_fake/reset.
//
// The package does not import "testing", so it can be built into a binary.
package llmtest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/airlockhq/airlock/internal/backoff"
)

// Size limits on request bodies.
const (
	maxLLMBody     = 16 << 20
	maxControlBody = 1 << 20
)

// Server is a fake LLM provider. It is an http.Handler; New also serves it
// on a loopback listener. All methods are safe for concurrent use.
type Server struct {
	mux  *http.ServeMux
	ctx  context.Context // ends when the server closes
	stop context.CancelFunc

	mu         sync.Mutex
	queue      []Reply
	requests   []RecordedRequest
	responder  func(RecordedRequest) (Reply, bool)
	chunkDelay time.Duration
	cache      cacheState
	forget     bool // SetRecording(false): keep no requests
	seen       int  // requests since start or Reset

	hs  *http.Server
	url string
}

// NewHandler returns a Server that is not listening anywhere: serve it with
// your own http.Server. URL returns "" for such a server.
func NewHandler() *Server {
	s := &Server{mux: http.NewServeMux(), cache: cacheState{}}
	s.ctx, s.stop = context.WithCancel(context.Background())
	s.mux.HandleFunc("POST /v1/chat/completions", s.serveLLM(openAI))
	s.mux.HandleFunc("POST /v1/messages", s.serveLLM(anthropic))
	s.mux.HandleFunc("POST /_fake/enqueue", s.serveEnqueue)
	s.mux.HandleFunc("GET /_fake/requests", s.serveRequests)
	s.mux.HandleFunc("POST /_fake/reset", s.serveReset)
	return s
}

// New starts a Server on 127.0.0.1 with an ephemeral port.
func New() (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("llmtest: listen: %w", err)
	}
	s := NewHandler()
	s.url = "http://" + ln.Addr().String()
	s.hs = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.hs.Serve(ln) }()
	return s, nil
}

// URL returns the base URL ("http://127.0.0.1:port") of a Server made by
// New, without a trailing slash.
func (s *Server) URL() string { return s.url }

// Close stops the listener (if any), drops open connections and ends any
// reply that is still sleeping out its Delay.
func (s *Server) Close() {
	s.stop()
	if s.hs != nil {
		_ = s.hs.Close()
	}
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// Enqueue appends scripted replies. Replies are consumed first in, first
// out, by requests to either endpoint.
func (s *Server) Enqueue(replies ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, replies...)
}

// SetResponder installs a rule hook consulted when the queue is empty. It
// returns false to fall back to the default reply. nil removes the hook.
// The hook runs on the server's goroutine, without the Server's lock held.
func (s *Server) SetResponder(f func(RecordedRequest) (Reply, bool)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.responder = f
}

// Requests returns a copy of every request received so far, oldest first.
func (s *Server) Requests() []RecordedRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]RecordedRequest, len(s.requests))
	copy(out, s.requests)
	return out
}

// Reset drops queued replies, recorded requests, the responder, the
// chunk delay and the simulated prompt cache.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue, s.requests, s.responder, s.chunkDelay, s.forget, s.seen = nil, nil, nil, 0, false, 0
	s.cache = cacheState{}
}

// record stores rec and returns its zero-based sequence number.
func (s *Server) record(rec RecordedRequest) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen++
	if s.forget {
		return s.seen - 1
	}
	s.requests = append(s.requests, rec)
	return len(s.requests) - 1
}

// SetRecording(false) stops keeping the requests (Requests then returns
// those kept before), so that a long load test does not hold every body;
// Seen still counts them. Reset turns recording back on.
func (s *Server) SetRecording(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forget = !on
}

// Seen returns how many model requests the Server answered or is
// answering since it started or was Reset, recorded or not.
func (s *Server) Seen() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen
}

// DropIdle closes the idle keep-alive connections of a Server made by
// New, as a provider does after a while; clients then let theirs go.
func (s *Server) DropIdle() {
	if s.hs != nil {
		s.hs.SetKeepAlivesEnabled(false)
		s.hs.SetKeepAlivesEnabled(true)
	}
}

// next picks the reply for rec: queue, then responder, then default.
func (s *Server) next(rec RecordedRequest) Reply {
	s.mu.Lock()
	if len(s.queue) > 0 {
		r := s.queue[0]
		s.queue = s.queue[1:]
		s.mu.Unlock()
		return r
	}
	f := s.responder
	s.mu.Unlock()
	if f != nil {
		if r, ok := f(rec); ok {
			return r
		}
	}
	return defaultReply(rec)
}

// wait sleeps for d unless the request or the server ends first.
func (s *Server) wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel)
	defer stop()
	return backoff.Sleep(ctx, d)
}
