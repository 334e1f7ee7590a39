package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/airlockhq/airlock/orchestrator/llm/llmtest"
	"github.com/airlockhq/airlock/secure/redact"
)

// deltas collects what CompleteStream hands to onText.
type deltas struct {
	mu sync.Mutex
	ds []string
}

func (d *deltas) add(s string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ds = append(d.ds, s)
}

func (d *deltas) got() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.ds...)
}

func (d *deltas) text() string { return strings.Join(d.got(), "") }

// TestStreamMatchesComplete: for the same scripted reply, the streamed
// call returns exactly what the whole one does, and the text arrives in
// several pieces that join to the reply text.
func TestStreamMatchesComplete(t *testing.T) {
	replies := map[string]llmtest.Reply{
		"text": {Text: "Hello there, this is a reply long enough to come in many pieces. Ünïcödé ✓ too.",
			InputTokens: 31, OutputTokens: 17},
		"tool calls": {Text: "let me look", InputTokens: 12, OutputTokens: 9, ToolCalls: []llmtest.Call{
			{ID: "call_a", Name: "memory_read"},
			{ID: "call_b", Name: "workspace_write", Args: map[string]string{"path": "notes/a<b>.txt", "content": "line one\nline \"two\" & more"}},
			{ID: "call_c", Name: "chat_send", Args: "{broken"},
		}},
		"tool call only": {OutputTokens: 3, InputTokens: 4, ToolCalls: []llmtest.Call{
			{ID: "c9", Name: "workspace_read", Args: `{"path": "spaced out.txt"}`}}},
		"stop override": {Text: "cut sho", StopReason: "length", InputTokens: 5, OutputTokens: 4096},
		"empty":         {InputTokens: 1, OutputTokens: 1},
	}
	for _, p := range []string{ProviderOpenAI, ProviderAnthropic} {
		for name, reply := range replies {
			t.Run(p+"/"+name, func(t *testing.T) {
				s := newFake(t)
				c, _ := newTestClient(t, p, s)
				s.Enqueue(reply, reply)
				whole, err := c.Complete(context.Background(), conversation())
				if err != nil {
					t.Fatal(err)
				}
				var d deltas
				streamed, err := c.CompleteStream(context.Background(), conversation(), d.add)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(streamed, whole) {
					t.Errorf("streamed response\n got %+v\nwant %+v", streamed, whole)
				}
				if d.text() != whole.Message.Content {
					t.Errorf("deltas join to %q, want %q", d.text(), whole.Message.Content)
				}
				if n := len(whole.Message.Content); n > 16 && len(d.got()) < n/8 {
					t.Errorf("text of %d bytes came in %d pieces", n, len(d.got()))
				}
				for _, piece := range d.got() {
					if piece == "" {
						t.Error("empty delta handed to onText")
					}
				}
				reqs := s.Requests()
				if reqs[0].Stream || !reqs[1].Stream {
					t.Errorf("stream flags = %v, %v; want false, true", reqs[0].Stream, reqs[1].Stream)
				}
				if got := reqs[1].Header.Get("Accept"); got != "text/event-stream" {
					t.Errorf("streamed Accept = %q", got)
				}
				if p == ProviderOpenAI && !bytes.Contains(reqs[1].Body, []byte(`"stream_options":{"include_usage":true}`)) {
					t.Errorf("openai stream request without include_usage: %s", reqs[1].Body)
				}
			})
		}
	}
}

// TestStreamRetriedBeforeFirstDelta: a stream that fails before any text
// went out is retried like a whole call.
func TestStreamRetriedBeforeFirstDelta(t *testing.T) {
	for _, p := range []string{ProviderOpenAI, ProviderAnthropic} {
		t.Run(p, func(t *testing.T) {
			s := newFake(t)
			c, sl := newTestClient(t, p, s)
			s.Enqueue(llmtest.Reply{Status: 503}, llmtest.Reply{Text: "never seen", StreamCut: 1},
				llmtest.Reply{Text: "the answer that made it"})
			var d deltas
			resp, err := c.CompleteStream(context.Background(), conversation(), d.add)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Message.Content != "the answer that made it" || d.text() != resp.Message.Content {
				t.Errorf("content %q, deltas %q", resp.Message.Content, d.got())
			}
			if n := len(s.Requests()); n != 3 || len(sl.got()) != 2 {
				t.Errorf("%d requests, %d waits; want 3, 2", n, len(sl.got()))
			}
		})
	}
}

