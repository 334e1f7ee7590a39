package admin

import (
	"context"
	"net/http"
	"time"
)

// maxBackgroundPosts caps the chat replies written for chat.js at a time,
// over all conversations (each conversation has at most one). The web chat
// is the admins' own, so this is far below the worker's task cap; it
// bounds what a stolen session can start, not the assistant's throughput
// (Discord and the API are not counted here).
const maxBackgroundPosts = 64

// background runs work that outlives its request: start runs now, under
// the request's context, and may refuse; the function it returns then runs
// in a goroutine under the server's lifetime context, which Close cancels.
// Past the cap of background slots the request is refused with a 429.
func (s *Server) background(ctx context.Context, start func(context.Context) (func(context.Context), error)) error {
	select {
	case s.slots <- struct{}{}:
	default:
		return &httpError{Code: http.StatusTooManyRequests, retryAfter: 5 * time.Second,
			Msg: "too many replies are being written at once; try again in a moment"}
	}
	run, err := start(ctx)
	if err != nil {
		<-s.slots
		return err
	}
	s.wg.Add(1)
	go func() {
		defer func() { <-s.slots; s.wg.Done() }()
		run(s.life)
	}()
	return nil
}

// Close cancels the work that outlived its request (a chat reply being
// written is cancelled and stored as failed) and waits for it to end. Call
// it once the HTTP server has shut down, before the store closes.
func (s *Server) Close() {
	s.stop()
	s.wg.Wait()
}
