package sandbox

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"

	"github.com/airlockhq/airlock/secure/confine"
)

// The pipe protocol is JSON lines. The child says "ready" once it has set
// its limits and warmed up. The parent writes one job to the child's
// stdin; the child answers on stdout with any number of "http" messages,
// each answered by one httpReply on stdin, then exactly one "result" or
// "error" message, and exits.

// job is what the child runs: the request, its JSON-encoded arguments and
// the limits the child enforces itself.
type job struct {
	Name        string          `json:"name"`
	Source      string          `json:"source"`
	Function    string          `json:"function,omitempty"`
	Args        json.RawMessage `json:"args"`
	Kwargs      json.RawMessage `json:"kwargs"`
	Secrets     []string        `json:"secrets,omitempty"`
	Placeholder string          `json:"placeholder"`
	Limits      Limits          `json:"limits"`
}

// Child-to-parent message types.
const (
	msgReady  = "ready"
	msgHTTP   = "http"
	msgResult = "result"
	msgError  = "error"
)

// childMsg is one line the child writes.
type childMsg struct {
	Type   string          `json:"type"`
	ID     int             `json:"id,omitempty"`
	HTTP   *HTTPRequest    `json:"http,omitempty"`
	Value  json.RawMessage `json:"value,omitempty"`
	Output string          `json:"output,omitempty"`
	Steps  uint64          `json:"steps,omitempty"`
	Error  *Error          `json:"error,omitempty"`
	// Confinement rides on the ready message: what the child could lock.
	Confinement *confine.Report `json:"confinement,omitempty"`
}

// httpReply answers one http message.
type httpReply struct {
	ID       int           `json:"id"`
	Response *HTTPResponse `json:"response,omitempty"`
	Error    string        `json:"error,omitempty"`
}

// HTTPRequest is one HTTP request a script makes. URL, header values and
// body may hold secret placeholders; the parent's HTTPFunc resolves them.
type HTTPRequest struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"`
}

// HTTPResponse is what the script sees of a response.
type HTTPResponse struct {
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"`
}

// HTTPFunc performs a script's HTTP request on its behalf; it runs in the
// parent. The child never touches the network.
type HTTPFunc func(ctx context.Context, r HTTPRequest) (HTTPResponse, error)

var errLineTooLong = errors.New("sandbox: protocol line too long")

// readLine reads one newline-terminated line of at most max bytes.
func readLine(r *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(line)+len(chunk) > max {
			return nil, errLineTooLong
		}
		line = append(line, chunk...)
		switch {
		case err == nil:
			return line, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(line) > 0:
			return nil, io.ErrUnexpectedEOF
		default:
			return nil, err
		}
	}
}

// lineWriter writes JSON lines; safe for concurrent use.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (lw *lineWriter) write(v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // results stay as the script made them
	if err := enc.Encode(v); err != nil {
		return err
	}
	lw.mu.Lock()
	defer lw.mu.Unlock()
	_, err := lw.w.Write(b.Bytes())
	return err
}
