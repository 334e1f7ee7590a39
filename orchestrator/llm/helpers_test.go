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
func conversation() tools.LLMRequest {
	return tools.LLMRequest{
		TaskID: "task-1",
		System: "You are Airlock.",
		Messages: []tools.Message{
			{Role: tools.RoleUser, Content: "read my notes"},
			{Role: tools.RoleAssistant, Content: "Looking.", ToolCalls: []tools.ToolCall{
				{ID: "c1", Name: tools.MemoryRead, Arguments: json.RawMessage(`{}`)},
				{ID: "c2", Name: tools.WorkspaceRead, Arguments: json.RawMessage(`{"path":"a.txt"}`)},
			}},
			{Role: tools.RoleTool, ToolCallID: "c1", ToolName: tools.MemoryRead, Content: "likes tea"},
			{Role: tools.RoleTool, ToolCallID: "c2", ToolName: tools.WorkspaceRead, Content: "no such file", IsError: true},
			{Role: tools.RoleUser, Content: "and?"},
		},
		Tools: tools.Model()[:2],
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
