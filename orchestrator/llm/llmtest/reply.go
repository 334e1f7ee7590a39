package llmtest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/airlockhq/airlock/internal/utf8cut"
	"github.com/airlockhq/airlock/mcp/tools"
)

// Call is one tool call in a scripted reply.
type Call struct {
	// ID is the call id; empty means a generated one.
	ID   string `json:"id,omitempty"`
	Name string `json:"name"`
	// Args is marshalled to JSON; nil means {}. A Go string is taken as raw
	// JSON text, so a test can script malformed arguments ("{oops").
	Args any `json:"args,omitempty"`
}

// Reply is one scripted answer.
type Reply struct {
	Text      string `json:"text,omitempty"`
	ToolCalls []Call `json:"tool_calls,omitempty"`
	// Status, when 400 or more, makes the server answer with that HTTP
	// status and a provider-format error body whose message is Text (or a
	// default). 0 means 200.
	Status int `json:"status,omitempty"`
	// RetryAfter, when set, is sent as the Retry-After header.
	RetryAfter string `json:"retry_after,omitempty"`
	// Delay is slept before answering (nanoseconds in JSON). It ends early
	// when the client goes away or the server closes.
	Delay time.Duration `json:"delay,omitempty"`
	// Token counts reported in usage; 0 means len(request body)/4 and
	// len(Text)/4.
	// With InputTokens 0, the cache counts are those of the simulated
	// prompt cache (see cache.go) and InputTokens is the rest of the
	// request's tokens (Anthropic's input_tokens excludes cached ones;
	// OpenAI's prompt_tokens includes them). A set InputTokens reports
	// CacheReadTokens and CacheWriteTokens as given.
	InputTokens      int `json:"input_tokens,omitempty"`
	OutputTokens     int `json:"output_tokens,omitempty"`
	CacheReadTokens  int `json:"cache_read_tokens,omitempty"`
	CacheWriteTokens int `json:"cache_write_tokens,omitempty"`
	// StopReason overrides the provider stop reason (finish_reason or
	// stop_reason); empty means the natural one for the reply.
	StopReason string `json:"stop_reason,omitempty"`
	// ChunkDelay, for a streamed answer, is slept before every event after
	// the first (nanoseconds in JSON); 0 means the Server's (SetChunkDelay).
	ChunkDelay time.Duration `json:"chunk_delay,omitempty"`
	// StreamCut, when positive, ends a streamed answer after that many
	// events, without its end event, as a dropped connection would.
	StreamCut int `json:"stream_cut,omitempty"`
}

// RecordedRequest is one request the server received, raw and parsed into
// the provider-neutral view.
type RecordedRequest struct {
	Provider string      `json:"provider"` // "openai" or "anthropic"
	Path     string      `json:"path"`
	Header   http.Header `json:"header"`
	Body     []byte      `json:"body"`
	// The parsed view; empty if the body did not parse.
	Model     string          `json:"model"`
	Stream    bool            `json:"stream,omitempty"` // the request asked for server-sent events
	System    string          `json:"system"`
	Messages  []tools.Message `json:"messages"`
	ToolNames []string        `json:"tool_names"`
	// CacheBreakpoints are the places that carried an Anthropic
	// cache_control, in request order: "tools[3]", "system[0]",
	// "messages[4].content[0]".
	CacheBreakpoints []string `json:"cache_breakpoints,omitempty"`

	includeUsage bool      // OpenAI stream_options.include_usage
	segments     []segment // for the simulated prompt cache
	segmentKeys  []string
}

// dialect is one provider's wire format.
type dialect struct {
	name     string
	parse    func(body []byte, rec *RecordedRequest) error
	write    func(w http.ResponseWriter, rec RecordedRequest, r Reply, seq int)
	events   func(rec RecordedRequest, r Reply, seq int) []sseEvent // a streamed answer
	writeErr func(w http.ResponseWriter, status int, msg string)
}

