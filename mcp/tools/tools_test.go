package tools

import (
	"encoding/json"
	"slices"
	"strings"
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

func TestRemoteName(t *testing.T) {
	tests := []struct{ server, tool, want string }{
		{"github", "search_issues", "github__search_issues"},
		{"home", "light.turn_on", "home__light_turn_on"},
		{"gh", "", ""},
		{"gh", strings.Repeat("x", 61), ""},
		{"gh", strings.Repeat("x", 60), "gh__" + strings.Repeat("x", 60)},
	}
	for _, tt := range tests {
		if got := RemoteName(tt.server, tt.tool); got != tt.want {
			t.Errorf("RemoteName(%q, %q) = %q, want %q", tt.server, tt.tool, got, tt.want)
		}
		if tt.want != "" && !IsRemoteTool(tt.want) {
			t.Errorf("IsRemoteTool(%q) = false", tt.want)
		}
	}
	for _, name := range []string{MemoryRead, RuntimeMCPCall, "GH__x", "gh_x", "gh__", "gh__a b"} {
		if IsRemoteTool(name) {
			t.Errorf("IsRemoteTool(%q) = true", name)
		}
	}
}

// TestModelIsTheCallersSlice: a caller may filter the slice Model returns
// (the orchestrator deletes the tools a worker did not name) without
// changing what the next caller gets.
func TestModelIsTheCallersSlice(t *testing.T) {
	first := Model()
	n := len(first)
	first = slices.DeleteFunc(first, func(d ToolDef) bool { return d.Name != MemoryRead })
	first[0].Description = "changed"
	again := Model()
	if len(again) != n || again[0].Name != MemoryRead || again[0].Description == "changed" {
		t.Fatalf("Model after a caller changed its slice: %d tools (want %d), first %+v", len(again), n, again[0])
	}
}
