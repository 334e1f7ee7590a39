package llm

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/mcp/tools"
)

// TestRequestBodyPassesRedactor: whatever the request holds, the bytes that
// leave are the redactor's output, on every attempt.
func TestRequestBodyPassesRedactor(t *testing.T) {
	for _, provider := range []string{ProviderOpenAI, ProviderAnthropic} {
		t.Run(provider, func(t *testing.T) {
			s := newFake(t)
			c, _ := newTestClient(t, provider, s)
			const canary = "CANARY-secret-value-42"
			c.SetRedactor(func(b []byte) []byte { return bytes.ReplaceAll(b, []byte(canary), []byte("[REDACTED:X]")) })
			req := tools.LLMRequest{System: "sys " + canary, Messages: []tools.Message{
				{Role: tools.RoleUser, Content: "my key is " + canary},
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
