package orchestrator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator"
	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/llm"
	"github.com/airlockhq/airlock/orchestrator/llm/llmtest"
)

const argsSecret = "CANARYargsZq7Xv9Lm2Pw"

// mask hides the secret in a failure message.
func mask(s string) string { return strings.ReplaceAll(s, argsSecret, "<the secret>") }

// escapeAll writes every character of s as a JSON \u00XX escape.
func escapeAll(s, format string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		fmt.Fprintf(&b, format, c)
	}
	return b.String()
}

// escapeMixed escapes every other character, in alternating case: no
// fixed encoding of the value, only a JSON decoder, sees it.
func escapeMixed(s string) string {
	var b strings.Builder
	for i, c := range []byte(s) {
		switch i % 4 {
		case 0:
			fmt.Fprintf(&b, `\u%04x`, c)
		case 2:
			fmt.Fprintf(&b, `\u%04X`, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// countingHost is a loopback web host that counts its requests.
func countingHost(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, "hello")
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// TestModelToolArgumentsRedactedAfterDecoding: a (rogue) worker calls
// model tools with a vault secret spelled in JSON escapes. The tools see
// only the redacted value: nothing on disk holds it, and web_fetch refuses
// the URL, audits the refusal by name and makes no request.
func TestModelToolArgumentsRedactedAfterDecoding(t *testing.T) {
	h := newHarness(t, orchestrator.Config{}, llm.Budget{})
	h.setSecret(t, "WEATHER_API_KEY", argsSecret)
	host, hits := countingHost(t)
	c := h.client(t)
	ctx := context.Background()
	conv := h.conversation(t)
	h.submit(t, conv, "hello")
	task := takeTask(t, c)

	forms := map[string]string{
		"all lower":    escapeAll(argsSecret, `\u%04x`),
		"all upper":    escapeAll(argsSecret, `\u%04X`),
		"mixed":        escapeMixed(argsSecret),
		"json in json": strings.ReplaceAll(escapeMixed(argsSecret), `\`, `\\`),
	}
	call := func(name, args string) (string, bool) {
		t.Helper()
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(args), &m); err != nil {
			t.Fatalf("%s: %v", args, err)
		}
		raw := map[string]any{tools.TaskIDArg: task.ID} // the values go as raw JSON text, escapes intact
		for k, v := range m {
			raw[k] = v
		}
		text, isErr, err := c.CallText(ctx, name, raw)
		if err != nil {
			t.Fatal(err)
		}
		return text, isErr
	}
	for name, f := range forms {
		if text, isErr := call(tools.MemoryWrite, `{"content":"key `+f+`\n"}`); isErr {
			t.Fatalf("%s: memory_write: %s", name, text)
		}
		if text, isErr := call(tools.WorkspaceWrite, `{"path":"k.json","content":"{\"k\":\"`+f+`\"}"}`); isErr {
			t.Fatalf("%s: workspace_write: %s", name, text)
		}
		file, err := h.ws.Read(ctx, "k.json")
		if err != nil || strings.Contains(file, argsSecret) || !strings.Contains(file, "[REDACTED:WEATHER_API_KEY]") {
			t.Errorf("%s: the workspace file holds %q (%v)", name, mask(file), err)
		}
		for _, u := range []string{host.URL + "/?k=" + f, host.URL + "/" + f + "/x"} { // query and path
			text, isErr := call(tools.WebFetch, `{"url":"`+u+`"}`)
			if !isErr || !strings.Contains(text, "carries a secret value (WEATHER_API_KEY)") {
				t.Errorf("%s: web_fetch %q: isErr=%v; want a refusal", name, mask(text), isErr)
			}
		}
	}
	// A secret hidden by percent-escapes, any case, even twice over.
	var pct strings.Builder
	for _, b := range []byte(argsSecret) {
		fmt.Fprintf(&pct, "%%25%02x", b)
	}
	if text, isErr := call(tools.WebFetch, `{"url":"`+host.URL+`/?k=`+pct.String()+`&bad=%zz"}`); !isErr ||
		!strings.Contains(text, "WEATHER_API_KEY") {
		t.Errorf("web_fetch with a percent-escaped secret: %q isErr=%v; want a refusal", mask(text), isErr)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the web host received %d requests; want none", n)
	}
	mem, err := memoryText(ctx, h)
	if err != nil || strings.Contains(mem, argsSecret) || strings.Count(mem, "key [REDACTED:WEATHER_API_KEY]") != len(forms) {
		t.Errorf("memory = %q (%v)", mask(mem), err)
	}
	entries, err := h.audit.List(ctx, audit.Filter{Action: "web.fetch"})
	if err != nil {
		t.Fatal(err)
	}
	if want := 2*len(forms) + 1; len(entries) != want {
		t.Fatalf("web.fetch audited %d times; want %d", len(entries), want)
	}
	for _, e := range entries {
		if e.Outcome != "denied" || !strings.Contains(string(e.Details), "WEATHER_API_KEY") ||
			strings.Contains(string(e.Details)+e.Target, argsSecret) {
			t.Errorf("audit entry %d: %s %s %s", e.ID, e.Outcome, mask(e.Target), mask(string(e.Details)))
		}
	}

	// An ordinary URL still works.
	if text, isErr := call(tools.WebFetch, `{"url":"`+host.URL+`/ok"}`); isErr || !strings.Contains(text, "hello") {
		t.Errorf("web_fetch of a clean URL: %q isErr=%v", mask(text), isErr)
	}
}

// TestModelToolCallsRedactedThroughLLM: the model sends a secret spelled
// in escapes; the stored tool call, the arguments the worker receives and
// the next request to the provider hold only the redacted value.
func TestModelToolCallsRedactedThroughLLM(t *testing.T) {
	h := newHarness(t, orchestrator.Config{}, llm.Budget{})
	h.setSecret(t, "WEATHER_API_KEY", argsSecret)
	host, hits := countingHost(t)
	h.runAgent(t)
	ctx := context.Background()
	esc := escapeAll(argsSecret, `\u%04x`)
	h.llm.Enqueue(llmtest.Reply{ToolCalls: []llmtest.Call{
		{Name: tools.WebFetch, Args: `{"url":"` + host.URL + `/?k=` + esc + `"}`},
		{Name: tools.MemoryWrite, Args: `{"content":"key ` + escapeMixed(argsSecret) + `"}`},
	}})
	conv := h.conversation(t)
	if r := <-h.submit(t, conv, "go"); r.Failed {
		t.Fatalf("reply = %+v", r)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the web host received %d requests", n)
	}
	msgs, err := h.store.Messages(ctx, conv)
	if err != nil {
		t.Fatal(err)
	}
	var stored int
	for _, m := range msgs {
		for _, tc := range m.ToolCalls {
			stored++
			if plain := decodedArgs(t, tc.Arguments); strings.Contains(plain, argsSecret) || !strings.Contains(plain, "[REDACTED:WEATHER_API_KEY]") {
				t.Errorf("stored %s arguments decode to %q", tc.Name, mask(plain))
			}
		}
	}
	if stored != 2 {
		t.Errorf("%d tool calls stored; want 2", stored)
	}
	reqs := h.llm.Requests()
	if len(reqs) != 2 {
		t.Fatalf("LLM requests = %d; want 2", len(reqs))
	}
	body := string(reqs[1].Body)
	if strings.Contains(body, esc) || strings.Contains(body, argsSecret) {
		t.Error("the second LLM request body holds the secret")
	}
	for _, m := range reqs[1].Messages {
		for _, tc := range m.ToolCalls {
			if plain := decodedArgs(t, tc.Arguments); strings.Contains(plain, argsSecret) {
				t.Errorf("the provider reads %s arguments %q", tc.Name, mask(plain))
			}
		}
	}
	if mem, err := memoryText(ctx, h); err != nil || strings.Contains(mem, argsSecret) {
		t.Errorf("the memory holds the secret (%v)", err)
	}
}

// decodedArgs returns the strings of a JSON value, decoded and joined.
func decodedArgs(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("arguments %s: %v", raw, err)
	}
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			b.WriteString(x + "\n")
		case map[string]any:
			for k, e := range x {
				b.WriteString(k + "\n")
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return b.String()
}
