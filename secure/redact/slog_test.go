package redact

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

const canary = "CANARY-7f3a9c1e-secret"

type canaryStringer struct{}

func (canaryStringer) String() string { return "stringer " + canary }

type canaryValuer struct{}

func (canaryValuer) LogValue() slog.Value {
	return slog.GroupValue(slog.String("inner", canary), slog.Int("n", 1))
}

type config struct {
	User  string
	Token string
	Raw   []byte
}

// assertNoCanary fails if out holds the canary in any encoding the
// redactor knows, and requires the marker.
func assertNoCanary(t *testing.T, out string) {
	t.Helper()
	for _, v := range variants(canary) {
		if strings.Contains(out, v.text) {
			t.Errorf("canary form %q leaked:\n%s", v.text, out)
		}
	}
	if !strings.Contains(out, "[REDACTED:CANARY]") {
		t.Errorf("no marker in output:\n%s", out)
	}
}

func logEverything(l *slog.Logger) {
	l = l.With("bound", "with "+canary).WithGroup("grp").With("bound2", canary)
	l.Info("message "+canary,
		"attr", canary,
		"b64", base64.StdEncoding.EncodeToString([]byte(canary)),
		slog.Group("nested", slog.Group("deeper", slog.String("leaf", canary))),
		"err", fmt.Errorf("wrapped: %w", errors.New("failed with "+canary)),
		"stringer", canaryStringer{},
		"valuer", canaryValuer{},
		"struct", config{User: "bob", Token: canary},
		"ptr", &config{Token: canary},
		"bytes", []byte("raw "+canary),
		canary, "as a key",
	)
}

func TestHandlerRedactsEverything(t *testing.T) {
	var h Holder
	h.Store(mustNew(t, Secret{"CANARY", canary}))
	for name, mk := range map[string]func(*bytes.Buffer) slog.Handler{
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
	} {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			logEverything(slog.New(NewHandler(mk(&out), &h)))
			assertNoCanary(t, out.String())
			if !strings.Contains(out.String(), "bob") {
				t.Errorf("unrelated data lost:\n%s", out.String())
			}
		})
	}
}

// TestHandlerFollowsHolder: the same logger, attributes bound before the
// swap included, redacts a secret stored after it was built.
func TestHandlerFollowsHolder(t *testing.T) {
	var h Holder
	var out bytes.Buffer
	l := slog.New(NewHandler(slog.NewJSONHandler(&out, nil), &h)).With("bound", canary)
	l.Info("before " + canary)
	if !strings.Contains(out.String(), canary) {
		t.Fatalf("canary redacted before it was stored:\n%s", out.String())
	}
	out.Reset()
	h.Store(mustNew(t, Secret{"CANARY", canary}))
	l.Info("after "+canary, "k", canary)
	assertNoCanary(t, out.String())
	if strings.Count(out.String(), "[REDACTED:CANARY]") != 3 {
		t.Errorf("want 3 markers (msg, bound, attr):\n%s", out.String())
	}
}

func TestHandlerKeepsStructure(t *testing.T) {
	var h Holder
	h.Store(mustNew(t, Secret{"CANARY", canary}))
	var out bytes.Buffer
	l := slog.New(NewHandler(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo}), &h))
	l.Debug("hidden " + canary)
	if out.Len() != 0 {
		t.Errorf("level filter ignored: %s", out.String())
	}
	l.WithGroup("").With().Info("m", "n", 42, "ok", true, slog.Attr{}, "empty", slog.GroupValue())
	want := `"msg":"m","n":42,"ok":true}`
	if !strings.Contains(out.String(), want) {
		t.Errorf("got %s, want it to contain %s", out.String(), want)
	}
}

func TestHandlerNumbers(t *testing.T) {
	var h Holder
	h.Store(mustNew(t, Secret{"PIN", "12345678901"}))
	var out bytes.Buffer
	slog.New(NewHandler(slog.NewJSONHandler(&out, nil), &h)).Info("m", "n", int64(12345678901), "u", uint64(12345678901), "small", 7)
	if strings.Contains(out.String(), "12345678901") || !strings.Contains(out.String(), `"small":7`) {
		t.Errorf("got %s", out.String())
	}
}
