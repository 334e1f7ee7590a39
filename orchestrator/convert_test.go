package orchestrator

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/llm"
	"github.com/airlockhq/airlock/orchestrator/store"
)

// The values that cross the boundary as plain strings must agree.
func TestBoundaryConstantsAgree(t *testing.T) {
	for _, c := range [][]string{
		{tools.RoleUser, llm.RoleUser, store.RoleUser},
		{tools.RoleAssistant, llm.RoleAssistant, store.RoleAssistant},
		{tools.RoleTool, llm.RoleTool, store.RoleTool},
		{tools.ScriptPending, store.ScriptPending},
		{tools.ScriptApproved, store.ScriptApproved},
		{tools.ScriptRejected, store.ScriptRejected},
		{tools.ScriptSuperseded, store.ScriptSuperseded},
		{tools.ScriptRevoked, store.ScriptRevoked},
	} {
		for _, v := range c[1:] {
			if v != c[0] {
				t.Errorf("%q != %q", v, c[0])
			}
		}
	}
}

func TestConvertKeepsEveryField(t *testing.T) {
	args := json.RawMessage(`{"path":"a.txt"}`)
	schema := json.RawMessage(`{"type":"object"}`)
	in := tools.LLMRequest{TaskID: "t_1", System: "sys", Tools: []tools.ToolDef{{Name: "n", Description: "d", InputSchema: schema}},
		Messages: []tools.Message{
			{Role: tools.RoleAssistant, Content: "c", ToolCalls: []tools.ToolCall{{ID: "i", Name: "n", Arguments: args}}},
			{Role: tools.RoleTool, Content: "r", ToolCallID: "i", ToolName: "n", IsError: true},
		}}
	want := llm.Request{System: "sys", Tools: []llm.Tool{{Name: "n", Description: "d", InputSchema: schema}},
		Messages: []llm.Message{
			{Role: llm.RoleAssistant, Content: "c", ToolCalls: []llm.ToolCall{{ID: "i", Name: "n", Arguments: args}}},
			{Role: llm.RoleTool, Content: "r", ToolCallID: "i", ToolName: "n", IsError: true},
		}}
	if got := llmRequest(in); !reflect.DeepEqual(got, want) {
		t.Errorf("llmRequest =\n%+v\nwant\n%+v", got, want)
	}

	resp := llm.Response{StopReason: llm.StopToolUse, Usage: llm.Usage{InputTokens: 3, OutputTokens: 4},
		Message: llm.Message{Role: llm.RoleAssistant, Content: "c", ToolCallID: "x", ToolName: "y", IsError: true,
			ToolCalls: []llm.ToolCall{{ID: "i", Name: "n", Arguments: args}}}}
	wantResp := tools.LLMResponse{StopReason: llm.StopToolUse, Usage: tools.Usage{InputTokens: 3, OutputTokens: 4},
		Message: tools.Message{Role: tools.RoleAssistant, Content: "c", ToolCallID: "x", ToolName: "y", IsError: true,
			ToolCalls: []tools.ToolCall{{ID: "i", Name: "n", Arguments: args}}}}
	if got := wireResponse(resp); !reflect.DeepEqual(got, wantResp) {
		t.Errorf("wireResponse =\n%+v\nwant\n%+v", got, wantResp)
	}

	calls := storeCalls(wantResp.Message.ToolCalls)
	if want := []store.ToolCall{{ID: "i", Name: "n", Arguments: args}}; !reflect.DeepEqual(calls, want) {
		t.Errorf("storeCalls = %+v, want %+v", calls, want)
	}
	if storeCalls(nil) != nil || llmRequest(tools.LLMRequest{}).Messages != nil {
		t.Error("a nil list did not stay nil")
	}
}
