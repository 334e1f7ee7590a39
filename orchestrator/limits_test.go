package orchestrator_test

import (
	"strings"
	"testing"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator"
	"github.com/airlockhq/airlock/orchestrator/llm"
)

// TestSetLimitsAppliesToNextTask: a lower model-call cap set at run time
// (the settings page) binds the next task, with no restart.
func TestSetLimitsAppliesToNextTask(t *testing.T) {
	h := newHarness(t, orchestrator.Config{MaxRounds: 8}, llm.Budget{})
	h.runAgent(t)
	conv := h.conversation(t)
	// Three tool calls in a row would need four model calls.
	for range 3 {
		h.llm.Enqueue(llmtestToolCall(tools.MemoryRead, map[string]any{}))
	}
	h.core.SetLimits(2, 0)
	r := <-h.submit(t, conv, "read your memory three times")
	if n := len(h.llm.Requests()); n != 2 {
		t.Fatalf("the model was called %d times under a cap of 2 (reply %+v)", n, r)
	}
	h.llm.Reset()
	h.core.SetLimits(8, 0)
	r = <-h.submit(t, conv, "hello again")
	if r.Failed || !strings.Contains(r.Text, "fake reply") {
		t.Fatalf("after raising the cap: %+v", r)
	}
}

// TestUnconfiguredGatewaySaysSo: a gateway without a client (no model set
// yet in the settings) makes the assistant say it is not set up, and
// calls nothing.
func TestUnconfiguredGatewaySaysSo(t *testing.T) {
	h := newHarness(t, orchestrator.Config{}, llm.Budget{})
	h.gw.SetClient(nil)
	h.runAgent(t)
	r := <-h.submit(t, h.conversation(t), "hello")
	if !strings.Contains(strings.ToLower(r.Text), "not set up") && !strings.Contains(strings.ToLower(r.Text), "no language model") {
		t.Fatalf("reply without a model: %+v", r)
	}
	if n := len(h.llm.Requests()); n != 0 {
		t.Errorf("the model was called %d times", n)
	}
}
