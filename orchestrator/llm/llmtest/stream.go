package llmtest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"time"
	"unicode/utf8"
)

// pieceBytes is the most bytes of text or tool arguments one stream event
// carries, so that any reply of some length arrives in several pieces.
const pieceBytes = 8

// sseEvent is one server-sent event. data is sent as JSON, except a
// string, which is sent as is ("[DONE]").
type sseEvent struct {
	name string // the event field; "" for none
	data any
}

// SetChunkDelay sets the delay slept before every event of a streamed
// answer after the first, for replies that do not set their own
// ChunkDelay; 0 (the default) means none.
func (s *Server) SetChunkDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chunkDelay = d
}

// writeStream sends evs as a text/event-stream answer, flushing after each
// event and sleeping the chunk delay between them. It stops early when the
// client goes away, the server closes or r.StreamCut events have been sent.
func (s *Server) writeStream(ctx context.Context, w http.ResponseWriter, evs []sseEvent, r Reply) {
	delay := r.ChunkDelay
	if delay <= 0 {
		s.mu.Lock()
		delay = s.chunkDelay
		s.mu.Unlock()
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	var b bytes.Buffer
	for i, ev := range evs {
		if r.StreamCut > 0 && i >= r.StreamCut {
			return
		}
		if i > 0 && s.wait(ctx, delay) != nil {
			return
		}
		b.Reset()
		if ev.name != "" {
			b.WriteString("event: " + ev.name + "\n")
		}
		data, ok := ev.data.(string)
		if !ok {
			j, _ := json.Marshal(ev.data)
			data = string(j)
		}
		b.WriteString("data: " + data + "\n\n")
		if _, err := w.Write(b.Bytes()); err != nil {
			return
		}
		_ = rc.Flush()
	}
}

// pieces cuts s into parts of at most pieceBytes bytes (more only to keep
// a rune whole); "" has none.
func pieces(s string) []string {
	var out []string
	for len(s) > 0 {
		n := min(pieceBytes, len(s))
		for n < len(s) && !utf8.RuneStart(s[n]) {
			n++
		}
		out = append(out, s[:n])
		s = s[n:]
	}
	return out
}
