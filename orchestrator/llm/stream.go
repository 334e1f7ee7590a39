package llm

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
)

// wire is one provider's answer format.
type wire struct {
	// parse decodes a whole answer.
	parse func(data []byte) (Response, error)
	// newStream returns a decoder for one streamed answer that passes the
	// reply text on to emit as it arrives.
	newStream func(c *Client, emit func(string)) streamDecoder
}

// streamDecoder assembles one streamed answer from its server-sent events.
type streamDecoder interface {
	// event takes the data of one event and reports whether it ended the
	// stream. An error event of the provider is an *APIError.
	event(data []byte) (end bool, err error)
	// response returns the assembled answer once the stream has ended.
	response() (Response, error)
}

// call encodes the provider request v, sends it with header h (to which it
// adds the content headers) and decodes the answer: whole when onText is
// nil, else streamed to onText.
func (c *Client) call(ctx context.Context, v any, h http.Header, onText func(string), w wire) (Response, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return Response{}, fmt.Errorf("llm: %s: encode request: %w", c.cfg.Provider, err)
	}
	h.Set("Content-Type", "application/json")
	if onText == nil {
		h.Set("Accept", "application/json")
		data, err := c.post(ctx, body, h)
		if err != nil {
			return Response{}, err
		}
		return w.parse(data)
	}
	h.Set("Accept", "text/event-stream")
	return c.stream(ctx, body, h, onText, w)
}

// stream sends body like post and decodes the answer as it arrives, with a
// fresh decoder per attempt. Once some text has gone to onText, a failure
// is not retried: the caller has shown it.
func (c *Client) stream(ctx context.Context, body []byte, h http.Header, onText func(string), w wire) (Response, error) {
	delivered := false
	emit := func(s string) {
		if s != "" {
			delivered = true
			onText(s)
		}
	}
	var resp Response
	err := c.send(ctx, body, h, func(hr *http.Response) *attemptError {
		var ae *attemptError
		resp, ae = c.readStream(hr, w, emit)
		if ae != nil && delivered {
			ae.retry = false
		}
		return ae
	})
	return resp, err
}

// readStream decodes one streamed 2xx answer, reading at most
// maxResponseBody bytes of it in total. An answer in plain JSON (a server
// that ignored the stream request) is decoded whole.
func (c *Client) readStream(hr *http.Response, w wire, emit func(string)) (Response, *attemptError) {
	body := &cappedReader{r: hr.Body, limit: maxResponseBody}
	if mt, _, _ := mime.ParseMediaType(hr.Header.Get("Content-Type")); mt == "application/json" {
		data, err := io.ReadAll(body)
		if err != nil {
			return Response{}, c.readError(err)
		}
		resp, err := w.parse(data)
		if err != nil {
			return Response{}, &attemptError{err: err}
		}
		emit(resp.Message.Content)
		return resp, nil
	}
	d := w.newStream(c, emit)
	if ae := c.readEvents(body, d.event); ae != nil {
		return Response{}, ae
	}
	resp, err := d.response()
	if err != nil {
		return Response{}, &attemptError{err: err}
	}
	return resp, nil
}

// readEvents reads server-sent events from r and passes the data of each
// (its data lines joined by newlines; events without data, comments and
// other fields are skipped) to fn until fn reports the end. A stream that
// stops before is a retryable failure, as is a read error other than the
// size cap; an error from fn is retried only if it is an *APIError with a
// retryable status.
func (c *Client) readEvents(r io.Reader, fn func(data []byte) (bool, error)) *attemptError {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxResponseBody+2) // the cap on r bounds every line
	var data []byte
	has := false
	dispatch := func() (bool, *attemptError) {
		if !has {
			return false, nil
		}
		end, err := fn(data)
		data, has = data[:0], false
		if err != nil {
			var ae *APIError
			return false, &attemptError{err: err, retry: errors.As(err, &ae) && retryableStatus(ae.Status)}
		}
		return end, nil
	}
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			if end, ae := dispatch(); end || ae != nil {
				return ae
			}
			continue
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		if string(field) != "data" {
			continue
		}
		if has {
			data = append(data, '\n')
		}
		data = append(data, bytes.TrimPrefix(value, []byte(" "))...)
		has = true
	}
	if err := sc.Err(); err != nil {
		return c.readError(err)
	}
	if end, ae := dispatch(); end || ae != nil { // a last event without its blank line
		return ae
	}
	return &attemptError{err: fmt.Errorf("llm: %s: stream ended before its end event", c.cfg.Provider), retry: true}
}

// streamError turns the data of an error event inside a stream into an
// *APIError. Its Status is the one the provider answers with for the same
// error type outside a stream, so that retries follow the same rules; 0
// when the type is unknown.
func (c *Client) streamError(data []byte) *APIError {
	typ, _ := parseErrorBody(data)
	e := c.apiError(streamErrorStatus(typ), data)
	e.Stream = true
	return e
}

// streamErrorStatus maps a provider error type to its HTTP status.
func streamErrorStatus(typ string) int {
	switch typ {
	case "overloaded_error":
		return 529
	case "rate_limit_error", "rate_limit_exceeded":
		return http.StatusTooManyRequests
	case "api_error", "server_error":
		return http.StatusInternalServerError
	case "timeout_error":
		return http.StatusGatewayTimeout
	case "invalid_request_error":
		return http.StatusBadRequest
	case "authentication_error":
		return http.StatusUnauthorized
	case "permission_error":
		return http.StatusForbidden
	}
	return 0
}
