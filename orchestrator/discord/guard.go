package discord

import (
	"context"
	"crypto/rand"
	"fmt"
	"reflect"
	"runtime/debug"
	"slices"
	"time"
	_ "unsafe" // go:linkname, see providers

	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/bwmarrin/discordgo"
)

// A bad event must never take the orchestrator down: every event handler
// and every task the bot starts runs under guard, which recovers a panic,
// logs it with a reference, audits it (discord.panic) and carries on.
//
// Some panics happen inside discordgo, before any handler of ours runs:
// for GUILD_CREATE or GUILD_UPDATE with "d": null (or {}, or a guild whose
// member list holds a null) the library decodes the event into a struct
// whose *Guild or *Member stays nil and then dereferences it
// (setGuildIds), on the gateway goroutine; VOICE_STATE_UPDATE does the same
// on a goroutine of its own. Turning state tracking off (it is off) does
// not help, since that code runs either way, and there is no upstream fix
// to pin. So, once, before any session exists, hardenEvents rewrites
// discordgo's table of event decoders:
//
//   - an event the bot has no handler for (everything but handledEvents)
//     is not decoded at all: its payload, whatever it holds, is dropped, so
//     no code of discordgo or ours ever walks it;
//   - a handled event decodes into a struct whose embedded pointer
//     (MessageCreate's *Message, ...) is allocated first, so a null or
//     empty payload becomes an empty event that the handlers ignore.
//
// The table is unexported, hence the linkname; if a discordgo upgrade
// renames or retypes it the build fails, and
// TestMalformedGatewayFramesDoNotKill covers the behaviour. What remains is
// READY, which discordgo walks itself (a null in its guild list would still
// panic); it is the answer to our IDENTIFY, so only someone holding the
// token, or Discord, could send it.

//go:linkname providers github.com/bwmarrin/discordgo.registeredInterfaceProviders
var providers map[string]discordgo.EventInterfaceProvider

// handledEvents are the gateway events the bot has handlers for (see
// newSession); every other event is dropped undecoded.
var handledEvents = []string{"READY", "RESUMED", "MESSAGE_CREATE", "INTERACTION_CREATE"}

func init() { hardenEvents() }

// hardenEvents rewrites discordgo's event decoders; see above. It runs from
// init, before any session can read the table.
func hardenEvents() {
	for typ, p := range providers {
		switch p.(type) {
		case filledProvider, droppedProvider:
			continue
		}
		if slices.Contains(handledEvents, typ) {
			providers[typ] = filledProvider{p}
		} else {
			providers[typ] = droppedProvider{p}
		}
	}
}

// droppedProvider decodes an event the bot does not handle into nothing.
type droppedProvider struct {
	discordgo.EventInterfaceProvider
}

func (droppedProvider) New() interface{} { return new(droppedEvent) }

// droppedEvent is the payload of an event the bot does not handle.
type droppedEvent struct{}

func (*droppedEvent) UnmarshalJSON([]byte) error { return nil }

// filledProvider is an event decoder whose New allocates the nil embedded
// pointers of the event struct.
type filledProvider struct {
	discordgo.EventInterfaceProvider
}

func (f filledProvider) New() interface{} {
	v := f.EventInterfaceProvider.New()
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return v
	}
	s := rv.Elem()
	for i := range s.NumField() {
		fd := s.Type().Field(i)
		fv := s.Field(i)
		if fd.Anonymous && fd.IsExported() && fv.Kind() == reflect.Pointer && fv.IsNil() &&
			fd.Type.Elem().Kind() == reflect.Struct && fv.CanSet() {
			fv.Set(reflect.New(fd.Type.Elem()))
		}
	}
	return v
}

// guarded wraps an event handler with guard.
func guarded[T any](b *Bot, event string, fn func(*discordgo.Session, T)) func(*discordgo.Session, T) {
	return func(s *discordgo.Session, ev T) {
		defer b.guard(event)
		fn(s, ev)
	}
}

// guard, deferred, recovers a panic: it logs the value and the stack under
// a random reference, audits discord.panic with that reference (never the
// value, which may hold message text) and lets the caller carry on.
func (b *Bot) guard(where string) {
	r := recover()
	if r == nil {
		return
	}
	ref := rand.Text()[:12]
	b.log.Error("discord: recovered from a panic", "where", where, "ref", ref,
		"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
	b.mu.Lock()
	b.status.LastError, b.status.LastErrorAt = "internal error in "+where+" (ref "+ref+")", b.deps.Now().UTC()
	b.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := b.deps.Audit.Append(ctx, audit.Event{Actor: "system", Action: "discord.panic", Target: where,
		Outcome: audit.OutcomeError, Details: map[string]any{"ref": ref}}); err != nil {
		b.log.Error("discord: audit panic", "ref", ref, "err", err)
	}
}
