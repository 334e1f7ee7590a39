package agent

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/sandbox"
)

// fakeConn scripts runtime_llm answers and records every call.
type fakeConn struct {
	mu        sync.Mutex
	llm       []tools.LLMResponse
	llmReqs   []tools.LLMRequest
	toolCalls []toolCall
	tasks     []*tools.Task
	completed []tools.CompleteTaskArgs
	mcpCalls  []tools.MCPCallArgs
	done      chan struct{}
}

type toolCall struct {
	name string
	args map[string]any
}

func (f *fakeConn) Call(ctx context.Context, name string, args any, out any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch name {
	case tools.RuntimeLLM:
		f.llmReqs = append(f.llmReqs, args.(tools.LLMRequest))
		if len(f.llm) == 0 {
			return errors.New("no scripted reply")
		}
		*out.(*tools.LLMResponse) = f.llm[0]
		f.llm = f.llm[1:]
	case tools.RuntimeNextTask:
		if len(f.tasks) == 0 {
			f.mu.Unlock()
			<-ctx.Done()
			f.mu.Lock()
			return ctx.Err()
		}
		out.(*tools.NextTaskResult).Task = f.tasks[0]
		f.tasks = f.tasks[1:]
	case tools.RuntimeCompleteTask:
		f.completed = append(f.completed, args.(tools.CompleteTaskArgs))
		if f.done != nil {
			f.done <- struct{}{}
		}
	case tools.RuntimeMCPCall:
		f.mcpCalls = append(f.mcpCalls, args.(tools.MCPCallArgs))
		*out.(*tools.MCPCallResult) = tools.MCPCallResult{Text: "remote result"}
	default:
		return errors.New("unexpected runtime tool " + name)
	}
	return nil
}

func (f *fakeConn) CallText(ctx context.Context, name string, args map[string]any) (string, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.toolCalls = append(f.toolCalls, toolCall{name, args})
	return "result of " + name, false, nil
}

func call(id, name, args string) tools.ToolCall {
	return tools.ToolCall{ID: id, Name: name, Arguments: json.RawMessage(args)}
}

func toolReply(calls ...tools.ToolCall) tools.LLMResponse {
	return tools.LLMResponse{Message: tools.Message{Role: tools.RoleAssistant, ToolCalls: calls}}
}

