package worker

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/airlockhq/airlock/mcp/tools"
)

// next takes a task without waiting; "" when none may go now.
func next(t *testing.T, q *Queue) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	task, ok := q.Next(ctx, 7)
	if !ok {
		return ""
	}
	return task.ID
}

// TestRoundRobinByConversation: a conversation with many queued tasks
// takes its turn like the others, never has two in flight, and its next
// task goes as soon as its running one ends.
func TestRoundRobinByConversation(t *testing.T) {
	q, c, _ := newTestQueue()
	dl := c.now().Add(time.Hour)
	for i := range 5 {
		q.Submit(tools.Task{ID: fmt.Sprintf("a%d", i), ConversationID: "A"}, dl)
	}
	q.Submit(tools.Task{ID: "b0", ConversationID: "B"}, dl)
	q.Submit(tools.Task{ID: "s0"}, dl) // a script test: no conversation
	q.Submit(tools.Task{ID: "s1"}, dl)
	q.Submit(tools.Task{ID: "c0", ConversationID: "C"}, dl)
	q.Submit(tools.Task{ID: "b1", ConversationID: "B"}, dl)

	var got []string
	for id := next(t, q); id != ""; id = next(t, q) {
		got = append(got, id)
	}
	if want := []string{"a0", "b0", "s0", "s1", "c0"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("first round = %v, want %v (one task per conversation, in turn)", got, want)
	}
	if st := q.Status(time.Minute); st.Queued != 5 || st.InFlight != 5 {
		t.Errorf("status = %d queued, %d in flight; want 5 and 5", st.Queued, st.InFlight)
	}
	// B ends first: its next task goes, though A queued earlier.
	if err := q.Complete("b0", 7, Result{Text: "ok"}); err != nil {
		t.Fatal(err)
	}
	if id := next(t, q); id != "b1" {
		t.Fatalf("after b0 ended: %q, want b1", id)
	}
	if id := next(t, q); id != "" {
		t.Fatalf("%q went while every conversation with queued tasks has one running", id)
	}
	for i := range 4 {
		if err := q.Complete(fmt.Sprintf("a%d", i), 7, Result{Text: "ok"}); err != nil {
			t.Fatal(err)
		}
		if id, want := next(t, q), fmt.Sprintf("a%d", i+1); id != want {
			t.Fatalf("after a%d ended: %q, want %s (in order within the conversation)", i, id, want)
		}
	}
	if st := q.Status(time.Minute); st.Queued != 0 {
		t.Errorf("queued = %d after all went", st.Queued)
	}
}

// TestWaitingNextWokenByCompletion: a Next waiting while the only queued
// task's conversation is busy gets that task when the running one ends.
func TestWaitingNextWokenByCompletion(t *testing.T) {
	q, c, _ := newTestQueue()
	dl := c.now().Add(time.Hour)
	q.Submit(tools.Task{ID: "a0", ConversationID: "A"}, dl)
	q.Submit(tools.Task{ID: "a1", ConversationID: "A"}, dl)
	if id := next(t, q); id != "a0" {
		t.Fatalf("first = %q", id)
	}
	got := make(chan string, 1)
	go func() {
		task, _ := q.Next(context.Background(), 7)
		got <- task.ID
	}()
	select {
	case id := <-got:
		t.Fatalf("%q went while a0 runs", id)
	case <-time.After(30 * time.Millisecond):
	}
	if err := q.Complete("a0", 7, Result{}); err != nil {
		t.Fatal(err)
	}
	select {
	case id := <-got:
		if id != "a1" {
			t.Fatalf("got %q", id)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting Next was not woken when a0 ended")
	}
}

// TestCancelAndReapKeepTurns: cancelling or reaping queued tasks keeps the
// others' order and counts.
func TestCancelAndReapKeepTurns(t *testing.T) {
	q, c, _ := newTestQueue()
	q.Submit(tools.Task{ID: "a0", ConversationID: "A"}, c.now().Add(time.Minute))
	q.Submit(tools.Task{ID: "a1", ConversationID: "A"}, c.now().Add(time.Hour))
	q.Submit(tools.Task{ID: "b0", ConversationID: "B"}, c.now().Add(time.Hour))
	tc := q.Submit(tools.Task{ID: "c0", ConversationID: "C"}, c.now().Add(time.Hour))
	q.Cancel("c0", "gone")
	if r := <-tc.Done; !r.Failed {
		t.Fatal("cancelled task not failed")
	}
	c.add(2 * time.Minute)
	if failed := q.Reap(); fmt.Sprint(failed) != "[a0]" {
		t.Fatalf("reaped %v, want [a0]", failed)
	}
	if st := q.Status(time.Minute); st.Queued != 2 {
		t.Fatalf("queued = %d, want 2", st.Queued)
	}
	if a, b := next(t, q), next(t, q); a+b != "a1b0" {
		t.Fatalf("order %s %s", a, b)
	}
}

// TestQueueConcurrent: many workers take and finish many tasks of many
// conversations at once (run with -race): every task ends once, and no
// conversation ever has two tasks in flight.
func TestQueueConcurrent(t *testing.T) {
	q, c, _ := newTestQueue()
	const convs, per, workers = 40, 5, 16
	dl := c.now().Add(time.Hour)
	var tickets []Ticket
	for i := range per {
		for cv := range convs {
			tickets = append(tickets, q.Submit(tools.Task{ID: fmt.Sprintf("%d-%d", cv, i), ConversationID: fmt.Sprint(cv)}, dl))
		}
	}
	var mu sync.Mutex
	busy := map[string]bool{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				task, ok := q.Next(ctx, 7)
				if !ok {
					return
				}
				mu.Lock()
				if busy[task.ConversationID] {
					t.Errorf("conversation %s has two tasks in flight", task.ConversationID)
				}
				busy[task.ConversationID] = true
				mu.Unlock()
				time.Sleep(time.Millisecond)
				mu.Lock()
				busy[task.ConversationID] = false
				mu.Unlock()
				if err := q.Complete(task.ID, 7, Result{Text: task.ID}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	for _, tk := range tickets {
		select {
		case r := <-tk.Done:
			if r.Failed || r.Text != tk.ID {
				t.Fatalf("%s ended with %+v", tk.ID, r)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%s never ended", tk.ID)
		}
	}
	cancel()
	wg.Wait()
	if st := q.Status(time.Minute); st.Queued != 0 || st.InFlight != 0 {
		t.Errorf("status after all: %+v", st)
	}
}
