package server

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"

	"github.com/mark3labs/mcp-go/mcp"
)

// The tools/call fast path (issue 13, item 4).
//
// mcp-go's StreamableHTTPServer serves every POST the same way: it parses
// the media type, decodes the body three times before the message is
// handled (response detection, protocol era, request id), builds an
// ephemeral session with its maps and channels, and starts a goroutine that
// forwards in-call notifications. For a stateless server with streaming
// disabled, a tools/call of a legacy-era client needs none of that: the
// answer is MCPServer.HandleMessage's JSON, as the streamable server would
// write it. In-call notifications are dropped either way (streaming is
// disabled), and the SPEC has tool results carry everything.
//
// fastToolCall takes only requests it can answer exactly as the streamable
// server would; everything else (initialize, notifications, responses,
// tools/list, GET, DELETE, protocol version 2026-07-28 or an unknown one,
// another media type, a body that is not a JSON-RPC request with an id)
// goes to mcp-go unchanged. It runs after the guard's checks (peer
// credentials, Origin/Referer, Host, path, body cap), never instead of them.

// fastPeek is what fastToolCall decodes to decide: one pass over the body,
// mirroring the fields mcp-go's streamable server looks at. A body that
// mentions "_meta" anywhere is left to mcp-go, which decides from it
// whether the request belongs to protocol version 2026-07-28.
type fastPeek struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Method  string          `json:"method"`
	Result  json.RawMessage `json:"result"`
	Error   json.RawMessage `json:"error"`
}

var metaKey = []byte(`"_meta"`)

// fastToolCall answers r if it is a tools/call it can serve directly and
// reports whether it did. If it did not, r.Body still holds the whole body
// for the next handler.
func (s *Server) fastToolCall(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" ||
		r.Header.Get(mcp.HeaderLastEventID) != "" {
		return false
	}
	version := r.Header.Get(mcp.HeaderProtocolVersion)
	if version != "" && (!mcp.IsValidProtocolVersion(version) || mcp.IsModernProtocol(version)) {
		return false
	}
	body, err := readBody(r)
	if err != nil {
		// Over the cap, or the connection broke: let mcp-go report it as it
		// does (the MaxBytesReader has already failed, so it fails again).
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{err}))
		return false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if bytes.Contains(body, metaKey) {
		return false
	}
	var peek fastPeek
	if json.Unmarshal(body, &peek) != nil || peek.JSONRPC != mcp.JSONRPC_VERSION ||
		peek.Method != string(mcp.MethodToolsCall) || !isRequestID(peek.ID) ||
		peek.Result != nil || peek.Error != nil {
		return false
	}
	resp := s.mcp.HandleMessage(r.Context(), body)
	if r.Context().Err() != nil {
		// The client is gone or the server is shutting down: no answer, as
		// from mcp-go; the guard aborts the connection.
		return true
	}
	if resp == nil {
		w.WriteHeader(http.StatusAccepted)
		return true
	}
	out, err := json.Marshal(resp)
	if err != nil {
		s.log.Error("mcp: encode tools/call response", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return true
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(append(out, '\n'))
	return true
}

// isRequestID reports whether raw is a JSON-RPC request id: a string or a
// number (not null, absent, an object or an array).
func isRequestID(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return false
	}
	switch c := raw[0]; {
	case c == '"', c == '-', c >= '0' && c <= '9':
		return true
	}
	return false
}

// readBody reads r's whole body (already capped by the guard), in one
// allocation when its length is known.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	if n := r.ContentLength; n >= 0 {
		buf := make([]byte, n)
		read, err := io.ReadFull(r.Body, buf)
		return buf[:read], err
	}
	return io.ReadAll(r.Body)
}

// errReader fails every read with err.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
