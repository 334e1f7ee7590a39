package tools

import (
	"encoding/json"
	"testing"
)

func TestModelToolSchemas(t *testing.T) {
	seen := map[string]bool{}
	for _, d := range Model() {
		if seen[d.Name] {
			t.Errorf("duplicate tool %s", d.Name)
		}
		seen[d.Name] = true
		var s struct {
			Type       string                     `json:"type"`
			Properties map[string]json.RawMessage `json:"properties"`
		}
		if err := json.Unmarshal(d.InputSchema, &s); err != nil || s.Type != "object" {
			t.Errorf("%s: schema is not a JSON object schema: %v", d.Name, err)
		}
		if _, ok := s.Properties[TaskIDArg]; ok {
			t.Errorf("%s: the model-facing schema mentions %s; the worker injects it", d.Name, TaskIDArg)
		}
		if d.Description == "" {
			t.Errorf("%s: no description", d.Name)
		}
	}
	for _, name := range []string{RuntimeNextTask, RuntimeCompleteTask, RuntimeLLM, "", "shell"} {
		if IsModelTool(name) {
			t.Errorf("IsModelTool(%q) = true", name)
		}
	}
	for _, name := range []string{MemoryRead, MemoryWrite, WorkspaceList, WorkspaceRead, WorkspaceWrite, ChatSend, WebFetch, ScriptList, ScriptStatus, ScriptPropose, ScriptRun} {
		if !IsModelTool(name) {
			t.Errorf("IsModelTool(%q) = false", name)
		}
	}
	if n := Names(Model()); len(n) != len(Model()) || n[0].InputSchema != nil || n[0].Name != MemoryRead {
		t.Errorf("Names = %+v", n)
	}
}
