package llm

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// maxStreamCalls bounds the tool call index a stream may use.
const maxStreamCalls = 1024

// oaChunk is one chat.completion.chunk event.
type oaChunk struct {
	Choices []struct {
		Index int `json:"index"`
		Delta struct {
			Content   json.RawMessage `json:"content"`
			ToolCalls []struct {
				Index    *int   `json:"index"`
				ID       string `json:"id"`
				Function struct {
					Name      string          `json:"name"`
					Arguments json.RawMessage `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"delta"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage *oaUsage        `json:"usage"`
	Error json.RawMessage `json:"error"`
}

// oaStream assembles a streamed Chat Completions answer: the text, the
// tool calls by index (id and name from their first fragment, arguments
// joined from all), the finish reason and the usage of the last chunk.
// The stream ends with "data: [DONE]".
type oaStream struct {
	c      *Client
	emit   func(string)
	choice bool // a chunk for choice 0 arrived
	text   strings.Builder
	calls  map[int]*oaStreamCall
	finish string
	usage  oaUsage
}

type oaStreamCall struct {
	id, name string
	args     strings.Builder
}

func newOpenAIStream(c *Client, emit func(string)) streamDecoder {
	return &oaStream{c: c, emit: emit, calls: map[int]*oaStreamCall{}}
}

func (s *oaStream) event(data []byte) (bool, error) {
	if string(data) == "[DONE]" {
		return true, nil
	}
	var ch oaChunk
	if err := json.Unmarshal(data, &ch); err != nil {
		return false, fmt.Errorf("llm: openai: decode stream chunk: %w", err)
	}
	if len(ch.Error) > 0 && string(ch.Error) != "null" {
		return false, s.c.streamError(data)
	}
	if ch.Usage != nil {
		s.usage = *ch.Usage
	}
	for _, c := range ch.Choices {
		if c.Index != 0 {
			continue
		}
		s.choice = true
		text, err := contentText(c.Delta.Content)
		if err != nil {
			return false, fmt.Errorf("llm: openai: decode message content: %w", err)
		}
		s.text.WriteString(text)
		s.emit(text)
		for i, tc := range c.Delta.ToolCalls {
			idx := i
			if tc.Index != nil {
				idx = *tc.Index
			}
			if idx < 0 || idx >= maxStreamCalls {
				return false, fmt.Errorf("llm: openai: stream tool call index %d out of range", idx)
			}
			call := s.calls[idx]
			if call == nil {
				call = &oaStreamCall{}
				s.calls[idx] = call
			}
			call.id = orDefault(call.id, tc.ID)
			call.name = orDefault(call.name, tc.Function.Name)
			call.args.WriteString(wireArgs(tc.Function.Arguments))
		}
		if c.FinishReason != "" {
			s.finish = c.FinishReason
		}
	}
	return false, nil
}

// response maps the assembled answer as Complete maps a whole one.
func (s *oaStream) response() (Response, error) {
	r := oaResponse{Usage: s.usage}
	if s.choice {
		var ch oaChoice
		ch.FinishReason = s.finish
		ch.Message.Content, _ = json.Marshal(s.text.String())
		for _, i := range slices.Sorted(maps.Keys(s.calls)) {
			call := s.calls[i]
			var tc oaToolCall
			tc.ID, tc.Type, tc.Function.Name = call.id, "function", call.name
			tc.Function.Arguments, _ = json.Marshal(call.args.String())
			ch.Message.ToolCalls = append(ch.Message.ToolCalls, tc)
		}
		r.Choices = []oaChoice{ch}
	}
	return openAIResponse(r)
}
