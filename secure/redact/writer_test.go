package redact

import (
	"bytes"
	"encoding/base64"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

// writeChunks writes in through a Writer in the given chunk sizes (the
// last one repeated) and returns what came out after Close.
func writeChunks(t *testing.T, r *Redactor, in string, sizes ...int) string {
	t.Helper()
	var out bytes.Buffer
	w := r.NewWriter(&out)
	for k := 0; len(in) > 0; k++ {
		n := min(sizes[min(k, len(sizes)-1)], len(in))
		if got, err := w.Write([]byte(in[:n])); err != nil || got != n {
			t.Fatalf("Write = %d, %v", got, err)
		}
		in = in[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func streamRedactor(t *testing.T) *Redactor {
	return mustNew(t,
		Secret{"TOKEN", "tok-0123456789abcdef"},
		Secret{"INNER", "456789ab"},
		Secret{"PASS", `p<a>ss "w"ord`},
		Secret{"B", "]bravo-secret"},
	)
}

func streamMessage() string {
	return "start tok-0123456789abcdef mid " + base64.StdEncoding.EncodeToString([]byte("xxtok-0123456789abcdefyy")) +
		` json="p\u003ca\u003ess \"w\"ord" ` + "tok-0123456789abcdef]bravo-secret 456789ab " + ghToken + " " + jwt +
		" -----BEGIN PRIVATE KEY-----\n" + pemBody + "-----END PRIVATE KEY----- end"
}

// TestWriterEverySplit: cutting the stream in two anywhere gives what
// String gives for the whole.
func TestWriterEverySplit(t *testing.T) {
	r := streamRedactor(t)
	msg := streamMessage()
	want := r.String(msg)
	if strings.Contains(want, "tok-0123") || !strings.Contains(want, "[REDACTED:PRIVATE_KEY]") {
		t.Fatalf("String itself is wrong: %q", want)
	}
	for i := 0; i <= len(msg); i++ {
		if got := writeChunks(t, r, msg, i, len(msg)); got != want {
			t.Fatalf("split at %d:\n got %q\nwant %q", i, got, want)
		}
	}
}

func TestWriterSmallWrites(t *testing.T) {
	r := streamRedactor(t)
	msg := streamMessage()
	want := r.String(msg)
	for _, size := range []int{1, 2, 3, 7, 64} {
		if got := writeChunks(t, r, msg, size); got != want {
			t.Errorf("%d-byte writes:\n got %q\nwant %q", size, got, want)
		}
	}
}

// TestWriterRandom compares Writer and String on random texts built from
// secrets, encodings, shapes, marker-like text and noise, in random
// chunks.
func TestWriterRandom(t *testing.T) {
	r := streamRedactor(t)
	rng := rand.New(rand.NewPCG(11, 12))
	pieces := []string{"tok-0123456789abcdef", "456789ab", "]bravo-secret", "bravo-secret", `p<a>ss "w"ord`,
		"dG9rLTAxMjM0NTY3ODlhYmNkZWY=", "746f6b2d30313233343536373839616263646566", ghToken, "sk-ant-", jwt[:40], jwt,
		"[REDACTED:TOKEN]", "]", "[", " ", "\n", "abc", "=", "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GhIjKl.", "-----BEGIN PRIVATE KEY-----\n"}
	for range 300 {
		var b strings.Builder
		for range rng.IntN(30) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		msg := b.String()
		want := r.String(msg)
		if again := r.String(want); again != want {
			t.Fatalf("not idempotent on %q", msg)
		}
		if got := writeChunks(t, r, msg, 1+rng.IntN(40), 1+rng.IntN(40)); got != want {
			t.Fatalf("msg %q:\n got %q\nwant %q", msg, got, want)
		}
	}
}

// TestWriterHoldBack: without an open shape, the Writer keeps at most
// Hold() bytes.
func TestWriterHoldBack(t *testing.T) {
	r := streamRedactor(t)
	var out bytes.Buffer
	w := r.NewWriter(&out)
	in := strings.Repeat("plain text, nothing to hide. ", 100)
	for i := 0; i < len(in); i++ {
		_, _ = w.Write([]byte{in[i]})
		if held := i + 1 - out.Len(); held > w.Hold() {
			t.Fatalf("holding %d bytes, Hold() = %d", held, w.Hold())
		}
	}
	longest := 0
	for _, v := range []string{"tok-0123456789abcdef", "456789ab", `p<a>ss "w"ord`, "]bravo-secret"} {
		for _, p := range variants(v) {
			longest = max(longest, len(p.text))
		}
	}
	if w.Hold() != longest+1 {
		t.Errorf("Hold() = %d, longest pattern %d", w.Hold(), longest)
	}
	if err := w.Flush(); err != nil || out.String() != in {
		t.Errorf("Flush: %v, output differs", err)
	}
}

// TestWriterHoldsOnlyPatternPrefixes: the Writer holds back only the tail
// that may begin a pattern, not Hold() bytes of ordinary text, so a long
// secret (whose all-escaped JSON form is six times longer) does not delay
// a stream.
func TestWriterHoldsOnlyPatternPrefixes(t *testing.T) {
	long := strings.Repeat("Zq7Xv9Lm2Pw8Rt", 20)
	r, err := New([]Secret{{"LONG", long}})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w := r.NewWriter(&out)
	in := "ordinary text, nothing to hide; "
	for i := 0; i < len(in); i++ {
		_, _ = w.Write([]byte{in[i]})
		if held := i + 1 - out.Len(); held > 8 {
			t.Fatalf("holding %d bytes of plain text (Hold() = %d)", held, w.Hold())
		}
	}
	_, _ = w.Write([]byte(long[:40]))
	if held := len(in) + 40 - out.Len(); held != 41 {
		t.Errorf("holding %d bytes after a 40-byte prefix of the secret; want 41", held)
	}
	_, _ = w.Write([]byte(long[40:] + " end"))
	if err := w.Flush(); err != nil || out.String() != in+"[REDACTED:LONG] end" {
		t.Errorf("Flush: %v, output %q", err, out.String())
	}
}

// TestWriterShapeHoldBound: an open shape candidate is held back up to
// MaxShapeHold; past that it is redacted as far as seen.
func TestWriterShapeHoldBound(t *testing.T) {
	var out bytes.Buffer
	w := (*Redactor)(nil).NewWriter(&out)
	_, _ = w.Write([]byte("x -----BEGIN PRIVATE KEY-----\n"))
	line := []byte(strings.Repeat("A", 255) + "\n")
	for out.Len() <= len("x ") {
		_, _ = w.Write(line)
		if len(w.buf) > MaxShapeHold+len(line)+w.Hold() {
			t.Fatalf("holding %d bytes", len(w.buf))
		}
	}
	if !strings.HasPrefix(out.String(), "x [REDACTED:PRIVATE_KEY]") {
		t.Errorf("forced output starts %q", out.String()[:min(40, out.Len())])
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n--; f.n < 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestWriterErrors(t *testing.T) {
	w := streamRedactor(t).NewWriter(&failWriter{n: 1})
	big := []byte(strings.Repeat("x", 200))
	if _, err := w.Write(big); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(big); err == nil {
		t.Fatal("underlying error not returned")
	}
	if _, err := w.Write([]byte("y")); err == nil || w.Flush() == nil {
		t.Error("error is not sticky")
	}
	w2 := streamRedactor(t).NewWriter(&bytes.Buffer{})
	if err := w2.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w2.Write([]byte("late")); !errors.Is(err, ErrClosed) {
		t.Errorf("write after Close: %v", err)
	}
}
