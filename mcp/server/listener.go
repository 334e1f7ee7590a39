package server

import (
	"io"
	"net"
	"time"

	"github.com/airlockhq/airlock/secure/peercred"
)

// forbiddenResponse is written, unparsed and unbuffered, to a refused peer.
const forbiddenResponse = "HTTP/1.1 403 Forbidden\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"Content-Length: 10\r\n" +
	"Connection: close\r\n" +
	"\r\n" +
	"forbidden\n"

// Limits on how a refused connection is dealt with.
const (
	// maxRefusing bounds the goroutines closing refused connections; beyond
	// it, refused connections are closed at once without a response.
	maxRefusing = 16
	// refuseLinger is how long a refused connection is drained after the
	// 403, so the peer reads the response rather than a reset.
	refuseLinger = 500 * time.Millisecond
	// refuseDrainBytes caps what is read (and discarded) from a refused peer.
	refuseDrainBytes = 64 << 10
)

// guardedListener refuses, at accept time, every peer whose uid is not the
// worker's. Only accepted peers' connections reach net/http.
type guardedListener struct {
	net.Listener
	s *Server
}

// Accept returns the next connection from the worker uid, refusing all
// others along the way. It keeps accepting after a refusal.
func (l *guardedListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		cred, err := peercred.Get(c)
		if err == nil && cred.UID == l.s.cfg.WorkerUID {
			return c, nil
		}
		reason := "peer uid is not the worker's"
		if err != nil {
			cred = peercred.Cred{PID: -1, UID: -1, GID: -1}
			reason = "peer credentials unreadable"
		}
		l.s.refuse(c, cred, reason)
	}
}

// refuse logs and reports the refusal (rate-limited per uid), then answers
// c with 403 and closes it off the accept path. Reporting comes first, so a
// refused peer that got its answer has been audited.
func (s *Server) refuse(c net.Conn, cred peercred.Cred, reason string) {
	if suppressed, report := s.limiter.allow(cred.UID); report {
		s.log.Warn("mcp peer refused", "reason", reason,
			"peer_uid", cred.UID, "peer_pid", cred.PID, "peer_gid", cred.GID, "suppressed", suppressed)
		if s.cfg.OnRefused != nil {
			s.cfg.OnRefused(Refusal{Cred: cred, Reason: reason, Suppressed: suppressed})
		}
	}
	select {
	case s.refusing <- struct{}{}:
		go func() {
			defer func() { <-s.refusing }()
			writeForbidden(c)
		}()
	default:
		c.Close()
	}
}

// writeForbidden waits for the peer to start sending, writes the 403,
// half-closes, and drains what the peer sent (without parsing it) until it
// hangs up, each step bounded by refuseLinger.
//
// Both waits matter to HTTP clients: Go's client drops a response that
// arrives before it has begun writing its request ("unsolicited response on
// idle channel"), and closing a Unix socket with unread data makes the
// peer's next read fail with ECONNRESET instead of returning our response.
func writeForbidden(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(refuseLinger))
	var first [512]byte
	c.Read(first[:])
	c.SetDeadline(time.Now().Add(refuseLinger))
	if _, err := io.WriteString(c, forbiddenResponse); err != nil {
		return
	}
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	io.Copy(io.Discard, io.LimitReader(c, refuseDrainBytes))
}