// TestStreamNotRetriedAfterFirstDelta: once text has gone to onText, a
// broken stream is an error, not a second answer.
func TestStreamNotRetriedAfterFirstDelta(t *testing.T) {
	for _, p := range []string{ProviderOpenAI, ProviderAnthropic} {
		t.Run(p, func(t *testing.T) {
			s := newFake(t)
			c, sl := newTestClient(t, p, s)
			s.Enqueue(llmtest.Reply{Text: "half of a long answer that breaks", StreamCut: 5},
				llmtest.Reply{Text: "a second answer"})
			var d deltas
			_, err := c.CompleteStream(context.Background(), conversation(), d.add)
			if err == nil || !strings.Contains(err.Error(), "stream ended before its end event") {
				t.Fatalf("err = %v, want a broken stream error", err)
			}
			if d.text() == "" || !strings.HasPrefix("half of a long answer that breaks", d.text()) {
				t.Errorf("deltas = %q, want a prefix of the first answer", d.got())
			}
			if n := len(s.Requests()); n != 1 || len(sl.got()) != 0 {
				t.Errorf("%d requests, %d waits; want 1, 0", n, len(sl.got()))
			}
		})
	}
}

// sseServer answers every request with the given text/event-stream
// bodies in turn (the last one repeats) and counts the requests.
func sseServer(t *testing.T, bodies ...string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = w.Write([]byte(bodies[min(i, len(bodies)-1)]))
	}))
	t.Cleanup(hs.Close)
	return hs, &n
}

func sseClient(t *testing.T, provider, url string) *Client {
	t.Helper()
	if provider == ProviderOpenAI {
		url += "/v1"
	}
	c, err := New(Config{Provider: provider, BaseURL: url, Model: "m", APIKey: testKey}, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.sleep = (&sleeps{}).sleep
	return c
}

const (
	antHead = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":3}}}\n\n" +
		"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
	antText     = "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n"
	antOverload = "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n"
	antTail     = "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":1}}\n\n" +
		"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
)

// TestStreamErrorEvent: an error event is an *APIError; retried when
// retryable and nothing was shown yet, returned otherwise.
func TestStreamErrorEvent(t *testing.T) {
	t.Run("before text", func(t *testing.T) {
		hs, n := sseServer(t, antHead+antOverload, antHead+antText+antTail)
		var d deltas
		resp, err := sseClient(t, ProviderAnthropic, hs.URL).CompleteStream(context.Background(), conversation(), d.add)
		if err != nil || resp.Message.Content != "Hi" || n.Load() != 2 || d.text() != "Hi" {
			t.Fatalf("resp %+v, err %v after %d requests", resp, err, n.Load())
		}
	})
	t.Run("after text", func(t *testing.T) {
		hs, n := sseServer(t, antHead+antText+antOverload, antHead+antText+antTail)
		var d deltas
		_, err := sseClient(t, ProviderAnthropic, hs.URL).CompleteStream(context.Background(), conversation(), d.add)
		var ae *APIError
		if !errors.As(err, &ae) || !ae.Stream || ae.Status != 529 || ae.Type != "overloaded_error" || ae.Message != "Overloaded" {
			t.Fatalf("err = %#v", err)
		}
		if err.Error() != "llm: anthropic API error in stream overloaded_error: Overloaded" {
			t.Errorf("error text = %q", err)
		}
		if n.Load() != 1 || d.text() != "Hi" {
			t.Errorf("%d requests, deltas %q", n.Load(), d.got())
		}
	})
	t.Run("openai, not retryable", func(t *testing.T) {
		hs, n := sseServer(t, `data: {"error":{"type":"invalid_request_error","message":"bad"}}`+"\n\n")
		_, err := sseClient(t, ProviderOpenAI, hs.URL).CompleteStream(context.Background(), conversation(), nil)
		var ae *APIError
		if !errors.As(err, &ae) || ae.Status != 400 || n.Load() != 1 {
			t.Fatalf("err = %v after %d requests", err, n.Load())
		}
	})
}

