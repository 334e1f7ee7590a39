package llm

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/airlockhq/airlock/orchestrator/llm/llmtest"
)

func TestOpenAIRequestShape(t *testing.T) {
	s := newFake(t)
	c, _ := newTestClient(t, ProviderOpenAI, s, func(c *Config) { c.MaxTokens = 100 })
	if _, err := c.Complete(context.Background(), conversation()); err != nil {
		t.Fatal(err)
	}
	rec := onlyRequest(t, s)
	if rec.Path != "/v1/chat/completions" {
		t.Errorf("path = %q", rec.Path)
	}
	if got := rec.Header.Get("Authorization"); got != "Bearer "+testKey {
		t.Error("Authorization header is not the bearer key")
	}
	if got := rec.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q", got)
	}
	schema0, _ := json.Marshal(testTools[0].InputSchema)
	schema1, _ := json.Marshal(testTools[1].InputSchema)
	assertJSON(t, rec.Body, `{
	  "model": "test-model", "max_tokens": 100,
	  "messages": [
	    {"role": "system", "content": "You are Airlock."},
	    {"role": "user", "content": "read my notes"},
	    {"role": "assistant", "content": "Looking.", "tool_calls": [
	      {"id": "c1", "type": "function", "function": {"name": "memory_read", "arguments": "{}"}},
	      {"id": "c2", "type": "function", "function": {"name": "workspace_read", "arguments": "{\"path\":\"a.txt\"}"}}]},
	    {"role": "tool", "tool_call_id": "c1", "content": "likes tea"},
	    {"role": "tool", "tool_call_id": "c2", "content": "ERROR: no such file"},
	    {"role": "user", "content": "and?"}],
	  "tools": [
	    {"type": "function", "function": {"name": "memory_read", "description": "`+testTools[0].Description+`", "parameters": `+string(schema0)+`}},
	    {"type": "function", "function": {"name": "memory_write", "description": "`+testTools[1].Description+`", "parameters": `+string(schema1)+`}}]
	}`)
	if want := []string{"memory_read", "memory_write"}; !reflect.DeepEqual(rec.ToolNames, want) {
		t.Errorf("tool names = %v, want %v", rec.ToolNames, want)
	}
	if rec.Messages[2].ToolName != "memory_read" {
		t.Errorf("fake did not resolve tool name: %+v", rec.Messages[2])
	}
}

func TestOpenAIToolCallOnlyAssistantHasNullContent(t *testing.T) {
	s := newFake(t)
	c, _ := newTestClient(t, ProviderOpenAI, s, func(c *Config) { c.APIKey = "" })
	req := Request{Messages: []Message{
		{Role: RoleUser, Content: "hi"},
		{Role: RoleAssistant, ToolCalls: []ToolCall{{ID: "x", Name: "memory_read"}}},
		{Role: RoleTool, ToolCallID: "x", Content: "ok"},
	}}
	resp, err := c.Complete(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	rec := onlyRequest(t, s)
	if _, ok := rec.Header["Authorization"]; ok {
		t.Error("Authorization header sent with an empty key")
	}
	assertJSON(t, rec.Body, `{"model": "test-model", "max_tokens": 4096, "messages": [
	  {"role": "user", "content": "hi"},
	  {"role": "assistant", "tool_calls": [{"id": "x", "type": "function", "function": {"name": "memory_read", "arguments": "{}"}}]},
	  {"role": "tool", "tool_call_id": "x", "content": "ok"}]}`)
	if resp.Message.Content != "fake reply after memory_read: ok" {
		t.Errorf("default fake reply = %q", resp.Message.Content)
	}
}

func TestOpenAIMaxCompletionTokensOnOpenAI(t *testing.T) {
	c, err := New(Config{Provider: ProviderOpenAI, Model: "m"}, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := c.openAIRequest(conversation())
	if r.MaxCompletionTokens != DefaultMaxTokens || r.MaxTokens != 0 {
		t.Errorf("api.openai.com: max_completion_tokens=%d max_tokens=%d", r.MaxCompletionTokens, r.MaxTokens)
	}
}

func TestOpenAIResponseFromFake(t *testing.T) {
	s := newFake(t)
	c, _ := newTestClient(t, ProviderOpenAI, s)
	s.Enqueue(llmtest.Reply{Text: "checking", InputTokens: 11, OutputTokens: 7, ToolCalls: []llmtest.Call{
		{ID: "call_a", Name: "memory_read"},
		{ID: "call_b", Name: "workspace_read", Args: map[string]string{"path": "a.txt"}},
		{ID: "call_c", Name: "chat_send", Args: "{broken"},
	}})
	resp, err := c.Complete(context.Background(), conversation())
	if err != nil {
		t.Fatal(err)
	}
	want := Response{
		Message: Message{Role: RoleAssistant, Content: "checking", ToolCalls: []ToolCall{
			{ID: "call_a", Name: "memory_read", Arguments: json.RawMessage(`{}`)},
			{ID: "call_b", Name: "workspace_read", Arguments: json.RawMessage(`{"path":"a.txt"}`)},
			{ID: "call_c", Name: "chat_send", Arguments: json.RawMessage(`"{broken"`)},
		}},
		StopReason: StopToolUse,
		Usage:      Usage{InputTokens: 11, OutputTokens: 7},
	}
	if !reflect.DeepEqual(resp, want) {
		t.Errorf("response\n got %+v\nwant %+v", resp, want)
	}
	if _, err := json.Marshal(resp); err != nil {
		t.Errorf("normalised response does not marshal: %v", err)
	}
}

func TestParseOpenAIResponse(t *testing.T) {
	tests := []struct {
		name, body, text, args, stop string
		wantErr                      bool
	}{
		{name: "null content, object arguments", body: `{"choices":[{"message":{"content":null,"tool_calls":[{"function":{"name":"f","arguments":{"a":1}}}]},"finish_reason":"tool_calls"}]}`,
			args: `{"a":1}`, stop: StopToolUse},
		{name: "empty arguments", body: `{"choices":[{"message":{"tool_calls":[{"id":"i","function":{"name":"f","arguments":""}}]},"finish_reason":"tool_calls"}]}`,
			args: `{}`, stop: StopToolUse},
		{name: "content parts", body: `{"choices":[{"message":{"content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},"finish_reason":"length"}]}`,
			text: "ab", stop: StopMaxTokens},
		{name: "other finish reason kept", body: `{"choices":[{"message":{"content":"x"},"finish_reason":"content_filter"}]}`,
			text: "x", stop: "content_filter"},
		{name: "no choices", body: `{"choices":[]}`, wantErr: true},
		{name: "not JSON", body: `<html>`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := parseOpenAIResponse([]byte(tt.body))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if resp.Message.Content != tt.text || resp.StopReason != tt.stop {
				t.Errorf("text %q stop %q, want %q %q", resp.Message.Content, resp.StopReason, tt.text, tt.stop)
			}
			if tt.args != "" {
				tc := resp.Message.ToolCalls[0]
				if string(tc.Arguments) != tt.args || tc.ID == "" {
					t.Errorf("call = %+v, want arguments %s and an id", tc, tt.args)
				}
			}
		})
	}
}
