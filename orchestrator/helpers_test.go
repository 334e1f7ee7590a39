package orchestrator_test

import "github.com/airlockhq/airlock/orchestrator/llm/llmtest"

func llmtestToolCall(name string, args map[string]any) llmtest.Reply {
	return llmtest.Reply{ToolCalls: []llmtest.Call{{Name: name, Args: args}}}
}