// TestStreamRealTranscripts decodes streams as the providers document
// them: comments, thinking blocks, cache usage, split tool arguments,
// several data lines, no trailing blank line.
func TestStreamRealTranscripts(t *testing.T) {
	anth := `event: message_start
data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"m","stop_reason":null,"usage":{"input_tokens":10,"cache_creation_input_tokens":5,"cache_read_input_tokens":100,"output_tokens":1}}}

event: ping
data: {"type": "ping"}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"xyz"}}

event: content_block_stop
data: {"type":"content_block_stop","index":0}

event: content_block_start
data: {"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Let me "}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"check."}}

event: content_block_start
data: {"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_9","name":"workspace_read","input":{}}}

event: content_block_delta
data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"path\": \"a"}}

event: content_block_delta
data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":".txt\"}"}}

event: content_block_start
data: {"type":"content_block_start","index":3,"content_block":{"type":"tool_use","id":"toolu_10","name":"memory_read","input":{}}}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":42}}

event: message_stop
data: {"type":"message_stop"}`
	oa := ": OPENROUTER PROCESSING\n\n" +
		`data: {"choices":[{"index":0,"delta":{"role":"assistant","content":null}}]}` + "\n\n" +
		`data: {"choices":[{"index":0,"delta":{"content":"Let me "}}]}` + "\n\n" +
		"data: {\"choices\":[{\"index\":0,\ndata: \"delta\":{\"content\":\"check.\"}}]}\r\n\r\n" +
		`data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_2","type":"function","function":{"name":"memory_read","arguments":""}}]}}]}` + "\n\n" +
		`data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"workspace_read","arguments":"{\"path\": \"a"}}]}}]}` + "\n\n" +
		`data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":".txt\"}"}}]}}]}` + "\n\n" +
		`data: {"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}` + "\n\n" +
		`data: {"choices":[],"usage":{"prompt_tokens":115,"completion_tokens":42,"total_tokens":157,"prompt_tokens_details":{"cached_tokens":100}}}` + "\n\n" +
		"data: [DONE]"
	want := Response{
		Message: Message{Role: RoleAssistant, Content: "Let me check.", ToolCalls: []ToolCall{
			{ID: "toolu_9", Name: "workspace_read", Arguments: json.RawMessage(`{"path": "a.txt"}`)},
			{ID: "toolu_10", Name: "memory_read", Arguments: json.RawMessage(`{}`)},
		}},
		StopReason: StopToolUse,
		Usage:      Usage{InputTokens: 115, OutputTokens: 42, CacheReadTokens: 100},
	}
	for p, body := range map[string]string{ProviderAnthropic: anth, ProviderOpenAI: oa} {
		t.Run(p, func(t *testing.T) {
			hs, _ := sseServer(t, body)
			var d deltas
			resp, err := sseClient(t, p, hs.URL).CompleteStream(context.Background(), conversation(), d.add)
			if err != nil {
				t.Fatal(err)
			}
			w := want
			if p == ProviderAnthropic {
				w.Usage.CacheWriteTokens = 5 // OpenAI reports no cache writes
			}
			if p == ProviderOpenAI {
				w.Message.ToolCalls = []ToolCall{
					{ID: "call_1", Name: "workspace_read", Arguments: json.RawMessage(`{"path": "a.txt"}`)},
					{ID: "call_2", Name: "memory_read", Arguments: json.RawMessage(`{}`)},
				}
			}
			if !reflect.DeepEqual(resp, w) {
				t.Errorf("response\n got %+v\nwant %+v", resp, w)
			}
			if !reflect.DeepEqual(d.got(), []string{"Let me ", "check."}) {
				t.Errorf("deltas = %q", d.got())
			}
		})
	}
}

// TestStreamSizeCap: the cap holds for the whole stream, not per event,
// and a too large answer is not retried.
func TestStreamSizeCap(t *testing.T) {
	event := `data: {"choices":[{"index":0,"delta":{"content":"` + strings.Repeat("x", 1000) + `"}}]}` + "\n\n"
	hs, n := sseServer(t, strings.Repeat(event, maxResponseBody/len(event)+1)+"data: [DONE]\n\n")
	var d deltas
	_, err := sseClient(t, ProviderOpenAI, hs.URL).CompleteStream(context.Background(), conversation(), d.add)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("more than %d bytes", maxResponseBody)) {
		t.Fatalf("err = %v, want the size cap", err)
	}
	if n.Load() != 1 {
		t.Errorf("%d requests, want 1", n.Load())
	}
	if got := len(d.text()); got == 0 || got > maxResponseBody {
		t.Errorf("%d bytes of text handed on", got)
	}
}

