// Package live is a small publish/subscribe hub of conversation events: a
// task started, the partial text of a reply, the reply stored, the task
// failed. The core publishes; web-chat viewers subscribe to one
// conversation each.
//
// Invariants:
//   - Publish never blocks, however slow a subscriber is.
//   - A subscriber receives every "task", "done" and "failed" event of its
//     conversation, in order. Deltas may be coalesced: a delta still
//     waiting to be received is replaced by the next one (each carries the
//     whole partial text, so nothing is lost but intermediate states). A
//     subscriber so far behind that MaxPending events wait is dropped: its
//     channel is closed, so it never silently misses an event.
//   - cancel is idempotent; once it returns, the channel is closed and no
//     more events are delivered.
//
// Events carry text as published: redacting it is the publisher's job.
package live

import "sync"

// Event types.
const (
	TypeTask   = "task"   // a task started
	TypeDelta  = "delta"  // partial reply text
	TypeDone   = "done"   // the reply is stored
	TypeFailed = "failed" // the task failed
)

// MaxPending is how many events may wait for one subscriber before it is
// dropped.
const MaxPending = 256

// Event is one thing that happened in a conversation.
type Event struct {
	Type           string `json:"type"` // TypeTask, TypeDelta, TypeDone or TypeFailed
	ConversationID string `json:"conversation_id"`
	TaskID         string `json:"task_id,omitempty"`
	// Text: for a delta, the whole partial text so far of the current
	// model call; for done, the final reply; for failed, the notice the
	// user reads.
	Text string `json:"text,omitempty"`
}

// Hub routes events to the subscribers of their conversation. The zero
// value is not usable; call New. It is safe for concurrent use.
type Hub struct {
	mu   sync.Mutex
	subs map[string]map[*sub]struct{} // by conversation
}

// New returns an empty Hub.
func New() *Hub { return &Hub{subs: map[string]map[*sub]struct{}{}} }

// Subscribe returns the events of one conversation from now on, and a
// cancel func that ends the subscription and closes the channel. The
// caller must call cancel when done (a goroutine serves each subscriber).
func (h *Hub) Subscribe(conversationID string) (events <-chan Event, cancel func()) {
	s := &sub{out: make(chan Event), wake: make(chan struct{}, 1), stop: make(chan struct{}), exited: make(chan struct{})}
	h.mu.Lock()
	set := h.subs[conversationID]
	if set == nil {
		set = map[*sub]struct{}{}
		h.subs[conversationID] = set
	}
	set[s] = struct{}{}
	h.mu.Unlock()
	go s.pump()
	return s.out, func() {
		h.remove(conversationID, s)
		s.end()
	}
}

// Publish hands e to the subscribers of its conversation without waiting
// for them.
func (h *Hub) Publish(e Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs[e.ConversationID] {
		if !s.push(e) {
			h.removeLocked(e.ConversationID, s)
			s.endAsync()
		}
	}
}

// Subscribers returns how many subscribers a conversation has; it is cheap
// enough to ask before building an event.
func (h *Hub) Subscribers(conversationID string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs[conversationID])
}

func (h *Hub) remove(conv string, s *sub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.removeLocked(conv, s)
}

func (h *Hub) removeLocked(conv string, s *sub) {
	set := h.subs[conv]
	delete(set, s)
	if len(set) == 0 {
		delete(h.subs, conv)
	}
}
