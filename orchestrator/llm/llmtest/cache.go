package llmtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
)

// A prompt cache, simulated so that a test can see what caching saves.
//
// A request is cut into segments in the order a provider caches them:
// the tool definitions, the system prompt's blocks, then every content
// block of every message (a message whose content is a string is one
// segment). A segment costs len(its JSON, cache_control removed)/4 tokens,
// at least 1. Each prefix of segments has a chained SHA-256.
//
// Anthropic: a segment that carries cache_control is a breakpoint. The
// cache read is the longest prefix, ending at or before the last
// breakpoint, that an earlier request wrote; the cache write is the rest
// of the prefix up to the last breakpoint; every breakpoint's prefix is
// then written. input_tokens is what is left of the request's tokens.
// Without a breakpoint nothing is read or written.
//
// OpenAI caches on its own: the read is the longest prefix an earlier
// request had (reported as prompt_tokens_details.cached_tokens), and
// every prefix of this one is kept.

// segment is one cacheable piece of a request.
type segment struct {
	where  string // "tools[0]", "system[0]", "messages[2].content[1]"
	tokens int
	mark   bool // carries cache_control
}

// cacheState holds the prefix hashes requests have written, per provider.
// It forgets everything past maxCacheEntries, as a real cache evicts.
type cacheState map[string]bool

const maxCacheEntries = 100_000

// usage computes the cache read and write of rec (in tokens) and the
// request's token total, and records what rec writes.
func (c cacheState) usage(rec *RecordedRequest) (read, write, total int) {
	total = len(rec.Body) / 4
	segs := rec.segments
	prefix := make([]int, len(segs)) // tokens up to and including segment i
	hashes := make([]string, len(segs))
	h := sha256.Sum256([]byte(rec.Provider + "\x00" + rec.Model))
	sum := 0
	for i, s := range segs {
		sum += s.tokens
		prefix[i] = sum
		h = sha256.Sum256(append(h[:], s.where+"\x00"+fmt.Sprint(s.tokens)+"\x00"+rec.segmentKeys[i]...))
		hashes[i] = string(h[:])
	}
	total = max(total, sum)
	if len(c) > maxCacheEntries {
		clear(c)
	}
	last := len(segs) - 1
	if rec.Provider == anthropic.name {
		last = -1
		for i, s := range segs {
			if s.mark {
				last = i
			}
		}
		if last < 0 {
			return 0, 0, total
		}
	}
	for i := last; i >= 0; i-- {
		if c[hashes[i]] {
			read = prefix[i]
			break
		}
	}
	if rec.Provider == anthropic.name {
		write = prefix[last] - read
		for i, s := range segs {
			if s.mark {
				c[hashes[i]] = true
			}
		}
		return read, write, total
	}
	for i := range segs {
		c[hashes[i]] = true
	}
	return read, 0, total
}

// addSegment appends one segment of raw JSON (a block, a tool, a string
// content), noting and stripping its cache_control.
func (rec *RecordedRequest) addSegment(where string, raw json.RawMessage) {
	key, marked := stripCacheControl(raw)
	if marked {
		rec.CacheBreakpoints = append(rec.CacheBreakpoints, where)
	}
	rec.segments = append(rec.segments, segment{where: where, tokens: max(len(key)/4, 1), mark: marked})
	rec.segmentKeys = append(rec.segmentKeys, key)
}

var cacheControlKey = []byte(`"cache_control"`)

// stripCacheControl returns raw without its cache_control field, and
// whether it had one. A field not in the clients' usual form is removed by
// decoding and re-encoding (keys sorted).
//
// Most segments carry no mark, and the clients encode the mark the same way
// each time: those are handled on the bytes, without decoding (the fake's
// own cost is part of what the benchmarks subtract as the model's).
func stripCacheControl(raw json.RawMessage) (string, bool) {
	if !bytes.Contains(raw, cacheControlKey) {
		return string(raw), false
	}
	for _, field := range [][]byte{[]byte(`,"cache_control":{"type":"ephemeral"}`), []byte(`"cache_control":{"type":"ephemeral"},`)} {
		if i := bytes.Index(raw, field); i >= 0 {
			rest := append(append([]byte{}, raw[:i]...), raw[i+len(field):]...)
			if !bytes.Contains(rest, cacheControlKey) {
				return string(rest), true
			}
		}
	}
	var obj map[string]any
	if json.Unmarshal(raw, &obj) != nil || obj == nil {
		return string(raw), false
	}
	_, marked := obj["cache_control"]
	delete(obj, "cache_control")
	b, err := json.Marshal(obj)
	if err != nil {
		return string(raw), marked
	}
	return string(b), marked
}

// rawList decodes a JSON array into its elements; a string or anything
// else is one element.
func rawList(raw json.RawMessage) []json.RawMessage {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var list []json.RawMessage
	if raw[0] == '[' && json.Unmarshal(raw, &list) == nil {
		return list
	}
	return []json.RawMessage{raw}
}
