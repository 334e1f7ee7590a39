package redact

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
)

// handler is the slog.Handler returned by NewHandler.
type handler struct {
	base   slog.Handler // the wrapped handler, before any WithAttrs/WithGroup
	holder *Holder
	ops    []op // WithAttrs and WithGroup calls, in order
	built  *atomic.Pointer[built]
}

// op is one WithAttrs (attrs) or WithGroup (group) call.
type op struct {
	group string
	attrs []slog.Attr
}

// built is base with ops applied, redacted by r.
type built struct {
	r *Redactor
	h slog.Handler
}

// NewHandler returns a slog.Handler that redacts every record with the
// Redactor h holds at the time of the call, then passes it to next. The
// message, every attribute key and value, group names and the attributes
// given to WithAttrs are redacted: strings as they are; errors,
// fmt.Stringers and other Any values rendered with fmt (%+v) first, []byte
// as text; LogValuers resolved first; groups recursively; numbers only if
// their text holds a secret. Attributes given to WithAttrs are kept and
// redacted again after the Holder changes, so a secret stored later is
// redacted from them too.
func NewHandler(next slog.Handler, h *Holder) slog.Handler {
	return &handler{base: next, holder: h, built: new(atomic.Pointer[built])}
}

// current returns base with ops applied, redacted by r; it is rebuilt
// when the Holder's Redactor changes.
func (h *handler) current(r *Redactor) slog.Handler {
	if b := h.built.Load(); b != nil && b.r == r {
		return b.h
	}
	next := h.base
	for _, o := range h.ops {
		if o.attrs == nil {
			next = next.WithGroup(r.String(o.group))
		} else {
			next = next.WithAttrs(redactAttrs(r, o.attrs))
		}
	}
	h.built.Store(&built{r: r, h: next})
	return next
}

func (h *handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.current(h.holder.Load()).Enabled(ctx, level)
}

func (h *handler) Handle(ctx context.Context, rec slog.Record) error {
	r := h.holder.Load()
	out := slog.NewRecord(rec.Time, rec.Level, r.String(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(redactAttr(r, a))
		return true
	})
	return h.current(r).Handle(ctx, out)
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	return h.with(op{attrs: attrs})
}

func (h *handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return h.with(op{group: name})
}

func (h *handler) with(o op) *handler {
	ops := append(h.ops[:len(h.ops):len(h.ops)], o)
	return &handler{base: h.base, holder: h.holder, ops: ops, built: new(atomic.Pointer[built])}
}

func redactAttrs(r *Redactor, attrs []slog.Attr) []slog.Attr {
	out := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		out[i] = redactAttr(r, a)
	}
	return out
}

// redactAttr returns a with its key and value redacted.
func redactAttr(r *Redactor, a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindAny:
		if x := v.Any(); x != nil {
			v = slog.StringValue(r.String(renderAny(x)))
		}
	case slog.KindString:
		v = slog.StringValue(r.String(v.String()))
	case slog.KindGroup:
		v = slog.GroupValue(redactAttrs(r, v.Group())...)
	case slog.KindInt64, slog.KindUint64, slog.KindFloat64:
		if s := v.String(); r.Contains(s) {
			v = slog.StringValue(r.String(s))
		}
	}
	return slog.Attr{Key: r.String(a.Key), Value: v}
}

// renderAny renders an Any value as fmt would print it; []byte as text.
func renderAny(x any) string {
	if b, ok := x.([]byte); ok {
		return string(b)
	}
	return fmt.Sprintf("%+v", x)
}
