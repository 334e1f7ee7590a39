package live

import (
	"fmt"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"
)

// recv receives one event or fails after a while.
func recv(t *testing.T, ch <-chan Event) (Event, bool) {
	t.Helper()
	select {
	case e, ok := <-ch:
		return e, ok
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5s")
		return Event{}, false
	}
}

// drain receives until done for task id (included) or the channel closes.
func drain(t *testing.T, ch <-chan Event, last string) []Event {
	t.Helper()
	var out []Event
	for {
		e, ok := recv(t, ch)
		if !ok {
			return out
		}
		out = append(out, e)
		if e.Type == TypeDone && e.TaskID == last {
			return out
		}
	}
}

// published runs f and fails if it takes long: Publish must not block.
func published(t *testing.T, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Publish blocked on a subscriber that does not read")
	}
}

func TestDeliversOwnConversationInOrder(t *testing.T) {
	h := New()
	ch, cancel := h.Subscribe("c1")
	defer cancel()
	other, cancelOther := h.Subscribe("c2")
	defer cancelOther()
	want := []Event{
		{Type: TypeTask, ConversationID: "c1", TaskID: "t1"},
		{Type: TypeDelta, ConversationID: "c1", TaskID: "t1", Text: "He"},
		{Type: TypeDone, ConversationID: "c1", TaskID: "t1", Text: "Hello"},
	}
	for _, e := range want {
		h.Publish(e)
		got, _ := recv(t, ch) // read as it comes: nothing to coalesce
		if got != e {
			t.Errorf("got %+v, want %+v", got, e)
		}
	}
	h.Publish(Event{Type: TypeFailed, ConversationID: "c2", TaskID: "t2", Text: "sorry"})
	if e, _ := recv(t, other); e.TaskID != "t2" {
		t.Errorf("c2 got %+v", e)
	}
	select {
	case e := <-ch:
		t.Errorf("c1 received c2's event %+v", e)
	case <-time.After(50 * time.Millisecond):
	}
	if h.Subscribers("c1") != 1 || h.Subscribers("c2") != 1 || h.Subscribers("c3") != 0 {
		t.Errorf("subscribers = %d %d %d", h.Subscribers("c1"), h.Subscribers("c2"), h.Subscribers("c3"))
	}
}

