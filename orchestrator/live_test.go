package orchestrator_test

import (
	"strings"
	"testing"
	"time"

	"github.com/airlockhq/airlock/orchestrator"
	"github.com/airlockhq/airlock/orchestrator/live"
	"github.com/airlockhq/airlock/orchestrator/llm"
	"github.com/airlockhq/airlock/orchestrator/llm/llmtest"
)

// liveCanary is a vault secret the fake model leaks; its pieces must never
// reach a viewer.
const liveCanary = "CANARYzq7Xv9Lm2Pw8Rt"

// follow collects a conversation's events until its task is done or failed.
func follow(t *testing.T, events <-chan live.Event) []live.Event {
	t.Helper()
	var got []live.Event
	timeout := time.After(30 * time.Second)
	for {
		select {
		case e, ok := <-events:
			if !ok {
				t.Fatal("subscription closed")
			}
			got = append(got, e)
			if e.Type == live.TypeDone || e.Type == live.TypeFailed {
				return got
			}
		case <-timeout:
			t.Fatalf("no done or failed event; got %+v", got)
		}
	}
}

// noCanary fails if any event shows the canary or a prefix of it.
func noCanary(t *testing.T, evs []live.Event) {
	t.Helper()
	for _, e := range evs {
		for k := 4; k <= len(liveCanary); k++ {
			if strings.Contains(e.Text, liveCanary[:k]) {
				t.Fatalf("%s event shows %q of the secret: %q", e.Type, liveCanary[:k], e.Text)
			}
		}
	}
}

// watched returns a harness with the canary secret set and an agent
// running, a new conversation, and the events of a viewer of it.
func watched(t *testing.T) (*harness, string, <-chan live.Event) {
	t.Helper()
	h := newHarness(t, orchestrator.Config{}, llm.Budget{})
	h.setSecret(t, "LIVE_TOKEN", liveCanary)
	h.runAgent(t)
	conv := h.conversation(t)
	events, cancel := h.live.Subscribe(conv)
	t.Cleanup(cancel)
	return h, conv, events
}

// TestLivePartialReply: a viewer sees the reply grow before it is stored,
// redacted: the secret the model writes, cut across stream pieces, shows
// only as its marker, and no prefix of it ever shows.
func TestLivePartialReply(t *testing.T) {
	h, conv, events := watched(t)

	// Pieces come slower than deltas may (every 50ms), so each is shown.
	text := "the fake model streams this slowly, so a viewer can watch it grow. the token is " +
		liveCanary + " and after it comes some more text to pass the hold-back."
	h.llm.Enqueue(llmtest.Reply{Text: text, ChunkDelay: 60 * time.Millisecond})
	replied := h.submit(t, conv, "what is the token?")
	evs := follow(t, events) // read as they come, or deltas coalesce
	reply := <-replied

	want := strings.Replace(text, liveCanary, "[REDACTED:LIVE_TOKEN]", 1)
	if reply.Failed || reply.Text != want {
		t.Fatalf("reply = %+v", reply)
	}
	if first := evs[0]; first.Type != live.TypeTask || first.TaskID != reply.TaskID || first.ConversationID != conv {
		t.Errorf("first event = %+v, want the task", first)
	}
	last := evs[len(evs)-1]
	if last.Type != live.TypeDone || last.Text != want || last.TaskID != reply.TaskID {
		t.Errorf("last event = %+v, want done with the stored reply", last)
	}
	partial := 0
	for _, e := range evs[1 : len(evs)-1] {
		if e.Type != live.TypeDelta || e.TaskID != reply.TaskID || !strings.HasPrefix(want, e.Text) {
			t.Fatalf("event %+v is not a delta of the reply", e)
		}
		if len(e.Text) < len(want) {
			partial++
		}
	}
	if partial == 0 {
		t.Errorf("no partial text before done; events: %+v", evs)
	}
	noCanary(t, evs)
	if rec := h.llm.Requests(); len(rec) != 1 || !rec[0].Stream {
		t.Errorf("model requests: %d, stream %v", len(rec), rec[0].Stream)
	}
}

// TestLiveNobodyWatching: without viewers the model is called the same
// way, and nothing is published.
func TestLiveNobodyWatching(t *testing.T) {
	h := newHarness(t, orchestrator.Config{}, llm.Budget{})
	h.runAgent(t)
	conv, other := h.conversation(t), h.conversation(t)
	events, cancel := h.live.Subscribe(other)
	defer cancel()
	h.llm.Enqueue(llmtest.Reply{Text: "an answer nobody watches"})
	if r := <-h.submit(t, conv, "hi"); r.Failed || r.Text != "an answer nobody watches" {
		t.Fatalf("reply = %+v", r)
	}
	if rec := h.llm.Requests(); len(rec) != 1 || !rec[0].Stream {
		t.Errorf("model requests: %d", len(rec))
	}
	select {
	case e := <-events:
		t.Errorf("another conversation's viewer got %+v", e)
	case <-time.After(50 * time.Millisecond):
	}
}

// TestLiveFailed: a failed task is published with the notice the core
// chose, not the worker's error text, after the partial text of a model
// call that broke.
func TestLiveFailed(t *testing.T) {
	h, conv, events := watched(t)
	text := "a start that breaks off, " + liveCanary + " and then a lot more text that never comes"
	h.llm.Enqueue(llmtest.Reply{Text: text, ChunkDelay: 5 * time.Millisecond, StreamCut: 12})
	replied := h.submit(t, conv, "hi")
	evs := follow(t, events)
	reply := <-replied
	last := evs[len(evs)-1]
	if !reply.Failed || last.Type != live.TypeFailed || last.Text != reply.Text {
		t.Fatalf("reply %+v, last event %+v", reply, last)
	}
	if len(evs) < 3 || evs[1].Type != live.TypeDelta || evs[1].Text == "" || !strings.HasPrefix(text, evs[1].Text) {
		t.Errorf("no partial text before the failure: %+v", evs)
	}
	if !strings.HasPrefix(last.Text, "Sorry, the language model could not be reached") {
		t.Errorf("failed text = %q, want the core's notice", last.Text)
	}
	if len(h.llm.Requests()) != 1 {
		t.Errorf("a stream that broke after its first text was retried: %d requests", len(h.llm.Requests()))
	}
	noCanary(t, evs)
}
