package worker

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/airlockhq/airlock/mcp/tools"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type procs struct {
	mu   sync.Mutex
	dead map[int]bool
}

func (p *procs) alive(pid int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return pid != 0 && !p.dead[pid]
}
func (p *procs) kill(pid int) { p.mu.Lock(); p.dead[pid] = true; p.mu.Unlock() }

func newTestQueue() (*Queue, *clock, *procs) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	p := &procs{dead: map[int]bool{}}
	return New(c.now, p.alive), c, p
}

func TestNextWaitsForSubmit(t *testing.T) {
	q, c, _ := newTestQueue()
	got := make(chan tools.Task, 1)
	go func() {
		task, ok := q.Next(context.Background(), 42)
		if ok {
			got <- task
		}
	}()
	tk := q.Submit(tools.Task{ID: "t1"}, c.now().Add(time.Minute))
	select {
	case task := <-got:
		if task.ID != "t1" {
			t.Fatalf("got task %q", task.ID)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a waiting Next did not receive the submitted task")
	}
	if err := q.Complete("t1", 42, Result{Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	if r := <-tk.Done; r.Text != "hi" || r.Failed {
		t.Fatalf("result = %+v", r)
	}
	if err := q.Complete("t1", 42, Result{Text: "again"}); !errors.Is(err, ErrUnknownTask) {
		t.Fatalf("second Complete = %v; want ErrUnknownTask", err)
	}
}

func TestNextReturnsOnContextEnd(t *testing.T) {
	q, _, _ := newTestQueue()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, ok := q.Next(ctx, 1); ok {
		t.Fatal("Next returned a task from an empty queue")
	}
}

func TestTaskIsBoundToItsProcess(t *testing.T) {
	q, c, _ := newTestQueue()
	q.Submit(tools.Task{ID: "t1"}, c.now().Add(time.Minute))
	if _, ok := q.Next(context.Background(), 10); !ok {
		t.Fatal("no task")
	}
	if _, err := q.Task("t1", 11); !errors.Is(err, ErrTaskBound) {
		t.Errorf("Task from another pid = %v; want ErrTaskBound", err)
	}
	if err := q.Complete("t1", 11, Result{Text: "x"}); !errors.Is(err, ErrTaskBound) {
		t.Errorf("Complete from another pid = %v; want ErrTaskBound", err)
	}
	if _, err := q.Task("t1", 10); err != nil {
		t.Errorf("Task from the owner = %v", err)
	}
}

func TestReapFailsTasksOfDeadWorkersAndLateTasks(t *testing.T) {
	q, c, p := newTestQueue()
	dead := q.Submit(tools.Task{ID: "dead"}, c.now().Add(time.Hour))
	late := q.Submit(tools.Task{ID: "late"}, c.now().Add(time.Minute))
	queued := q.Submit(tools.Task{ID: "queued"}, c.now().Add(time.Minute))
	q.Next(context.Background(), 7)
	q.Next(context.Background(), 8)
	q.SetNotice("dead", "budget gone")

	if ids := q.Reap(); len(ids) != 0 {
		t.Fatalf("Reap with live workers failed %v", ids)
	}
	p.kill(7)
	if ids := q.Reap(); len(ids) != 1 || ids[0] != "dead" {
		t.Fatalf("Reap after kill = %v; want [dead]", ids)
	}
	if r := <-dead.Done; !r.Failed || r.Notice != "budget gone" {
		t.Errorf("dead task result = %+v", r)
	}
	c.add(2 * time.Minute)
	if ids := q.Reap(); len(ids) != 2 {
		t.Fatalf("Reap after deadline = %v; want late and queued", ids)
	}
	for _, tk := range []Ticket{late, queued} {
		if r := <-tk.Done; !r.Failed {
			t.Errorf("%s not failed: %+v", tk.ID, r)
		}
	}
}

func TestCountLLMCallCaps(t *testing.T) {
	q, c, _ := newTestQueue()
	q.Submit(tools.Task{ID: "t"}, c.now().Add(time.Minute))
	q.Next(context.Background(), 1)
	for i := 1; i <= 4; i++ {
		ok, err := q.CountLLMCall("t", 1, 3)
		if err != nil || ok != (i <= 3) {
			t.Fatalf("call %d: ok=%v err=%v", i, ok, err)
		}
	}
}

func TestStatus(t *testing.T) {
	q, c, p := newTestQueue()
	if q.Status(time.Minute).Connected {
		t.Fatal("connected before any worker polled")
	}
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	go func() { close(started); q.Next(ctx, 5) }()
	<-started
	deadline := time.Now().Add(5 * time.Second)
	for !q.Status(time.Minute).Connected {
		if time.Now().After(deadline) {
			t.Fatal("a polling worker is not reported connected")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	for q.Status(time.Minute).PID == 0 {
		time.Sleep(time.Millisecond)
	}
	if st := q.Status(time.Minute); !st.Connected || st.PID != 5 {
		t.Errorf("a live worker seen within the grace period is not connected: %+v", st)
	}
	p.kill(5)
	for deadline := time.Now().Add(5 * time.Second); q.Status(time.Minute).Connected; {
		if time.Now().After(deadline) {
			t.Fatal("a dead worker is still reported connected")
		}
		time.Sleep(time.Millisecond)
	}
	p.dead[5] = false
	c.add(2 * time.Minute)
	if q.Status(time.Minute).Connected {
		t.Error("a worker not seen for longer than the grace period is reported connected")
	}
}

func TestCancelQueuedTask(t *testing.T) {
	q, c, _ := newTestQueue()
	tk := q.Submit(tools.Task{ID: "t"}, c.now().Add(time.Minute))
	q.Cancel("t", "gone")
	if r := <-tk.Done; !r.Failed {
		t.Fatal("cancelled task not failed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, ok := q.Next(ctx, 1); ok {
		t.Fatal("a cancelled task was handed out")
	}
}