// TestSlowSubscriberGetsNewestDelta: deltas to a subscriber that does not
// read are coalesced to the newest, and done is kept.
func TestSlowSubscriberGetsNewestDelta(t *testing.T) {
	h := New()
	ch, cancel := h.Subscribe("c")
	defer cancel()
	published(t, func() {
		h.Publish(Event{Type: TypeTask, ConversationID: "c", TaskID: "t"})
		for i := range 10000 {
			h.Publish(Event{Type: TypeDelta, ConversationID: "c", TaskID: "t", Text: strconv.Itoa(i)})
		}
		h.Publish(Event{Type: TypeDone, ConversationID: "c", TaskID: "t", Text: "final"})
	})
	got := drain(t, ch, "t")
	want := []Event{
		{Type: TypeTask, ConversationID: "c", TaskID: "t"},
		{Type: TypeDelta, ConversationID: "c", TaskID: "t", Text: "9999"},
		{Type: TypeDone, ConversationID: "c", TaskID: "t", Text: "final"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

// TestControlEventsNeverCoalesced: with many tasks queued for a slow
// subscriber, every task, done and failed arrives, in order.
func TestControlEventsNeverCoalesced(t *testing.T) {
	h := New()
	ch, cancel := h.Subscribe("c")
	defer cancel()
	var want []Event
	n := MaxPending/3 - 1
	published(t, func() {
		for i := range n {
			id := fmt.Sprint("t", i)
			end := Event{Type: TypeDone, ConversationID: "c", TaskID: id, Text: "r" + id}
			if i%3 == 0 {
				end.Type = TypeFailed
			}
			start := Event{Type: TypeTask, ConversationID: "c", TaskID: id}
			h.Publish(start)
			for j := range 20 {
				h.Publish(Event{Type: TypeDelta, ConversationID: "c", TaskID: id, Text: fmt.Sprint(j)})
			}
			h.Publish(end)
			want = append(want, start, end)
		}
		h.Publish(Event{Type: TypeDone, ConversationID: "c", TaskID: "last"})
		want = append(want, Event{Type: TypeDone, ConversationID: "c", TaskID: "last"})
	})
	var control []Event
	for _, e := range drain(t, ch, "last") {
		if e.Type != TypeDelta {
			control = append(control, e)
		} else if e.Text != "19" && !(e.TaskID == "t0" && e.Text == "0") {
			// Only the first delta can have been taken before the rest came.
			t.Errorf("stale delta delivered: %+v", e)
		}
	}
	if !reflect.DeepEqual(control, want) {
		t.Errorf("control events differ: got %d, want %d", len(control), len(want))
	}
}

// TestHopelessSubscriberDropped: past MaxPending waiting events the
// subscriber's channel is closed rather than an event lost silently.
func TestHopelessSubscriberDropped(t *testing.T) {
	h := New()
	ch, cancel := h.Subscribe("c")
	published(t, func() {
		for i := range MaxPending + 2 {
			h.Publish(Event{Type: TypeTask, ConversationID: "c", TaskID: fmt.Sprint(i)})
		}
	})
	if h.Subscribers("c") != 0 {
		t.Error("dropped subscriber still counted")
	}
	closed := false
	for range MaxPending + 2 {
		if _, ok := recv(t, ch); !ok {
			closed = true
			break
		}
	}
	if !closed {
		t.Error("channel of a dropped subscriber not closed")
	}
	cancel()
	cancel()
}

func TestCancel(t *testing.T) {
	h := New()
	ch, cancel := h.Subscribe("c")
	ch2, cancel2 := h.Subscribe("c")
	defer cancel2()
	h.Publish(Event{Type: TypeTask, ConversationID: "c", TaskID: "t"}) // left unread
	cancel()
	if _, ok := <-ch; ok {
		t.Error("channel open after cancel")
	}
	cancel() // idempotent
	if n := h.Subscribers("c"); n != 1 {
		t.Errorf("subscribers = %d after cancel, want 1", n)
	}
	h.Publish(Event{Type: TypeDone, ConversationID: "c", TaskID: "t"})
	if got := drain(t, ch2, "t"); len(got) != 2 {
		t.Errorf("remaining subscriber got %+v", got)
	}
	cancel2()
	if h.Subscribers("c") != 0 || len(h.subs) != 0 {
		t.Error("hub keeps an empty conversation")
	}
}

// TestConcurrentUse is for the race detector: publishers, subscribers
// that read, subscribers that do not, and cancels, all at once.
func TestConcurrentUse(t *testing.T) {
	h := New()
	var wg sync.WaitGroup
	for p := range 4 {
		wg.Go(func() {
			for i := range 500 {
				conv := fmt.Sprint("c", i%3)
				h.Publish(Event{Type: TypeDelta, ConversationID: conv, Text: fmt.Sprint(p, i)})
				if i%50 == 0 {
					h.Publish(Event{Type: TypeDone, ConversationID: conv})
				}
				_ = h.Subscribers(conv)
			}
		})
	}
	for s := range 8 {
		wg.Go(func() {
			for range 20 {
				ch, cancel := h.Subscribe(fmt.Sprint("c", s%3))
				if s%2 == 0 {
					select {
					case <-ch:
					case <-time.After(time.Millisecond):
					}
				}
				cancel()
				cancel()
			}
		})
	}
	wg.Wait()
	for i := range 3 {
		if n := h.Subscribers(fmt.Sprint("c", i)); n != 0 {
			t.Errorf("c%d has %d subscribers left", i, n)
		}
	}
}