func (s *Server) serveLLM(d dialect) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxLLMBody))
		if err != nil {
			d.writeErr(w, http.StatusRequestEntityTooLarge, "llmtest: read body: "+err.Error())
			return
		}
		rec := RecordedRequest{Provider: d.name, Path: r.URL.Path, Header: r.Header.Clone(), Body: body}
		parseErr := d.parse(body, &rec)
		resolveToolNames(rec.Messages)
		seq := s.record(rec)
		if parseErr != nil {
			d.writeErr(w, http.StatusBadRequest, "llmtest: "+parseErr.Error())
			return
		}
		reply := s.next(rec)
		if s.wait(r.Context(), reply.Delay) != nil {
			return
		}
		if reply.RetryAfter != "" {
			w.Header().Set("Retry-After", reply.RetryAfter)
		}
		if reply.Status >= 400 {
			msg := reply.Text
			if msg == "" {
				msg = "fake error " + http.StatusText(reply.Status)
			}
			d.writeErr(w, reply.Status, msg)
			return
		}
		s.fillUsage(&reply, &rec)
		if rec.Stream {
			s.writeStream(r.Context(), w, d.events(rec, reply, seq), reply)
			return
		}
		d.write(w, rec, reply, seq)
	}
}

func (s *Server) fillUsage(r *Reply, rec *RecordedRequest) {
	if r.InputTokens == 0 {
		s.mu.Lock()
		read, write, total := s.cache.usage(rec)
		s.mu.Unlock()
		r.CacheReadTokens, r.CacheWriteTokens = read, write
		r.InputTokens = total
		if rec.Provider == anthropic.name {
			r.InputTokens = total - read - write
		}
	}
	if r.OutputTokens == 0 {
		r.OutputTokens = len(r.Text) / 4
	}
}

// defaultReply answers the last user message, or the last tool result.
func defaultReply(rec RecordedRequest) Reply {
	msgs := rec.Messages
	if n := len(msgs); n > 0 && msgs[n-1].Role == tools.RoleTool {
		last := msgs[n-1]
		return Reply{Text: "fake reply after " + last.ToolName + ": " + truncate(last.Content, 200)}
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == tools.RoleUser {
			return Reply{Text: "fake reply: " + msgs[i].Content}
		}
	}
	return Reply{Text: "fake reply: "}
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	return utf8cut.Prefix(s, n)
}

// resolveToolNames fills ToolName of tool messages from the assistant call
// with the same id.
func resolveToolNames(msgs []tools.Message) {
	names := map[string]string{}
	for i, m := range msgs {
		for _, c := range m.ToolCalls {
			names[c.ID] = c.Name
		}
		if m.Role == tools.RoleTool && m.ToolName == "" {
			msgs[i].ToolName = names[m.ToolCallID]
		}
	}
}

// argsJSON renders a Call's arguments as JSON text (possibly invalid, when
// the test scripted a malformed string).
func argsJSON(a any) string {
	switch v := a.(type) {
	case nil:
		return "{}"
	case string:
		return v
	case json.RawMessage:
		return string(v)
	}
	b, err := json.Marshal(a)
	if err != nil {
		return "{}"
	}
	return string(b)
}

// argsRaw turns wire argument text into a RawMessage that is always valid
// JSON: "" becomes {}, invalid text becomes a JSON string.
func argsRaw(s string) json.RawMessage {
	if strings.TrimSpace(s) == "" {
		return json.RawMessage("{}")
	}
	if json.Valid([]byte(s)) {
		return json.RawMessage(s)
	}
	b, _ := json.Marshal(s)
	return b
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// textOf joins a content value that is a string, null, or an array of
// {"type":"text","text":...} parts.
func textOf(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if raw[0] == '"' {
		err := json.Unmarshal(raw, &s)
		return s, err
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(raw, &parts); err != nil {
		return "", err
	}
	var b strings.Builder
	for _, p := range parts {
		if p.Type == "text" {
			b.WriteString(p.Text)
		}
	}
	return b.String(), nil
}
