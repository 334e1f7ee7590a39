package llmtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func post(t *testing.T, url, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&v)
	return resp.StatusCode, v
}

func TestDefaultRepliesAndFIFO(t *testing.T) {
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Enqueue(Reply{Text: "first"})
	s.SetResponder(func(r RecordedRequest) (Reply, bool) { return Reply{Text: "rule"}, r.Model == "rule" })
	oa := `{"model":"m","messages":[{"role":"user","content":"hi"}]}`
	long := strings.Repeat("x", 300)
	ant := `{"model":"m","messages":[{"role":"user","content":"q"},
	  {"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"memory_read","input":{}}]},
	  {"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"` + long + `"}]}]}`
	_, r1 := post(t, s.URL()+"/v1/messages", ant)
	_, r2 := post(t, s.URL()+"/v1/chat/completions", oa)
	_, r3 := post(t, s.URL()+"/v1/messages", ant)
	_, r4 := post(t, s.URL()+"/v1/chat/completions", strings.Replace(oa, `"m"`, `"rule"`, 1))
	got := []any{
		r1["content"].([]any)[0].(map[string]any)["text"],
		r2["choices"].([]any)[0].(map[string]any)["message"].(map[string]any)["content"],
		r3["content"].([]any)[0].(map[string]any)["text"],
		r4["choices"].([]any)[0].(map[string]any)["message"].(map[string]any)["content"],
	}
	want := []any{"first", "fake reply: hi", "fake reply after memory_read: " + long[:200], "rule"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("reply %d = %q, want %q", i, got[i], want[i])
		}
	}
	if n := len(s.Requests()); n != 4 {
		t.Errorf("recorded %d requests", n)
	}
}

func TestControlEndpoints(t *testing.T) {
	srv, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	code, _ := post(t, srv.URL()+"/_fake/enqueue", `[{"status":429,"retry_after":"2","text":"slow"},{"tool_calls":[{"name":"chat_send","args":{"text":"yo"}}]}]`)
	if code != http.StatusOK {
		t.Fatalf("enqueue status %d", code)
	}
	if code, _ := post(t, srv.URL()+"/_fake/enqueue", `[{"bogus":1}]`); code != http.StatusBadRequest {
		t.Errorf("unknown field accepted: %d", code)
	}
	body := `{"model":"m","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"chat_send"}}]}`
	resp, err := http.Post(srv.URL()+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "2" {
		t.Errorf("scripted error: %d %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	_, r := post(t, srv.URL()+"/v1/chat/completions", body)
	call := r["choices"].([]any)[0].(map[string]any)["message"].(map[string]any)["tool_calls"].([]any)[0].(map[string]any)
	if fn := call["function"].(map[string]any); fn["name"] != "chat_send" || fn["arguments"] != `{"text":"yo"}` {
		t.Errorf("tool call = %v", call)
	}
	get, err := http.Get(srv.URL() + "/_fake/requests")
	if err != nil {
		t.Fatal(err)
	}
	var recs []RecordedRequest
	if err := json.NewDecoder(get.Body).Decode(&recs); err != nil {
		t.Fatal(err)
	}
	get.Body.Close()
	if len(recs) != 2 || !bytes.Equal(recs[0].Body, []byte(body)) || recs[1].ToolNames[0] != "chat_send" || recs[1].Messages[0].Content != "hi" {
		t.Errorf("recorded = %+v", recs)
	}
	post(t, srv.URL()+"/_fake/reset", "")
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests after reset", n)
	}
}

// The package is built into cmd/fakellm, so it must not link "testing".
func TestNoTestingImport(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep == "testing" {
			t.Fatal("llmtest imports testing")
		}
	}
}

// readSSE posts body and returns the answer's event names and data, and
// how long after the first data line the last one came.
func readSSE(t *testing.T, url, body string) (names, data []string, spread time.Duration) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type = %q", ct)
	}
	var first time.Time
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		field, value, _ := strings.Cut(sc.Text(), ": ")
		switch field {
		case "event":
			names = append(names, value)
		case "data":
			if first.IsZero() {
				first = time.Now()
			}
			data = append(data, value)
		}
	}
	return names, data, time.Since(first)
}

func TestStreamedAnswers(t *testing.T) {
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.SetChunkDelay(20 * time.Millisecond)
	reply := Reply{Text: "0123456789abcdefghij", InputTokens: 3, OutputTokens: 5,
		ToolCalls: []Call{{ID: "c1", Name: "chat_send", Args: map[string]string{"text": "hello"}}}}
	s.Enqueue(reply, reply)

	_, data, spread := readSSE(t, s.URL()+"/v1/chat/completions",
		`{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`)
	var text, args strings.Builder
	for _, d := range data[:len(data)-1] {
		var ch struct {
			Choices []struct {
				Delta struct {
					Content   string `json:"content"`
					ToolCalls []struct {
						Function struct{ Arguments string } `json:"function"`
					} `json:"tool_calls"`
				} `json:"delta"`
			} `json:"choices"`
			Usage *struct {
				PromptTokens int `json:"prompt_tokens"`
			} `json:"usage"`
		}
		if err := json.Unmarshal([]byte(d), &ch); err != nil {
			t.Fatalf("chunk %q: %v", d, err)
		}
		for _, c := range ch.Choices {
			text.WriteString(c.Delta.Content)
			for _, tc := range c.Delta.ToolCalls {
				args.WriteString(tc.Function.Arguments)
			}
		}
		if ch.Usage != nil && ch.Usage.PromptTokens != 3 {
			t.Errorf("usage = %+v", ch.Usage)
		}
	}
	// role, 3 text pieces, id+name, 2 argument fragments, finish, usage, [DONE]
	if text.String() != reply.Text || args.String() != `{"text":"hello"}` || len(data) != 10 || data[9] != "[DONE]" {
		t.Errorf("openai stream: text %q args %q, %d events: %q", text.String(), args.String(), len(data), data)
	}
	if spread < 8*15*time.Millisecond {
		t.Errorf("events came within %v despite the chunk delay", spread)
	}

	names, _, _ := readSSE(t, s.URL()+"/v1/messages", `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	want := "message_start ping content_block_start content_block_delta content_block_delta content_block_delta " +
		"content_block_stop content_block_start content_block_delta content_block_delta content_block_stop message_delta message_stop"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("anthropic events:\n got %s\nwant %s", got, want)
	}
	if reqs := s.Requests(); len(reqs) != 2 || !reqs[0].Stream || !reqs[1].Stream {
		t.Errorf("recorded stream flags wrong: %+v", reqs)
	}
}

func TestStreamCut(t *testing.T) {
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Enqueue(Reply{Text: "0123456789abcdefghij", StreamCut: 2})
	_, data, _ := readSSE(t, s.URL()+"/v1/chat/completions", `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	if len(data) != 2 || strings.Contains(strings.Join(data, ""), "DONE") {
		t.Errorf("cut stream sent %q", data)
	}
}

// TestCloseEndsDelayedReply: a reply sleeping out its Delay ends when the
// server closes, not an hour later.
func TestCloseEndsDelayedReply(t *testing.T) {
	s := NewHandler()
	s.Enqueue(Reply{Text: "late", Delay: time.Hour})
	req := httptest.NewRequest("POST", "/v1/chat/completions",
		strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`))
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.ServeHTTP(httptest.NewRecorder(), req)
	}()
	for len(s.Requests()) == 0 { // the reply is taken, then it sleeps
		time.Sleep(time.Millisecond)
	}
	s.Close()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("the delayed reply did not end when the server closed")
	}
}
