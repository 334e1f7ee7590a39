package redact

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestHolderZeroValue(t *testing.T) {
	var h Holder
	if h.Load() != nil {
		t.Fatal("zero Holder holds a Redactor")
	}
	if got := h.Load().String("x " + ghToken); got != "x [REDACTED:GITHUB_TOKEN]" {
		t.Errorf("zero Holder does not redact shapes: %q", got)
	}
	var nilHolder *Holder
	if nilHolder.Load() != nil {
		t.Error("nil Holder holds a Redactor")
	}
}

// TestHolderSwap stores new engines while readers redact; run with -race.
// Every reader sees one engine or the next, never a mix, and once a
// secret is stored every later call redacts it.
func TestHolderSwap(t *testing.T) {
	var h Holder
	const rounds = 50
	engines := make([]*Redactor, rounds)
	for i := range engines {
		var secrets []Secret
		for j := 0; j <= i; j++ {
			secrets = append(secrets, Secret{fmt.Sprintf("S%02d", j), fmt.Sprintf("secret-value-%02d", j)})
		}
		engines[i] = mustNew(t, secrets...)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				r := h.Load()
				n := len(r.Names())
				out := r.String("secret-value-00 secret-value-49")
				if n > 0 && !strings.HasPrefix(out, "[REDACTED:S00]") {
					t.Errorf("engine with %d secrets left %q", n, out)
					return
				}
			}
		})
	}
	for i, r := range engines {
		h.Store(r)
		want := fmt.Sprintf("[REDACTED:S%02d]", i)
		if got := h.Load().String(fmt.Sprintf("secret-value-%02d", i)); got != want {
			t.Errorf("right after Store: got %q, want %q", got, want)
		}
	}
	close(stop)
	wg.Wait()
}
