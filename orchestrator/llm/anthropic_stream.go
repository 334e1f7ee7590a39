package llm

import (
	"encoding/json"
	"fmt"
)

// antEvent is one event of a streamed Messages answer; which fields are
// set depends on Type.
type antEvent struct {
	Type    string `json:"type"`
	Message struct {
		Usage antUsage `json:"usage"`
	} `json:"message"` // message_start
	Index        int        `json:"index"`         // content_block_*
	ContentBlock antContent `json:"content_block"` // content_block_start
	Delta        struct {
		Type        string `json:"type"`         // content_block_delta: text_delta, input_json_delta, ...
		Text        string `json:"text"`         // text_delta
		PartialJSON string `json:"partial_json"` // input_json_delta
		StopReason  string `json:"stop_reason"`  // message_delta
	} `json:"delta"`
	Usage antUsage `json:"usage"` // message_delta: running totals
}

// antStream assembles a streamed Messages answer: message_start carries
// the input usage, content_block_start opens a text or tool_use block
// (with its id and name), content_block_delta adds text or a fragment of
// the tool input's JSON, message_delta sets the stop reason and output
// usage, message_stop ends the stream and error fails it.
type antStream struct {
	c      *Client
	emit   func(string)
	blocks []antStreamBlock
	at     map[int]int // event index → position in blocks
	stop   string
	usage  antUsage
}

type antStreamBlock struct {
	antContent
	text  []byte // the text, as far as it came
	input []byte // the tool input's JSON, as far as it came
}

func newAnthropicStream(c *Client, emit func(string)) streamDecoder {
	return &antStream{c: c, emit: emit, at: map[int]int{}}
}

func (s *antStream) event(data []byte) (bool, error) {
	var ev antEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		return false, fmt.Errorf("llm: anthropic: decode stream event: %w", err)
	}
	switch ev.Type {
	case "message_start":
		s.usage = ev.Message.Usage
	case "content_block_start":
		if _, dup := s.at[ev.Index]; dup {
			return false, fmt.Errorf("llm: anthropic: stream block %d started twice", ev.Index)
		}
		s.at[ev.Index] = len(s.blocks)
		s.blocks = append(s.blocks, antStreamBlock{antContent: ev.ContentBlock, text: []byte(ev.ContentBlock.Text)})
		if ev.ContentBlock.Type == "text" {
			s.emit(ev.ContentBlock.Text)
		}
	case "content_block_delta":
		i, ok := s.at[ev.Index]
		if !ok {
			return false, fmt.Errorf("llm: anthropic: stream delta for block %d before its start", ev.Index)
		}
		b := &s.blocks[i]
		switch ev.Delta.Type {
		case "text_delta":
			b.text = append(b.text, ev.Delta.Text...)
			s.emit(ev.Delta.Text)
		case "input_json_delta":
			b.input = append(b.input, ev.Delta.PartialJSON...)
		}
	case "message_delta":
		s.stop = orDefault(ev.Delta.StopReason, s.stop)
		u := ev.Usage
		s.usage.OutputTokens = orDefault(u.OutputTokens, s.usage.OutputTokens)
		s.usage.InputTokens = orDefault(u.InputTokens, s.usage.InputTokens)
		s.usage.CacheCreationInputTokens = orDefault(u.CacheCreationInputTokens, s.usage.CacheCreationInputTokens)
		s.usage.CacheReadInputTokens = orDefault(u.CacheReadInputTokens, s.usage.CacheReadInputTokens)
	case "message_stop":
		return true, nil
	case "error":
		return false, s.c.streamError(data)
	}
	return false, nil
}

// response maps the assembled answer as Complete maps a whole one. A
// block's text is that of its start followed by its deltas; a tool input
// that came in fragments replaces the (empty) one of its start.
func (s *antStream) response() (Response, error) {
	r := antResponse{StopReason: s.stop, Usage: s.usage}
	for i := range s.blocks {
		b := s.blocks[i].antContent
		b.Text = string(s.blocks[i].text)
		if in := s.blocks[i].input; len(in) > 0 {
			b.Input = in
		}
		r.Content = append(r.Content, b)
	}
	return anthropicResponse(r), nil
}
