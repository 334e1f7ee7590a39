package admin

import (
	"context"
	"log"
	"net"
	"net/http"
	"sync"
	"time"
)

// Limits bound the HTTP server's connections.
type Limits struct {
	// MaxConns caps the connections that serve every route.
	MaxConns int
	// Reserve more connections are accepted beyond MaxConns; they serve
	// only /healthz and /readyz (anything else gets a 503) and close
	// after one request, so that health checks are answered while slow
	// clients hold every ordinary slot.
	Reserve int
	// ReserveLifetime bounds a reserve connection, headers included.
	ReserveLifetime time.Duration
	// ReadHeaderTimeout and IdleTimeout are http.Server's.
	ReadHeaderTimeout time.Duration
	IdleTimeout       time.Duration
}

func (l Limits) withDefaults() Limits {
	if l.MaxConns <= 0 {
		l.MaxConns = 256
	}
	if l.Reserve <= 0 {
		l.Reserve = max(4, l.MaxConns/16)
	}
	if l.ReserveLifetime <= 0 {
		l.ReserveLifetime = 5 * time.Second
	}
	if l.ReadHeaderTimeout <= 0 {
		l.ReadHeaderTimeout = 10 * time.Second
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = 2 * time.Minute
	}
	return l
}

// NewHTTPServer returns the http.Server for h, and ln wrapped with the
// connection cap of lim: serve the returned listener. Request bodies are
// read under the handler's own deadline (Deps.BodyReadTimeout), not the
// server's ReadTimeout, which would also cut event streams.
func NewHTTPServer(h http.Handler, ln net.Listener, lim Limits, errorLog *log.Logger) (*http.Server, net.Listener) {
	lim = lim.withDefaults()
	srv := &http.Server{
		Addr:              ln.Addr().String(),
		Handler:           h,
		ReadHeaderTimeout: lim.ReadHeaderTimeout,
		IdleTimeout:       lim.IdleTimeout,
		ErrorLog:          errorLog,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if lc, ok := c.(*limitedConn); ok && lc.reserve {
				return context.WithValue(ctx, reserveConnKey{}, true)
			}
			return ctx
		},
	}
	return srv, newLimitListener(ln, lim)
}

type reserveConnKey struct{}

// onReserveConn reports whether r came on a reserve connection.
func onReserveConn(r *http.Request) bool {
	v, _ := r.Context().Value(reserveConnKey{}).(bool)
	return v
}

// limitListener admits MaxConns ordinary connections and Reserve reserve
// ones; beyond both, Accept waits for a slot (new connections wait in the
// kernel's backlog, using no descriptor here). Whether a connection is an
// ordinary or a reserve one is decided when it is accepted.
type limitListener struct {
	net.Listener
	lim       Limits
	total     chan struct{} // MaxConns+Reserve: every open connection
	slots     chan struct{} // MaxConns: the ordinary ones
	done      chan struct{}
	closeOnce sync.Once
}

func newLimitListener(ln net.Listener, lim Limits) *limitListener {
	return &limitListener{Listener: ln, lim: lim, total: make(chan struct{}, lim.MaxConns+lim.Reserve),
		slots: make(chan struct{}, lim.MaxConns), done: make(chan struct{})}
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.total <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.total
		return nil, err
	}
	lc := &limitedConn{Conn: c}
	select {
	case l.slots <- struct{}{}:
		lc.release = func() { <-l.slots; <-l.total }
	default:
		// Every ordinary slot is taken, so a reserve one is free.
		lc.reserve, lc.hard = true, time.Now().Add(l.lim.ReserveLifetime)
		lc.release = func() { <-l.total }
		_ = c.SetDeadline(lc.hard)
	}
	return lc, nil
}

func (l *limitListener) Close() error {
	err := l.Listener.Close()
	l.closeOnce.Do(func() { close(l.done) })
	return err
}

// limitedConn gives its slot back when closed. A reserve connection's
// deadlines never go past its hard limit, whatever the server sets.
type limitedConn struct {
	net.Conn
	reserve bool
	hard    time.Time
	release func()
	once    sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

func (c *limitedConn) clamp(t time.Time) time.Time {
	if c.reserve && (t.IsZero() || t.After(c.hard)) {
		return c.hard
	}
	return t
}

func (c *limitedConn) SetDeadline(t time.Time) error     { return c.Conn.SetDeadline(c.clamp(t)) }
func (c *limitedConn) SetReadDeadline(t time.Time) error { return c.Conn.SetReadDeadline(c.clamp(t)) }
func (c *limitedConn) SetWriteDeadline(t time.Time) error {
	return c.Conn.SetWriteDeadline(c.clamp(t))
}
