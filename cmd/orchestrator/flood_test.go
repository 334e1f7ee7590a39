package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/mcp/tools"
)

// TestFloodsCapped (issue 11 items 11, 12 and 14), through the model's
// tools on a running stack: the limits saved on the settings page apply
// without a restart; past them script_propose and workspace_write answer
// with a clear tool error and the conversation goes on; a file name with
// a bidi override is refused.
func TestFloodsCapped(t *testing.T) {
	s := startStack(t, stackOpts{dev: true})
	s.waitReady()
	if code := s.do("PUT", "/api/v1/settings", map[string]any{"workspace": map[string]any{"max_files": 3},
		"scripts": map[string]any{"max_pending_per_script": 2, "max_pending_total": 3}}, nil); code != http.StatusOK {
		t.Fatalf("PUT settings: %d", code)
	}
	conv := s.newConversation()
	propose := func(name string, i int) tools.Message {
		return s.callTool(conv, tools.ScriptPropose, map[string]any{"name": name,
			"source": fmt.Sprintf("# @description: Says hello\n\ndef hello():\n    return %d\n", i)})
	}
	for i := range 2 {
		if res := propose("greeter", i); failed(res) {
			t.Fatalf("proposal %d: %q", i, res.Content)
		}
	}
	if res := propose("greeter", 2); !failed(res) || !strings.Contains(res.Content, `2 versions of "greeter" already await review`) {
		t.Errorf("third version of greeter: %+v", res)
	}
	if res := propose("other", 0); failed(res) {
		t.Fatalf("other: %q", res.Content)
	}
	if res := propose("third", 0); !failed(res) || !strings.Contains(res.Content, "3 script versions already await review") {
		t.Errorf("fourth pending version: %+v", res)
	}

	write := func(path string) tools.Message {
		return s.callTool(conv, tools.WorkspaceWrite, map[string]any{"path": path, "content": ""})
	}
	for i := range 3 {
		if res := write(fmt.Sprintf("empty%d.md", i)); failed(res) {
			t.Fatalf("empty file %d: %q", i, res.Content)
		}
	}
	if res := write("empty3.md"); !failed(res) || !strings.Contains(res.Content, "the limit is 3 (empty files count too)") {
		t.Errorf("the fourth empty file: %+v", res)
	}
	if res := write("report\u202Etxt.md"); !failed(res) || !strings.Contains(res.Content, "U+202E") {
		t.Errorf("a bidi override in a file name: %+v", res)
	}
	s.verifyAudit()
}

// failed reports whether a tool result is an error.
func failed(m tools.Message) bool {
	return m.IsError || strings.HasPrefix(m.Content, "ERROR")
}
