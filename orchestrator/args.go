package orchestrator

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/secure/redact"
)

// Tool-call arguments are JSON, in which any character may be written as
// a \uXXXX escape: a secret spelled that way passes a text redactor and
// comes back whole from the first JSON decoder. So arguments are redacted
// after decoding, in one place: redactArgs. modelTool applies it before
// any model tool's handler runs (so every tool, present or future, gets
// it), and callLLM to the calls the model makes (before they are stored
// and handed to the worker) and to the calls the worker sends back to the
// provider.

// redactArgs decodes a JSON value, redacts every string in it (object
// keys included) and encodes it again in Go's plain form, where printable
// ASCII is never escaped, so what any later redactor sees is what a
// decoder would read. Text that is not JSON becomes a JSON string of its
// redacted self.
func (c *Core) redactArgs(raw json.RawMessage) json.RawMessage {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.Decode(new(any)) != io.EOF {
		b, _ := json.Marshal(c.redactString(string(raw)))
		return b
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(c.redactValue(v)); err != nil {
		return json.RawMessage("{}") // cannot happen for decoded JSON
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// redactCalls applies redactArgs to each call's arguments, in place.
func (c *Core) redactCalls(calls []tools.ToolCall) {
	for i := range calls {
		calls[i].Arguments = c.redactArgs(calls[i].Arguments)
	}
}

func (c *Core) redactValue(v any) any {
	switch x := v.(type) {
	case string:
		return c.redactString(x)
	case []any:
		for i := range x {
			x[i] = c.redactValue(x[i])
		}
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[c.redactString(k)] = c.redactValue(e)
		}
		return out
	}
	return v
}

// redactString redacts a decoded string. A string that still holds
// backslash escapes (JSON written inside a JSON string, say a .json file
// for the workspace) is also looked at with those escapes undone once:
// when that reveals a secret, the unescaped, redacted text replaces it.
func (c *Core) redactString(s string) string {
	out := c.redact(s)
	if strings.IndexByte(s, '\\') < 0 {
		return out
	}
	if u := unescapeJSON(s); u != s {
		if ru := c.redact(u); ru != u {
			return ru
		}
	}
	return out
}

// unescapeJSON undoes the escapes of a JSON string body leniently: \uXXXX
// (either case, surrogate pairs joined, a lone surrogate as U+FFFD) and
// the one-letter escapes; anything else is kept as it is.
func unescapeJSON(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		if r, ok := simpleEscape(s[i+1]); ok {
			b.WriteByte(r)
			i++
			continue
		}
		r, n := hexEscape(s[i:])
		if n == 0 {
			b.WriteByte(s[i])
			continue
		}
		if utf16.IsSurrogate(r) {
			if r2, n2 := hexEscape(s[i+n:]); n2 > 0 {
				if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
					r, n = d, n+n2
				}
			}
		}
		if utf16.IsSurrogate(r) {
			r = utf8.RuneError
		}
		b.WriteRune(r)
		i += n - 1
	}
	return b.String()
}

func simpleEscape(c byte) (byte, bool) {
	switch c {
	case '"', '\\', '/':
		return c, true
	case 'b':
		return '\b', true
	case 'f':
		return '\f', true
	case 'n':
		return '\n', true
	case 'r':
		return '\r', true
	case 't':
		return '\t', true
	}
	return 0, false
}

// hexEscape reads a \uXXXX escape at the start of s: its code unit and
// length (6), or 0 if there is none.
func hexEscape(s string) (rune, int) {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return 0, 0
	}
	var r rune
	for _, c := range []byte(s[2:6]) {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, 0
		}
	}
	return r, 6
}

// secretURL refuses a web_fetch URL that carries a secret, before any
// request (or DNS lookup) is made: one the argument redaction already
// replaced by a marker, or one that shows once percent-escapes are undone
// (up to three times, for servers that decode more than once). The
// refusal is audited with the secrets' names, never a value.
func (c *Core) secretURL(ctx context.Context, task tools.Task, u string) error {
	names := redact.MarkerNames(c.redact(u))
	for d, i := u, 0; len(names) == 0 && i < 3; i++ {
		next := percentDecode(d)
		if next == d {
			break
		}
		d = next
		names = redact.MarkerNames(c.redact(d))
	}
	if len(names) == 0 {
		return nil
	}
	c.audit(ctx, audit.Event{Actor: "worker", Action: "web.fetch", Target: c.redact(audit.URLHost(u)), Outcome: "denied",
		Details: map[string]any{"task_id": task.ID, "reason": "the URL carries a secret", "secrets": names}})
	return publicf("web_fetch refused: the URL carries a secret value (%s); secrets are never sent to a web host",
		strings.Join(names, ", "))
}

// percentDecode undoes every valid %XX escape of s and keeps the rest,
// where url.PathUnescape would give up on the first bad one.
func percentDecode(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if h, ok := unhex(s[i+1]); ok {
				if l, ok := unhex(s[i+2]); ok {
					b.WriteByte(h<<4 | l)
					i += 2
					continue
				}
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