func textReply(s string) tools.LLMResponse {
	return tools.LLMResponse{Message: tools.Message{Role: tools.RoleAssistant, Content: s}}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

var task = tools.Task{ID: "t_1", ConversationID: "c_1", System: "sys",
	Messages: []tools.Message{{Role: tools.RoleUser, Content: "hi"}}, MaxRounds: 4, BudgetMS: 60000}

func TestRunToolThenAnswer(t *testing.T) {
	f := &fakeConn{llm: []tools.LLMResponse{
		toolReply(call("a", tools.MemoryWrite, `{"content":"likes tea","task_id":"t_other"}`)),
		textReply("noted"),
	}}
	got, err := New(f, quiet(), Limits{}).Run(context.Background(), task)
	if err != nil || got != "noted" {
		t.Fatalf("Run = %q, %v; want noted", got, err)
	}
	if len(f.toolCalls) != 1 || f.toolCalls[0].name != tools.MemoryWrite {
		t.Fatalf("tool calls = %+v", f.toolCalls)
	}
	if id := f.toolCalls[0].args[tools.TaskIDArg]; id != "t_1" {
		t.Errorf("task id sent = %v; the worker must inject its own, not the model's", id)
	}
	second := f.llmReqs[1]
	last := second.Messages[len(second.Messages)-1]
	if last.Role != tools.RoleTool || last.ToolCallID != "a" || last.Content != "result of memory_write" {
		t.Errorf("second LLM request does not carry the tool result: %+v", last)
	}
	if second.TaskID != "t_1" || len(second.Tools) != len(tools.Model()) || second.Tools[0].Name != tools.MemoryRead {
		t.Errorf("LLM request = %+v", second)
	}
}

func TestDispatchRefusesNonModelTools(t *testing.T) {
	for _, name := range []string{tools.RuntimeLLM, tools.RuntimeCompleteTask, tools.RuntimeNextTask, tools.RuntimeMCPCall,
		"shell_exec", "", "gh__" + strings.Repeat("x", 70), "Bad__x", "a__"} {
		t.Run(name, func(t *testing.T) {
			f := &fakeConn{llm: []tools.LLMResponse{toolReply(call("x", name, `{}`)), textReply("ok")}}
			if _, err := New(f, quiet(), Limits{}).Run(context.Background(), task); err != nil {
				t.Fatal(err)
			}
			if len(f.toolCalls) != 0 {
				t.Fatalf("tool %q was dispatched: %+v", name, f.toolCalls)
			}
			msgs := f.llmReqs[1].Messages
			last := msgs[len(msgs)-1]
			if !last.IsError || !strings.Contains(last.Content, "no tool named") {
				t.Errorf("refusal not reported to the model: %+v", last)
			}
		})
	}
}

func TestDispatchMalformedArguments(t *testing.T) {
	f := &fakeConn{llm: []tools.LLMResponse{toolReply(call("x", tools.WorkspaceRead, `{"path":`)), textReply("ok")}}
	if _, err := New(f, quiet(), Limits{}).Run(context.Background(), task); err != nil {
		t.Fatal(err)
	}
	msgs := f.llmReqs[1].Messages
	if last := msgs[len(msgs)-1]; !last.IsError || !strings.Contains(last.Content, "not a JSON object") {
		t.Errorf("malformed args not reported: %+v", last)
	}
	if len(f.toolCalls) != 0 {
		t.Errorf("tool ran with malformed args")
	}
}

func TestRoundCap(t *testing.T) {
	var script []tools.LLMResponse
	for range 10 {
		script = append(script, toolReply(call("x", tools.MemoryRead, `{}`)))
	}
	f := &fakeConn{llm: script}
	_, err := New(f, quiet(), Limits{MaxRounds: 3}).Run(context.Background(), task)
	if !errors.Is(err, ErrRoundsExhausted) {
		t.Fatalf("err = %v; want ErrRoundsExhausted", err)
	}
	if len(f.llmReqs) != 3 {
		t.Errorf("LLM calls = %d; want 3 (the worker's cap beats the task's 4)", len(f.llmReqs))
	}
}

func TestServeCompletesTasksAndReportsFailures(t *testing.T) {
	t2 := task
	t2.ID = "t_2"
	f := &fakeConn{
		tasks: []*tools.Task{&task, &t2},
		llm:   []tools.LLMResponse{textReply("first")}, // the second task finds no reply and fails
		done:  make(chan struct{}, 2),
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- New(f, quiet(), Limits{}).Serve(ctx, 1) }()
	for range 2 {
		select {
		case <-f.done:
		case <-time.After(10 * time.Second):
			t.Fatal("tasks were not completed")
		}
	}
	cancel()
	<-errc
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.completed[0].TaskID != "t_1" || f.completed[0].Text != "first" || f.completed[0].Error != "" {
		t.Errorf("first completion = %+v", f.completed[0])
	}
	if f.completed[1].TaskID != "t_2" || f.completed[1].Error == "" {
		t.Errorf("second completion should report an error: %+v", f.completed[1])
	}
}

type fakeSandbox struct{ out string }

func (f fakeSandbox) Run(ctx context.Context, req sandbox.Request, http sandbox.HTTPFunc) (sandbox.Result, error) {
	return sandbox.Result{Value: json.RawMessage(`"done"`), Output: f.out}, nil
}

// TestScriptOutputRedacted: what a script prints passes the shape
// detectors before the model sees it.
func TestScriptOutputRedacted(t *testing.T) {
	key := "ghp_" + strings.Repeat("A1b2C3d4", 5)[:36]
	f := &fakeConn{llm: []tools.LLMResponse{toolReply(call("s", tools.ScriptRun, `{"name":"x"}`)), textReply("ok")}}
	a := New(scriptConn{f}, quiet(), Limits{})
	a.SetSandbox(fakeSandbox{out: "token " + key})
	if _, err := a.Run(context.Background(), task); err != nil {
		t.Fatal(err)
	}
	msgs := f.llmReqs[1].Messages
	got := msgs[len(msgs)-1].Content
	if strings.Contains(got, key) || !strings.Contains(got, "[REDACTED:GITHUB_TOKEN]") || !strings.Contains(got, "UNTRUSTED DATA") {
		t.Errorf("script output reached the model as %q", got)
	}
}

// scriptConn answers runtime_script_source on top of fakeConn.
type scriptConn struct{ *fakeConn }

func (s scriptConn) Call(ctx context.Context, name string, args any, out any) error {
	if name == tools.RuntimeScriptSource {
		*out.(*tools.ScriptSource) = tools.ScriptSource{Name: "x", SHA256: strings.Repeat("a", 64), Source: "x = 1", RunID: "r"}
		return nil
	}
	return s.fakeConn.Call(ctx, name, args, out)
}

// A namespaced external tool goes through runtime_mcp_call with the
// worker's task id, never as a direct tool call.
func TestDispatchRemoteTool(t *testing.T) {
	f := &fakeConn{llm: []tools.LLMResponse{
		toolReply(call("r", "github__search_issues", `{"q":"bug","task_id":"t_other"}`)), textReply("done")}}
	if _, err := New(f, quiet(), Limits{}).Run(context.Background(), task); err != nil {
		t.Fatal(err)
	}
	if len(f.toolCalls) != 0 || len(f.mcpCalls) != 1 {
		t.Fatalf("direct %+v, runtime_mcp_call %+v", f.toolCalls, f.mcpCalls)
	}
	c := f.mcpCalls[0]
	if c.TaskID != "t_1" || c.Tool != "github__search_issues" || !strings.Contains(string(c.Arguments), `"q":"bug"`) {
		t.Errorf("runtime_mcp_call args %+v", c)
	}
	last := f.llmReqs[1].Messages[len(f.llmReqs[1].Messages)-1]
	if last.Content != "remote result" || last.ToolName != "github__search_issues" {
		t.Errorf("tool message %+v", last)
	}
}
