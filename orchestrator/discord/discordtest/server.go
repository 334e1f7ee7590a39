// Package discordtest is an in-process fake of Discord for tests: the REST
// endpoints the bot uses and a gateway websocket (HELLO, IDENTIFY → READY,
// heartbeats, RESUME → RESUMED, dispatched events), served on 127.0.0.1.
//
// The real discordgo client is pointed at it by giving its session the
// http.Client from Server.Client, whose transport sends every request,
// whatever its host, to the fake; the fake's /gateway answers with its own
// websocket URL. The fake records every request (with its Authorization
// header), every frame the client sends on the gateway and everything the
// bot posted, so a test can check what the bot did and that its token went
// nowhere else. It never touches the network beyond loopback.
//
// For attack tests: Dispatch takes a json.RawMessage payload as is (a
// malformed frame: "null", "[]", a string); ReplayOnResume makes the next
// RESUME deliver events again; GET /channels/{id} answers the channels
// given to AddChannel (and the DM channels the bot opened), 404 otherwise,
// so what a channel is comes from the fake, not from the event; GET
// /guilds/{id} likewise answers the guilds given to AddGuild.
package discordtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
)

// Options configure a Server. Zero fields get defaults.
type Options struct {
	// Token is the bot token the fake accepts, without the "Bot " prefix.
	// REST requests and gateway IDENTIFY/RESUME with another token are
	// refused (401, close code 4004).
	Token string
	// BotID, BotName and AppID describe the bot user in READY.
	BotID, BotName, AppID string
	// HeartbeatInterval is sent in HELLO; default 1s.
	HeartbeatInterval time.Duration
}

// Request is one HTTP request the fake received. Host is the host the
// client meant to reach (before Client's transport rewrote the URL).
type Request struct {
	Method, Host, Path, Authorization string
	Body                              []byte
}

// SentMessage is a message the bot posted to a channel.
type SentMessage struct {
	ChannelID       string
	Content         string
	AllowedMentions *discordgo.MessageAllowedMentions
	Flags           discordgo.MessageFlags // e.g. SUPPRESS_EMBEDS
}

// Callback is the bot's response to an interaction.
type Callback struct {
	InteractionID, Token string
	Response             discordgo.InteractionResponse
}

// Frame is one frame the client sent on the gateway.
type Frame struct {
	Op   int
	Data json.RawMessage
}

// Server is a fake Discord. Its methods are safe for concurrent use.
type Server struct {
	opts     Options
	ln       net.Listener
	hs       *http.Server
	upgrader websocket.Upgrader

	mu        sync.Mutex
	changed   chan struct{} // closed and replaced on every recorded change
	rec       records
	gw        gateway
	nextID    int64
	dmChannel map[string]string // user id → DM channel id
	channels  map[string]discordgo.Channel
	guilds    map[string]discordgo.Guild
}

// records is what the fake saw and what the bot did.
type records struct {
	requests  []Request
	messages  []SentMessage
	typing    []string
	callbacks []Callback
	commands  []json.RawMessage
	frames    []Frame
}

// New starts a fake Discord on 127.0.0.1. Close stops it.
func New(opts Options) (*Server, error) {
	if opts.BotID == "" {
		opts.BotID = "900000000000000001"
	}
	if opts.BotName == "" {
		opts.BotName = "airlock"
	}
	if opts.AppID == "" {
		opts.AppID = opts.BotID
	}
	if opts.HeartbeatInterval <= 0 {
		opts.HeartbeatInterval = time.Second
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("discordtest: listen: %w", err)
	}
	s := &Server{opts: opts, ln: ln, changed: make(chan struct{}), nextID: 1000,
		dmChannel: make(map[string]string), channels: make(map[string]discordgo.Channel),
		guilds: make(map[string]discordgo.Guild)}
	s.hs = &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.hs.Serve(ln) }()
	return s, nil
}

// Close drops the gateway connection and stops the server.
func (s *Server) Close() error {
	s.DropConnection()
	if err := s.hs.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("discordtest: close: %w", err)
	}
	return nil
}

// URL is the fake's base URL, http://127.0.0.1:port.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() }

// GatewayURL is the websocket URL /gateway hands out.
func (s *Server) GatewayURL() string { return "ws://" + s.ln.Addr().String() + "/ws/" }

// BotID is the bot user's id.
func (s *Server) BotID() string { return s.opts.BotID }

// Client returns an http.Client whose transport sends every request to the
// fake, keeping the original host in the Host header. It uses no proxy.
func (s *Server) Client() *http.Client {
	target, _ := url.Parse(s.URL())
	base := &http.Transport{Proxy: nil, DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext}
	return &http.Client{Transport: rewriter{target: target, base: base}, Timeout: 20 * time.Second}
}

type rewriter struct {
	target *url.URL
	base   http.RoundTripper
}

func (r rewriter) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(req.Context())
	out.Host = req.URL.Host
	out.URL.Scheme, out.URL.Host = r.target.Scheme, r.target.Host
	return r.base.RoundTrip(out)
}

// Wait blocks until cond reports true or ctx ends. cond is called without
// the Server's lock held, after every recorded change, so it may call the
// Server's accessors.
func (s *Server) Wait(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("discordtest: wait: %w", ctx.Err())
		}
	}
}

// notifyLocked wakes the waiters; s.mu must be held.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// AddChannel makes GET /channels/{id} answer ch; a channel the fake does
// not know answers 404. DM channels the bot opens are added by the fake.
func (s *Server) AddChannel(ch discordgo.Channel) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.channels[ch.ID] = ch
}

// AddGuild makes GET /guilds/{id} answer g (its features and, with
// ?with_counts=true, its approximate member count); another guild answers
// 404.
func (s *Server) AddGuild(g discordgo.Guild) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.guilds[g.ID] = g
}

// newIDLocked returns a fresh snowflake-like id; s.mu must be held.
func (s *Server) newIDLocked() string {
	s.nextID++
	return fmt.Sprint(s.nextID)
}
