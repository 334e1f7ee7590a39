package discordtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/gorilla/websocket"
)

// writeTimeout bounds one gateway write.
const writeTimeout = 5 * time.Second

// gateway is the state of the fake gateway; guarded by Server.mu.
type gateway struct {
	conn      *websocket.Conn // the current client connection, if any
	ready     bool            // conn has a READY or RESUMED session
	sessionID string
	seq       int64
	sessions  int
	pending   []event // dispatched while no session was ready
	// sent are the events delivered on the current session, the latest
	// last (at most maxSent); replay of them are resent after the next
	// RESUMED, as Discord may after a resume.
	sent   []event
	replay int

	identifies, resumes, heartbeats int
}

type event struct {
	Type string
	Data json.RawMessage
}

type frameIn struct {
	Op   int             `json:"op"`
	Data json.RawMessage `json:"d"`
}

type authData struct {
	Token     string `json:"token"`
	SessionID string `json:"session_id"`
}

// serveGateway upgrades to a websocket, says HELLO and serves the client
// until it or DropConnection closes the connection. A new connection
// replaces the old one.
func (s *Server) serveGateway(w http.ResponseWriter, r *http.Request) {
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	s.mu.Lock()
	if s.gw.conn != nil {
		s.gw.conn.Close()
	}
	s.gw.conn, s.gw.ready = ws, false
	hello := map[string]any{"op": 10, "d": map[string]any{"heartbeat_interval": s.opts.HeartbeatInterval.Milliseconds()}}
	err = writeFrame(ws, hello)
	s.mu.Unlock()
	if err == nil {
		s.readLoop(ws)
	}
	s.disconnect(ws)
}

func (s *Server) readLoop(ws *websocket.Conn) {
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		var f frameIn
		if json.Unmarshal(data, &f) != nil {
			return
		}
		s.mu.Lock()
		s.rec.frames = append(s.rec.frames, Frame(f))
		err = s.handleFrameLocked(ws, f)
		s.notifyLocked()
		s.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// handleFrameLocked answers one client frame; s.mu must be held.
func (s *Server) handleFrameLocked(ws *websocket.Conn, f frameIn) error {
	switch f.Op {
	case 1: // heartbeat
		s.gw.heartbeats++
		return writeFrame(ws, map[string]any{"op": 11})
	case 2: // identify
		return s.identifyLocked(ws, f.Data)
	case 6: // resume
		return s.resumeLocked(ws, f.Data)
	}
	return nil
}

func (s *Server) identifyLocked(ws *websocket.Conn, data json.RawMessage) error {
	var a authData
	if json.Unmarshal(data, &a) != nil || !s.validToken(a.Token) {
		return closeWith(ws, 4004, "Authentication failed.")
	}
	s.gw.identifies++
	s.gw.sessions++
	s.gw.sessionID = fmt.Sprintf("fake-session-%d", s.gw.sessions)
	s.gw.seq, s.gw.sent = 0, nil
	ready := map[string]any{
		"v": 10, "session_id": s.gw.sessionID, "user": s.botUser(),
		"application": map[string]any{"id": s.opts.AppID, "flags": 0},
		"guilds":      []any{}, "private_channels": []any{}, "resume_gateway_url": s.GatewayURL(),
	}
	return s.startLocked(ws, "READY", ready)
}

func (s *Server) resumeLocked(ws *websocket.Conn, data json.RawMessage) error {
	var a authData
	if json.Unmarshal(data, &a) != nil || !s.validToken(a.Token) {
		return closeWith(ws, 4004, "Authentication failed.")
	}
	if a.SessionID == "" || a.SessionID != s.gw.sessionID {
		return writeFrame(ws, map[string]any{"op": 9, "d": false})
	}
	s.gw.resumes++
	if n := min(s.gw.replay, len(s.gw.sent)); n > 0 {
		s.gw.pending = append(slices.Clone(s.gw.sent[len(s.gw.sent)-n:]), s.gw.pending...)
	}
	s.gw.replay = 0
	return s.startLocked(ws, "RESUMED", map[string]any{})
}

// startLocked sends READY or RESUMED, marks the session ready and delivers
// the events dispatched meanwhile.
func (s *Server) startLocked(ws *websocket.Conn, typ string, data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return err
	}
	s.gw.seq++
	if err := writeFrame(ws, dispatchFrame(s.gw.seq, typ, raw)); err != nil {
		return err
	}
	s.gw.ready = true
	pending := s.gw.pending
	s.gw.pending = nil
	for _, ev := range pending {
		s.dispatchLocked(ev)
	}
	return nil
}

// dispatchLocked sends ev on the ready session, or queues it until there
// is one; s.mu must be held.
func (s *Server) dispatchLocked(ev event) {
	ws := s.gw.conn
	if ws == nil || !s.gw.ready {
		s.gw.pending = append(s.gw.pending, ev)
		return
	}
	s.gw.seq++
	if err := writeFrame(ws, dispatchFrame(s.gw.seq, ev.Type, ev.Data)); err != nil {
		ws.Close()
		s.gw.conn, s.gw.ready = nil, false
		s.gw.pending = append(s.gw.pending, ev)
		return
	}
	s.gw.sent = append(s.gw.sent, ev)
	if len(s.gw.sent) > maxSent {
		s.gw.sent = slices.Delete(s.gw.sent, 0, len(s.gw.sent)-maxSent)
	}
}

// maxSent caps the delivered events the fake keeps for ReplayOnResume.
const maxSent = 100

// ReplayOnResume makes the next RESUME replay the last n events already
// delivered on the session (at most 100) before the ones queued meanwhile,
// as Discord may do: the client sees those events twice.
func (s *Server) ReplayOnResume(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gw.replay = n
}

// DropConnection closes the gateway connection abruptly, without a close
// frame, as a network failure would. The session can be resumed.
func (s *Server) DropConnection() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gw.conn != nil {
		s.gw.conn.Close()
		s.gw.conn, s.gw.ready = nil, false
		s.notifyLocked()
	}
}

// disconnect forgets ws if it is still the current connection.
func (s *Server) disconnect(ws *websocket.Conn) {
	ws.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gw.conn == ws {
		s.gw.conn, s.gw.ready = nil, false
		s.notifyLocked()
	}
}

func (s *Server) validToken(t string) bool {
	return t == "Bot "+s.opts.Token
}

func dispatchFrame(seq int64, typ string, data json.RawMessage) map[string]any {
	return map[string]any{"op": 0, "s": seq, "t": typ, "d": data}
}

func writeFrame(ws *websocket.Conn, v any) error {
	_ = ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	return ws.WriteJSON(v)
}

// closeWith closes ws with a gateway close code and returns an error so
// that the read loop ends.
func closeWith(ws *websocket.Conn, code int, text string) error {
	msg := websocket.FormatCloseMessage(code, text)
	_ = ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(writeTimeout))
	return fmt.Errorf("discordtest: closed with %d", code)
}
