package admin

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator"
	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/orchestrator/worker"
)

// TestLoadShown (issue 13): the dashboard, /metrics and /api/v1/status
// show the tasks running, queued for the worker and waiting behind their
// conversation, and the worker's cap.
func TestLoadShown(t *testing.T) {
	e := newEnv(t)
	e.setup()
	ctx := context.Background()
	conv, err := e.store.CreateConversation(ctx, store.SourceAPI, "t")
	if err != nil {
		t.Fatal(err)
	}
	// The waiting messages give up when the test ends; the running task
	// is completed.
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	send := func(text string) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.core.HandleMessage(wctx, orchestrator.Message{ConversationID: conv.ID, Source: store.SourceAPI, Author: "t", Text: text})
		}()
	}
	send("one")
	// The worker (pid 4242, cap 64) takes it; two more wait their turn.
	nctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	first, ok := e.queue.Next(nctx, 4242)
	if !ok {
		t.Fatal("the first message's task was never queued")
	}
	defer func() {
		stop()
		e.queue.Cancel("other", "test over")
		e.queue.Complete(first.ID, 4242, worker.Result{Text: "done"})
		wg.Wait()
	}()
	e.queue.SetParallel(4242, 64)
	send("two")
	send("three")
	e.queue.Submit(tools.Task{ID: "other", ConversationID: "elsewhere"}, time.Now().Add(time.Minute))
	deadline := time.Now().Add(10 * time.Second)
	for n, _ := e.core.Waiting(); n != 2; n, _ = e.core.Waiting() {
		if time.Now().After(deadline) {
			t.Fatalf("%d messages waiting, want 2", n)
		}
		time.Sleep(5 * time.Millisecond)
	}

	resp, err := http.Get(e.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"airlock_tasks_in_flight 1", "airlock_tasks_queued 1", "airlock_messages_waiting 2",
		"airlock_conversations_busy 1", "airlock_worker_parallel 64", "airlock_llm_calls_in_flight 0"} {
		if !strings.Contains(string(body), want+"\n") {
			t.Errorf("metrics lack %q", want)
		}
	}

	_, page := e.login().get("/")
	for _, want := range []string{"1 running · 1 queued", "at most 64 at once", "2 waiting behind their conversation"} {
		if !strings.Contains(page, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}

	var st struct {
		Worker struct {
			Queued   int `json:"queued"`
			InFlight int `json:"in_flight"`
			Parallel int `json:"parallel"`
			Waiting  int `json:"waiting"`
		} `json:"worker"`
	}
	if code := e.api(e.apiToken(), "GET", "/api/v1/status", nil, &st); code != http.StatusOK ||
		st.Worker.Queued != 1 || st.Worker.InFlight != 1 || st.Worker.Parallel != 64 || st.Worker.Waiting != 2 {
		t.Errorf("status: %d %+v", code, st.Worker)
	}
}
