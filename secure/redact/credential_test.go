package redact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestCredentialNeverRendered(t *testing.T) {
	const value = "sk-live-SUPERSECRET"
	c := Credential(value)
	holder := struct {
		Key  Credential
		Keys []Credential
	}{c, []Credential{c}}
	var out strings.Builder
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%X", "%q", "%10s"} {
		for _, arg := range []any{c, &c, holder, &holder} {
			fmt.Fprintf(&out, verb+"\n", arg)
		}
	}
	j, _ := json.Marshal(holder)
	txt, _ := c.MarshalText()
	y, _ := c.MarshalYAML()
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("m", "key", c, "holder", holder)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("m", "key", c)
	all := out.String() + string(j) + string(txt) + fmt.Sprint(y) + logs.String()
	for _, s := range []string{value, "SUPERSECRET", fmt.Sprintf("%x", value)} {
		if strings.Contains(all, s) {
			t.Fatalf("a rendering reveals the credential:\n%s", all)
		}
	}
	if !strings.Contains(all, Masked) || c.Reveal() != value || !c.IsSet() {
		t.Errorf("renderings lack %s, or Reveal/IsSet wrong:\n%s", Masked, all)
	}
}

func TestCredentialEmptyRendersEmpty(t *testing.T) {
	var c Credential
	if got := fmt.Sprint(c) + c.String(); got != "" || c.IsSet() {
		t.Fatalf("empty credential renders %q", got)
	}
	if b, _ := json.Marshal(c); string(b) != `""` {
		t.Fatalf("empty credential JSON %s", b)
	}
}
