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
