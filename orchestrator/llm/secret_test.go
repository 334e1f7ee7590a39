package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/orchestrator/llm/llmtest"
	"github.com/airlockhq/airlock/secure/redact"
)

// echoKey makes the fake answer with an error body that quotes the
// credential headers it received, as some proxies do.
func echoKey(status int) func(llmtest.RecordedRequest) (llmtest.Reply, bool) {
	return func(r llmtest.RecordedRequest) (llmtest.Reply, bool) {
		return llmtest.Reply{Status: status, Text: fmt.Sprintf("bad credentials %q %q",
			r.Header.Get("Authorization"), r.Header.Get("X-Api-Key"))}, true
	}
}

func TestKeyNeverInErrorsOrLogs(t *testing.T) {
	for _, p := range []string{ProviderOpenAI, ProviderAnthropic} {
		for _, status := range []int{401, 500} {
			t.Run(fmt.Sprint(p, status), func(t *testing.T) {
				s := newFake(t)
				var logs bytes.Buffer
				cfg := Config{Provider: p, BaseURL: baseURL(p, s), Model: "m", APIKey: testKey, MaxRetries: 1}
				c, err := New(cfg, nil, nil, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
				if err != nil {
					t.Fatal(err)
				}
				c.sleep = (&sleeps{}).sleep
				s.SetResponder(echoKey(status))
				_, err = c.Complete(context.Background(), conversation())
				var ae *APIError
				if !errors.As(err, &ae) {
					t.Fatalf("err = %v, want *APIError", err)
				}
				if !strings.Contains(string(s.Requests()[0].Body), "read my notes") {
					t.Fatal("fake did not get the request")
				}
				for what, text := range map[string]string{"error": err.Error(), "message": ae.Message, "logs": logs.String()} {
					if strings.Contains(text, testKey) || strings.Contains(text, "CANARY") {
						t.Errorf("key canary found in %s", what)
					}
				}
				if !strings.Contains(ae.Message, redact.Masked) {
					t.Errorf("message %q lacks the redaction marker: did the fake echo the key?", ae.Message)
				}
			})
		}
	}
}

func TestConfigRendersRedacted(t *testing.T) {
	cfg := Config{Provider: ProviderOpenAI, Model: "m", APIKey: testKey}
	c, err := New(cfg, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	wrapped := struct{ C Config }{cfg}
	var outs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		outs = append(outs, fmt.Sprintf(verb, cfg), fmt.Sprintf(verb, &cfg), fmt.Sprintf(verb, c),
			fmt.Sprintf(verb, wrapped), fmt.Sprintf(verb, c.Config()))
	}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("cfg", "cfg", cfg, "client", c)
	outs = append(outs, logs.String())
	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	outs = append(outs, string(js))
	for _, o := range outs {
		if strings.Contains(o, "CANARY") {
			t.Errorf("key leaked: %s", o)
		}
	}
	if !strings.Contains(fmt.Sprint(cfg), "APIKey:[redacted]") || !strings.Contains(string(js), redact.Masked) {
		t.Errorf("redaction marker missing: %v / %s", cfg, js)
	}
	if cfg.APIKey != testKey {
		t.Error("rendering modified the config")
	}
}

func TestParseErrorBody(t *testing.T) {
	tests := []struct{ body, typ, msg string }{
		{`{"error":{"type":"rate_limit_error","message":"slow down"}}`, "rate_limit_error", "slow down"},
		{`{"type":"error","error":{"type":"overloaded_error","message":"busy"}}`, "overloaded_error", "busy"},
		{`{"error":"model not found"}`, "", "model not found"},
		{`{"message":"nope"}`, "", "nope"},
		{`<html>Bad Gateway</html>`, "", "<html>Bad Gateway</html>"},
	}
	for _, tt := range tests {
		typ, msg := parseErrorBody([]byte(tt.body))
		if typ != tt.typ || msg != tt.msg {
			t.Errorf("parseErrorBody(%s) = %q, %q", tt.body, typ, msg)
		}
	}
	long := strings.Repeat("é", 400) + "\n\x00tail"
	got := shorten(long, maxErrMessage)
	if len(got) > maxErrMessage+len("…") || strings.ContainsAny(got, "\n\x00") || !strings.HasSuffix(got, "…") {
		t.Errorf("shorten kept %d bytes: %q", len(got), got)
	}
	if got := shorten("a \n\t b", 10); got != "a b" {
		t.Errorf("shorten = %q", got)
	}
}
