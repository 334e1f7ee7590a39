package llm

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/airlockhq/airlock/orchestrator/llm/llmtest"
)

func TestAnthropicRequestShape(t *testing.T) {
	s := newFake(t)
	c, _ := newTestClient(t, ProviderAnthropic, s, func(c *Config) { c.MaxTokens = 100 })
	req := conversation()
	req.Tools = testTools[:1]
	if _, err := c.Complete(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	rec := onlyRequest(t, s)
	if rec.Path != "/v1/messages" {
		t.Errorf("path = %q", rec.Path)
	}
	if rec.Header.Get("X-Api-Key") != testKey {
		t.Error("x-api-key header is not the key")
	}
	if _, ok := rec.Header["Authorization"]; ok {
		t.Error("Authorization header sent to Anthropic")
	}
	for h, want := range map[string]string{"Anthropic-Version": "2023-06-01", "Content-Type": "application/json"} {
		if got := rec.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	schema, _ := json.Marshal(testTools[0].InputSchema)
	assertJSON(t, rec.Body, `{
	  "model": "test-model", "max_tokens": 100,
	  "system": [{"type": "text", "text": "You are Airlock.", "cache_control": {"type": "ephemeral"}}],
	  "messages": [
	    {"role": "user", "content": [{"type": "text", "text": "read my notes", "cache_control": {"type": "ephemeral"}}]},
	    {"role": "assistant", "content": [
	      {"type": "text", "text": "Looking."},
	      {"type": "tool_use", "id": "c1", "name": "memory_read", "input": {}},
	      {"type": "tool_use", "id": "c2", "name": "workspace_read", "input": {"path": "a.txt"}}]},
	    {"role": "user", "content": [
	      {"type": "tool_result", "tool_use_id": "c1", "content": "likes tea"},
	      {"type": "tool_result", "tool_use_id": "c2", "content": "no such file", "is_error": true},
	      {"type": "text", "text": "and?", "cache_control": {"type": "ephemeral"}}]}],
	  "tools": [{"name": "memory_read", "description": "`+testTools[0].Description+`", "input_schema": `+string(schema)+`,
	    "cache_control": {"type": "ephemeral"}}]
	}`)
	// The fake parses the wire format back to the neutral form.
	if got := neutral(rec.Messages); !reflect.DeepEqual(got, req.Messages) || rec.System != req.System {
		t.Errorf("round trip\n got %+v\nwant %+v", got, req.Messages)
	}
}

func TestAnthropicResponseFromFake(t *testing.T) {
	s := newFake(t)
	c, _ := newTestClient(t, ProviderAnthropic, s)
	s.Enqueue(llmtest.Reply{Text: "on it", InputTokens: 20, OutputTokens: 5, ToolCalls: []llmtest.Call{
		{ID: "toolu_1", Name: "workspace_write", Args: map[string]string{"path": "x", "content": "y"}},
	}})
	resp, err := c.Complete(context.Background(), conversation())
	if err != nil {
		t.Fatal(err)
	}
	want := Response{
		Message: Message{Role: RoleAssistant, Content: "on it", ToolCalls: []ToolCall{
			{ID: "toolu_1", Name: "workspace_write", Arguments: json.RawMessage(`{"content":"y","path":"x"}`)},
		}},
		StopReason: StopToolUse,
		Usage:      Usage{InputTokens: 20, OutputTokens: 5},
	}
	if !reflect.DeepEqual(resp, want) {
		t.Errorf("response\n got %+v\nwant %+v", resp, want)
	}
}

func TestAnthropicDefaultReply(t *testing.T) {
	s := newFake(t)
	c, _ := newTestClient(t, ProviderAnthropic, s)
	req := Request{Messages: []Message{{Role: RoleUser, Content: "hello there"}}}
	resp, err := c.Complete(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Message.Content != "fake reply: hello there" || resp.StopReason != StopEndTurn {
		t.Errorf("got %q / %q", resp.Message.Content, resp.StopReason)
	}
	if resp.Usage.InputTokens != len(onlyRequest(t, s).Body)/4 || resp.Usage.OutputTokens != len(resp.Message.Content)/4 {
		t.Errorf("usage = %+v", resp.Usage)
	}
}

func TestParseAnthropicResponse(t *testing.T) {
	body := `{"content":[{"type":"thinking","thinking":"hm"},{"type":"text","text":"a"},{"type":"text","text":"b"},
	  {"type":"tool_use","id":"t1","name":"f","input":{"k":"v"}}],"stop_reason":"max_tokens",
	  "usage":{"input_tokens":3,"output_tokens":4,"cache_creation_input_tokens":10,"cache_read_input_tokens":100}}`
	resp, err := parseAnthropicResponse([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Message.Content != "ab" || resp.StopReason != StopMaxTokens || len(resp.Message.ToolCalls) != 1 {
		t.Errorf("got %+v", resp)
	}
	if resp.Usage != (Usage{InputTokens: 113, OutputTokens: 4, CacheReadTokens: 100, CacheWriteTokens: 10}) {
		t.Errorf("usage = %+v, want cache tokens counted as input", resp.Usage)
	}
	if _, err := parseAnthropicResponse([]byte("nope")); err == nil {
		t.Error("invalid body accepted")
	}
}

func TestAnthropicSkipsEmptyAndBadArguments(t *testing.T) {
	c, err := New(Config{Provider: ProviderAnthropic, Model: "m", NoPromptCache: true}, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := c.anthropicRequest(Request{Messages: []Message{
		{Role: RoleUser, Content: "hi"},
		{Role: RoleAssistant, ToolCalls: []ToolCall{{ID: "a", Name: "f", Arguments: json.RawMessage(`"{broken"`)}}},
		{Role: RoleAssistant, Content: ""},
	}})
	body, _ := json.Marshal(r.Messages)
	assertJSON(t, body, `[{"role":"user","content":[{"type":"text","text":"hi"}]},
	  {"role":"assistant","content":[{"type":"tool_use","id":"a","name":"f","input":{}}]}]`)
}
