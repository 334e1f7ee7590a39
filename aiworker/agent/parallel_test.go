package agent

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/airlockhq/airlock/mcp/tools"
)

// bigConn answers every model tool with size bytes of text.
type bigConn struct {
	*fakeConn
	size int
}

func (b bigConn) CallText(ctx context.Context, name string, args map[string]any) (string, bool, error) {
	b.fakeConn.CallText(ctx, name, args)
	return strings.Repeat("é", b.size/2), false, nil
}

// TestToolResultsBounded: a tool result larger than MaxToolResultBytes
// reaches the model cut, with a note and valid UTF-8; tool calls past
// MaxToolCallsPerRound in one answer are not run and are answered as such.
func TestToolResultsBounded(t *testing.T) {
	var calls []tools.ToolCall
	for i := range MaxToolCallsPerRound + 3 {
		calls = append(calls, call(fmt.Sprint(i), tools.MemoryRead, `{}`))
	}
	f := &fakeConn{llm: []tools.LLMResponse{toolReply(calls...), textReply("ok")}}
	if _, err := New(bigConn{f, 1 << 20}, quiet(), Limits{}).Run(context.Background(), task); err != nil {
		t.Fatal(err)
	}
	if len(f.toolCalls) != MaxToolCallsPerRound {
		t.Errorf("%d tool calls ran, want %d", len(f.toolCalls), MaxToolCallsPerRound)
	}
	msgs := f.llmReqs[1].Messages
	results := msgs[len(msgs)-len(calls):]
	for i, m := range results {
		if m.ToolCallID != fmt.Sprint(i) {
			t.Fatalf("result %d answers %q", i, m.ToolCallID)
		}
		if i < MaxToolCallsPerRound {
			if len(m.Content) > MaxToolResultBytes || !utf8.ValidString(m.Content) || !strings.Contains(m.Content, "more bytes cut") {
				t.Fatalf("result %d: %d bytes, valid UTF-8 %v", i, len(m.Content), utf8.ValidString(m.Content))
			}
		} else if !m.IsError || !strings.Contains(m.Content, "not run") {
			t.Errorf("call %d past the cap: %+v", i, m)
		}
	}
}

// gateConn holds every runtime_llm call until want of them are waiting
// at once, then answers them all.
type gateConn struct {
	mu      sync.Mutex
	tasks   []*tools.Task
	waiting int
	most    int
	open    chan struct{}
	opened  bool
	want    int
	done    chan string
}

func (g *gateConn) Call(ctx context.Context, name string, args any, out any) error {
	switch name {
	case tools.RuntimeNextTask:
		g.mu.Lock()
		if len(g.tasks) == 0 {
			g.mu.Unlock()
			<-ctx.Done()
			return ctx.Err()
		}
		out.(*tools.NextTaskResult).Task = g.tasks[0]
		g.tasks = g.tasks[1:]
		g.mu.Unlock()
	case tools.RuntimeLLM:
		g.mu.Lock()
		g.waiting++
		g.most = max(g.most, g.waiting)
		if g.waiting == g.want && !g.opened {
			g.opened = true
			close(g.open)
		}
		g.mu.Unlock()
		defer func() { g.mu.Lock(); g.waiting--; g.mu.Unlock() }()
		select {
		case <-g.open:
		case <-ctx.Done():
			return ctx.Err()
		}
		*out.(*tools.LLMResponse) = textReply("ok")
	case tools.RuntimeCompleteTask:
		g.done <- args.(tools.CompleteTaskArgs).Text
	}
	return nil
}

func (g *gateConn) CallText(context.Context, string, map[string]any) (string, bool, error) {
	return "", false, nil
}

// TestServeRunsManyAtOnce: with the default cap, more tasks waiting for
// the model are DefaultParallel in flight at once, never more, and all
// finish.
func TestServeRunsManyAtOnce(t *testing.T) {
	const n = DefaultParallel + 100
	g := &gateConn{open: make(chan struct{}), want: DefaultParallel, done: make(chan string, n)}
	for i := range n {
		tk := task
		tk.ID = fmt.Sprintf("t_%d", i)
		g.tasks = append(g.tasks, &tk)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- New(g, quiet(), Limits{}).Serve(ctx, DefaultParallel) }()
	for i := range n {
		select {
		case text := <-g.done:
			if text != "ok" {
				t.Fatalf("task %d answered %q", i, text)
			}
		case <-time.After(20 * time.Second):
			g.mu.Lock()
			t.Fatalf("%d tasks of %d done; %d waited for the model at once, want %d", i, n, g.most, DefaultParallel)
		}
	}
	cancel()
	<-errc
	if g.most != DefaultParallel {
		t.Errorf("%d tasks waited for the model at once, want the cap %d", g.most, DefaultParallel)
	}
}
