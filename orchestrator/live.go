package orchestrator

import (
	"bytes"
	"context"
	"time"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/live"
	"github.com/airlockhq/airlock/orchestrator/llm"
	"github.com/airlockhq/airlock/secure/redact"
)

// minDeltaGap spaces the deltas of one model call: each carries the whole
// text so far, so publishing after every piece would cost quadratic time.
const minDeltaGap = 50 * time.Millisecond

// publish hands e to the conversation's viewers, if there is a hub.
func (c *Core) publish(e live.Event) {
	if c.live != nil {
		c.live.Publish(e)
	}
}

// complete makes one model call for task, reserved under the budget by
// call: whole without a hub; with one, streamed, and the partial text
// published to the conversation's viewers. The call is the same whether
// anyone watches or not.
func (c *Core) complete(ctx context.Context, call *llm.Reservation, task tools.Task, req llm.Request) (tools.LLMResponse, error) {
	if c.live == nil {
		resp, err := call.Complete(ctx, req)
		return wireResponse(resp), err
	}
	p := &partial{hub: c.live, conv: task.ConversationID, task: task.ID, redactor: c.redactor, gap: minDeltaGap}
	resp, err := call.CompleteStream(ctx, req, p.add)
	if err == nil {
		p.flush()
	}
	return wireResponse(resp), err
}

// partial publishes the text of one streamed model call to the viewers of
// its conversation as it grows. The text passes a redact.Writer, whose
// hold-back keeps a possible prefix of a secret back until it is known to
// be none or has become a marker, so a viewer never sees part of a secret;
// the text held back goes out only when the call has succeeded. Nothing is
// published while nobody watches: the writer is made, and given the text
// so far, when the first viewer shows up. A partial is used by one
// goroutine.
type partial struct {
	hub        *live.Hub
	conv, task string
	redactor   *redact.Holder // nil: the shape detectors only
	gap        time.Duration  // least time between two deltas

	raw  []byte         // the text so far, until w exists
	w    *redact.Writer // nil until someone watches
	out  bytes.Buffer   // what w let through: the redacted text so far
	sent int            // out.Len() when last published
	last time.Time      // when that was
}

// add takes the next piece of text.
func (p *partial) add(delta string) {
	if p.write([]byte(delta)) && time.Since(p.last) >= p.gap {
		p.publish()
	}
}

// flush publishes the whole text once the call has succeeded.
func (p *partial) flush() {
	if p.write(nil) {
		_ = p.w.Flush()
		p.publish()
	}
}

// write passes b to the writer, making it when the first viewer shows up,
// and reports whether there is one.
func (p *partial) write(b []byte) bool {
	if p.w == nil {
		p.raw = append(p.raw, b...)
		if p.hub.Subscribers(p.conv) == 0 {
			return false
		}
		p.w = p.redactor.Load().NewWriter(&p.out)
		b, p.raw = p.raw, nil
	}
	_, _ = p.w.Write(b) // cannot fail: out is a bytes.Buffer
	return true
}

// publish sends the redacted text so far, if it grew and someone watches.
func (p *partial) publish() {
	if p.out.Len() == p.sent || p.hub.Subscribers(p.conv) == 0 {
		return
	}
	p.sent, p.last = p.out.Len(), time.Now()
	p.hub.Publish(live.Event{Type: live.TypeDelta, ConversationID: p.conv, TaskID: p.task, Text: p.out.String()})
}
