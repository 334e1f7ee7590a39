package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/llm/llmtest"
	"github.com/airlockhq/airlock/secure/redact"
)

// testTools are tool definitions as the orchestrator passes them: a name,
// a description and a JSON Schema.
var testTools = []Tool{
	{Name: "memory_read", Description: "Read your long-term memory, MEMORY.md.",
		InputSchema: json.RawMessage(`{"type":"object","properties":{},"additionalProperties":false}`)},
	{Name: "memory_write", Description: "Replace MEMORY.md with new content.",
		InputSchema: json.RawMessage(`{"type":"object","properties":{"content":{"type":"string"}},"required":["content"],"additionalProperties":false}`)},
}

const testKey = "sk-test-CANARY-0123456789abcdef"

func newFake(t *testing.T) *llmtest.Server {
	t.Helper()
	s, err := llmtest.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func baseURL(provider string, s *llmtest.Server) string {
	if provider == ProviderOpenAI {
		return s.URL() + "/v1"
	}
	return s.URL()
}

// sleeps records backoff waits instead of sleeping.
type sleeps struct {
	mu sync.Mutex
	ds []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ds = append(s.ds, d)
	return ctx.Err()
}

func (s *sleeps) got() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.ds...)
}

// newTestClient builds a client on the fake whose backoff waits are
// recorded, with jitter returning its ceiling.
func newTestClient(t *testing.T, provider string, s *llmtest.Server, edit ...func(*Config)) (*Client, *sleeps) {
	t.Helper()
	cfg := Config{Provider: provider, BaseURL: baseURL(provider, s), Model: "test-model", APIKey: testKey}
	for _, e := range edit {
		e(&cfg)
	}
	c, err := New(cfg, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	sl := &sleeps{}
	c.sleep = sl.sleep
	c.jitter = func(d time.Duration) time.Duration { return d }
	return c, sl
}

// conversation is a request with every message kind.
func conversation() Request {
	return Request{
		System: "You are Airlock.",
		Messages: []Message{
			{Role: RoleUser, Content: "read my notes"},
			{Role: RoleAssistant, Content: "Looking.", ToolCalls: []ToolCall{
				{ID: "c1", Name: "memory_read", Arguments: json.RawMessage(`{}`)},
				{ID: "c2", Name: "workspace_read", Arguments: json.RawMessage(`{"path":"a.txt"}`)},
			}},
			{Role: RoleTool, ToolCallID: "c1", ToolName: "memory_read", Content: "likes tea"},
			{Role: RoleTool, ToolCallID: "c2", ToolName: "workspace_read", Content: "no such file", IsError: true},
			{Role: RoleUser, Content: "and?"},
		},
		Tools: testTools[:2],
	}
}

// assertJSON compares two JSON texts structurally.
func assertJSON(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got invalid JSON: %v", err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want invalid JSON: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		var gi bytes.Buffer
		_ = json.Indent(&gi, got, "", "  ")
		t.Errorf("JSON mismatch\n got: %s\nwant: %s", gi.String(), want)
	}
}

func onlyRequest(t *testing.T, s *llmtest.Server) llmtest.RecordedRequest {
	t.Helper()
	reqs := s.Requests()
	if len(reqs) != 1 {
		t.Fatalf("server got %d requests, want 1", len(reqs))
	}
	return reqs[0]
}

// neutral is the fake's record of messages in this package's form.
func neutral(rec []tools.Message) []Message {
	var out []Message
	for _, m := range rec {
		n := Message{Role: m.Role, Content: m.Content, ToolCallID: m.ToolCallID, ToolName: m.ToolName, IsError: m.IsError}
		for _, c := range m.ToolCalls {
			n.ToolCalls = append(n.ToolCalls, ToolCall(c))
		}
		out = append(out, n)
	}
	return out
}

// holderOf returns a redactor holder that knows secrets.
func holderOf(t *testing.T, secrets ...redact.Secret) *redact.Holder {
	t.Helper()
	r, err := redact.New(secrets)
	if err != nil {
		t.Fatal(err)
	}
	var h redact.Holder
	h.Store(r)
	return &h
}
