package orchestrator

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/airlockhq/airlock/orchestrator/live"
	"github.com/airlockhq/airlock/secure/redact"
)

const partialSecret = "CANARYzq7Xv9Lm2Pw8Rt"

func partialRedactor(t *testing.T) *redact.Holder {
	t.Helper()
	r, err := redact.New([]redact.Secret{{Name: "LIVE_TOKEN", Value: partialSecret}})
	if err != nil {
		t.Fatal(err)
	}
	var h redact.Holder
	h.Store(r)
	return &h
}

// feed adds text byte by byte, returning the text of every delta
// published, received as it is published (so none is coalesced).
func feed(t *testing.T, p *partial, events <-chan live.Event, text string, flush bool) []string {
	t.Helper()
	var got []string
	take := func(before int) {
		if p.sent == before {
			return
		}
		select {
		case e := <-events:
			got = append(got, e.Text)
		case <-time.After(5 * time.Second):
			t.Fatal("published delta not received")
		}
	}
	for i := range len(text) {
		before := p.sent
		p.add(text[i : i+1])
		take(before)
	}
	if flush {
		before := p.sent
		p.flush()
		take(before)
	}
	return got
}

// TestPartialHoldsBackSecrets: whatever the cut, no published delta shows
// any 4-byte or longer prefix of a secret or of its base64 form, and the
// last one is the redacted whole.
func TestPartialHoldsBackSecrets(t *testing.T) {
	hub := live.New()
	events, cancel := hub.Subscribe("c")
	defer cancel()
	b64 := base64.StdEncoding.EncodeToString([]byte(partialSecret))
	text := "before " + partialSecret + " middle " + b64 + " after, and a tail to let it all through"
	p := &partial{hub: hub, conv: "c", task: "t", redactor: partialRedactor(t)}
	got := feed(t, p, events, text, true)
	if len(got) < 10 {
		t.Fatalf("only %d deltas for %d bytes fed one by one", len(got), len(text))
	}
	for _, d := range got {
		for _, s := range []string{partialSecret, b64} {
			for k := 4; k <= len(s); k++ {
				if strings.Contains(d, s[:k]) {
					t.Fatalf("delta shows %q: %q", s[:k], d)
				}
			}
		}
	}
	if want := partialRedactor(t).Load().String(text); got[len(got)-1] != want {
		t.Errorf("last delta = %q, want %q", got[len(got)-1], want)
	}
}

// TestPartialLateViewer: a viewer who arrives mid-call gets the whole text
// so far, redacted.
func TestPartialLateViewer(t *testing.T) {
	hub := live.New()
	p := &partial{hub: hub, conv: "c", task: "t", redactor: partialRedactor(t)}
	first := "early text with " + partialSecret + " in it, "
	for i := range len(first) {
		p.add(first[i : i+1])
	}
	if p.w != nil || p.sent != 0 {
		t.Fatal("redacting for nobody")
	}
	events, cancel := hub.Subscribe("c")
	defer cancel()
	got := feed(t, p, events, "and the late rest of it, long enough to pass the hold-back of the writer", true)
	want := partialRedactor(t).Load().String(first + "and the late rest of it, long enough to pass the hold-back of the writer")
	if len(got) == 0 || got[len(got)-1] != want {
		t.Errorf("deltas %q, want last %q", got, want)
	}
}

// TestPartialWithoutRedactor: without a redactor the published text
// still passes the shape detectors.
func TestPartialWithoutRedactor(t *testing.T) {
	hub := live.New()
	events, cancel := hub.Subscribe("c")
	defer cancel()
	p := &partial{hub: hub, conv: "c", task: "t"}
	key := "ghp_" + strings.Repeat("a1B2", 9)
	got := feed(t, p, events, "some text "+key+" more text that is long enough to be shown", true)
	if len(got) == 0 {
		t.Fatal("nothing published")
	}
	for _, d := range got {
		if strings.Contains(d, "ghp_a1B2") {
			t.Fatalf("delta shows the token: %q", d)
		}
	}
}

// TestRedactDefaults: the core redacts with its Redactor, and without one
// with the shape detectors, never not at all.
func TestRedactDefaults(t *testing.T) {
	c := &Core{redactor: partialRedactor(t)}
	if got := c.redact("x " + partialSecret); got != "x [REDACTED:LIVE_TOKEN]" {
		t.Errorf("redact = %q", got)
	}
	key := "ghp_" + strings.Repeat("a1B2", 9)
	if got := (&Core{}).redact("x " + key); strings.Contains(got, key) {
		t.Errorf("without a redactor: %q", got)
	}
}
