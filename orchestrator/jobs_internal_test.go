package orchestrator

import (
	"testing"

	"github.com/airlockhq/airlock/mcp/tools"
)

func TestScriptValueEmpty(t *testing.T) {
	tests := []struct {
		body  string
		want  string
		empty bool
	}{
		{`{"result":null}`, "", true},
		{`{"result":null,"output":"debug print"}`, "", true},
		{`{"result":""}`, "", true},
		{`{"result":"  "}`, "  ", true},
		{`{"result":[]}`, "", true},
		{`{"result":{}}`, "", true},
		{`{"result":"rain at 5"}`, "rain at 5", false},
		{`{"result":{"temp":21}}`, `{"temp":21}`, false},
		{`{"result":0}`, "0", false},
	}
	for _, tt := range tests {
		got, empty := scriptValue(tools.WrapUntrusted("script x output", tt.body))
		if got != tt.want || empty != tt.empty {
			t.Errorf("%s: got %q, %v; want %q, %v", tt.body, got, empty, tt.want, tt.empty)
		}
	}
	if got, empty := scriptValue("not json"); empty || got != "not json" {
		t.Errorf("unreadable text: %q %v", got, empty)
	}
}