// TestStreamJSONAnswer: a server that ignores "stream" and answers whole
// still works, its text handed on at once.
func TestStreamJSONAnswer(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write([]byte(`{"choices":[{"message":{"content":"whole"},"finish_reason":"stop"}],"usage":{"prompt_tokens":2,"completion_tokens":1}}`))
	}))
	defer hs.Close()
	var d deltas
	resp, err := sseClient(t, ProviderOpenAI, hs.URL).CompleteStream(context.Background(), conversation(), d.add)
	if err != nil || resp.Message.Content != "whole" || resp.Usage.InputTokens != 2 || d.text() != "whole" {
		t.Errorf("resp %+v, err %v, deltas %q", resp, err, d.got())
	}
}

// TestStreamKeyNeverInErrors: neither an error status nor an error event
// of a stream carries the key into an error.
func TestStreamKeyNeverInErrors(t *testing.T) {
	for _, p := range []string{ProviderOpenAI, ProviderAnthropic} {
		t.Run(p+"/status", func(t *testing.T) {
			s := newFake(t)
			c, _ := newTestClient(t, p, s, func(c *Config) { c.MaxRetries = -1 })
			s.SetResponder(echoKey(401))
			_, err := c.CompleteStream(context.Background(), conversation(), nil)
			var ae *APIError
			if !errors.As(err, &ae) || strings.Contains(err.Error(), "CANARY") || !strings.Contains(ae.Message, redact.Masked) {
				t.Errorf("err = %v", err)
			}
		})
	}
	ev := "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"authentication_error\",\"message\":\"bad key " + testKey + "\"}}\n\n"
	hs, _ := sseServer(t, antHead+antText+ev)
	_, err := sseClient(t, ProviderAnthropic, hs.URL).CompleteStream(context.Background(), conversation(), nil)
	var ae *APIError
	if !errors.As(err, &ae) || strings.Contains(err.Error(), "CANARY") || strings.Contains(ae.Message, "CANARY") ||
		!strings.Contains(ae.Message, redact.Masked) {
		t.Errorf("err = %v", err)
	}
}

// TestStreamBodyPassesRedactor: a streamed request is redacted too.
func TestStreamBodyPassesRedactor(t *testing.T) {
	s := newFake(t)
	c, _ := newTestClient(t, ProviderAnthropic, s)
	c.redactor = holderOf(t, redact.Secret{Name: "X", Value: "CANARY-value"})
	req := Request{Messages: []Message{{Role: RoleUser, Content: "key CANARY-value"}}}
	if _, err := c.CompleteStream(context.Background(), req, nil); err != nil {
		t.Fatal(err)
	}
	if rec := onlyRequest(t, s); !rec.Stream || bytes.Contains(rec.Body, []byte("CANARY")) {
		t.Errorf("stream %v, body %s", rec.Stream, rec.Body)
	}
}

// TestStreamPerAttemptTimeout: the timeout bounds the whole stream; one
// that stalls before its text is retried.
func TestStreamPerAttemptTimeout(t *testing.T) {
	s := newFake(t)
	c, sl := newTestClient(t, ProviderOpenAI, s, func(c *Config) { c.Timeout = 300 * time.Millisecond })
	s.Enqueue(llmtest.Reply{Text: "slow", ChunkDelay: time.Minute}, llmtest.Reply{Text: "fast"})
	var d deltas
	resp, err := c.CompleteStream(context.Background(), conversation(), d.add)
	if err != nil || resp.Message.Content != "fast" || d.text() != "fast" || len(sl.got()) != 1 {
		t.Errorf("resp %+v, err %v, deltas %q, %d retries", resp, err, d.got(), len(sl.got()))
	}
}

func TestGatewayCompleteStream(t *testing.T) {
	s := newFake(t)
	c, _ := newTestClient(t, ProviderOpenAI, s)
	if _, err := NewGateway(nil, Budget{}, nil, nil).CompleteStream(context.Background(), conversation(), nil); !errors.Is(err, ErrNotConfigured) {
		t.Errorf("unconfigured: err = %v", err)
	}
	g := NewGateway(c, Budget{RequestsPerDay: 5}, &fakeUsage{requests: 5}, nil)
	var d deltas
	if _, err := g.CompleteStream(context.Background(), conversation(), d.add); !errors.Is(err, ErrBudgetExhausted) {
		t.Errorf("exhausted: err = %v", err)
	}
	if len(s.Requests()) != 0 || len(d.got()) != 0 {
		t.Error("a call was made past the budget")
	}
	g.SetBudget(Budget{RequestsPerDay: 6})
	resp, err := g.CompleteStream(context.Background(), conversation(), d.add)
	if err != nil || d.text() != resp.Message.Content || !onlyRequest(t, s).Stream {
		t.Errorf("resp %+v, err %v", resp, err)
	}
}
