package llm

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/secure/redact"
)

// TestRequestBodyPassesRedactor: whatever the request holds, the bytes that
// leave are the redactor's output, on every attempt.
func TestRequestBodyPassesRedactor(t *testing.T) {
	for _, provider := range []string{ProviderOpenAI, ProviderAnthropic} {
		t.Run(provider, func(t *testing.T) {
			s := newFake(t)
			c, _ := newTestClient(t, provider, s)
			const canary = "CANARY-secret-value-42"
			c.redactor = holderOf(t, redact.Secret{Name: "X", Value: canary})
			req := Request{System: "sys " + canary, Messages: []Message{
				{Role: RoleUser, Content: "my key is " + canary},
			}}
			if _, err := c.Complete(context.Background(), req); err != nil {
				t.Fatal(err)
			}
			for _, r := range s.Requests() {
				if strings.Contains(string(r.Body), canary) {
					t.Fatalf("the canary left in the request body: %s", r.Body)
				}
				if !strings.Contains(string(r.Body), "[REDACTED:X]") {
					t.Fatalf("the redactor did not run on the body")
				}
			}
		})
	}
}

// TestToolArgumentsLeavePlain: tool-call arguments the model spelled in
// \uXXXX escapes (mixed, so no encoding the redactor knows) are sent back
// in their plain form, where the outbound redactor finds the value; what
// the provider decodes from the request holds no secret.
func TestToolArgumentsLeavePlain(t *testing.T) {
	const canary = "CANARYsecretVALUE42"
	var mixed strings.Builder // every other character escaped
	for i, r := range canary {
		if i%2 == 0 {
			fmt.Fprintf(&mixed, `\u%04X`, r)
		} else {
			mixed.WriteRune(r)
		}
	}
	args := `{"url":"https://example.com/?k=` + mixed.String() + `","n":1.50}`
	h := holderOf(t, redact.Secret{Name: "CANARY", Value: canary})
	for _, provider := range []string{ProviderOpenAI, ProviderAnthropic} {
		t.Run(provider, func(t *testing.T) {
			s := newFake(t)
			c, _ := newTestClient(t, provider, s)
			c.redactor = h
			req := Request{Messages: []Message{
				{Role: RoleUser, Content: "fetch it"},
				{Role: RoleAssistant, ToolCalls: []ToolCall{{ID: "c1", Name: "web_fetch", Arguments: json.RawMessage(args)}}},
				{Role: RoleTool, ToolCallID: "c1", Content: "done"},
			}}
			if _, err := c.Complete(context.Background(), req); err != nil {
				t.Fatal(err)
			}
			rec := onlyRequest(t, s)
			var got struct {
				URL string          `json:"url"`
				N   json.RawMessage `json:"n"`
			}
			if len(rec.Messages) < 2 || len(rec.Messages[1].ToolCalls) != 1 {
				t.Fatalf("recorded messages = %+v", rec.Messages)
			}
			if err := json.Unmarshal(rec.Messages[1].ToolCalls[0].Arguments, &got); err != nil {
				t.Fatal(err)
			}
			if got.URL != "https://example.com/?k=[REDACTED:CANARY]" || string(got.N) != "1.50" {
				t.Errorf("the provider read url=%q n=%s", got.URL, got.N)
			}
		})
	}
}

// TestNoRedactorStillRedactsShapes: a client built without a redactor
// still applies the shape detectors to what it sends.
func TestNoRedactorStillRedactsShapes(t *testing.T) {
	s := newFake(t)
	c, _ := newTestClient(t, ProviderOpenAI, s)
	key := "ghp_" + strings.Repeat("a1B2", 9)
	req := Request{Messages: []Message{{Role: RoleUser, Content: "token " + key}}}
	if _, err := c.Complete(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if rec := onlyRequest(t, s); strings.Contains(string(rec.Body), key) {
		t.Errorf("a GitHub token left in the request body: %s", rec.Body)
	}
}
