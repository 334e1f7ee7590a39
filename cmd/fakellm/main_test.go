package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

func TestRunServesAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	env := map[string]string{"FAKELLM_ADDR": "127.0.0.1:0"}
	go func() { done <- run(ctx, []string{"fakellm"}, func(k string) string { return env[k] }, pw) }()

	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	m := regexp.MustCompile(`addr=(\S+)`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("no address in start line %q", line)
	}
	body := `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"ping"}]}`
	resp, err := http.Post("http://"+m[1]+"/v1/messages", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Content []struct{ Text string } `json:"content"`
	}
	err = json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if err != nil || len(got.Content) != 1 || got.Content[0].Text != "fake reply: ping" {
		t.Fatalf("reply = %+v, %v", got, err)
	}
	// Out of process, the recorded requests show the cache_control marks
	// and the usage reports the simulated prompt cache: the same prefix
	// sent again is read from it.
	cached := `{"model":"m","max_tokens":5,"system":[{"type":"text","text":"be brief","cache_control":{"type":"ephemeral"}}],` +
		`"messages":[{"role":"user","content":[{"type":"text","text":"ping","cache_control":{"type":"ephemeral"}}]}]}`
	var usage []map[string]int
	for range 2 {
		resp, err := http.Post("http://"+m[1]+"/v1/messages", "application/json", strings.NewReader(cached))
		if err != nil {
			t.Fatal(err)
		}
		var r struct {
			Usage map[string]int `json:"usage"`
		}
		err = json.NewDecoder(resp.Body).Decode(&r)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		usage = append(usage, r.Usage)
	}
	if usage[0]["cache_creation_input_tokens"] == 0 || usage[0]["cache_read_input_tokens"] != 0 ||
		usage[1]["cache_read_input_tokens"] != usage[0]["cache_creation_input_tokens"] || usage[1]["cache_creation_input_tokens"] != 0 {
		t.Errorf("usage %v then %v: want a write, then the same read", usage[0], usage[1])
	}
	resp, err = http.Get("http://" + m[1] + "/_fake/requests")
	if err != nil {
		t.Fatal(err)
	}
	var recs []struct {
		CacheBreakpoints []string `json:"cache_breakpoints"`
	}
	err = json.NewDecoder(resp.Body).Decode(&recs)
	resp.Body.Close()
	if err != nil || len(recs) != 3 || len(recs[0].CacheBreakpoints) != 0 ||
		strings.Join(recs[2].CacheBreakpoints, " ") != "system[0] messages[0].content[0]" {
		t.Errorf("recorded breakpoints %+v, %v", recs, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
}

func TestRunBadFlag(t *testing.T) {
	err := run(context.Background(), []string{"fakellm", "-addr", "256.0.0.1:bad"}, func(string) string { return "" }, io.Discard)
	if err == nil {
		t.Fatal("bad address accepted")
	}
}
