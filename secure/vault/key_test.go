package vault

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// testKey returns a key whose bytes are easy to spot in any rendering.
func testKey() Key {
	var k Key
	for i := range k {
		k[i] = byte(0xA0 + i)
	}
	return k
}

func TestKeyNeverRendersBytes(t *testing.T) {
	k := testKey()
	hexLower := fmt.Sprintf("%x", k[:])
	hexUpper := fmt.Sprintf("%X", k[:])
	raw := string(k[:])
	type holder struct{ K Key }
	renders := map[string]string{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%q"} {
		renders[verb] = fmt.Sprintf(verb, k)
		renders[verb+" ptr"] = fmt.Sprintf(verb, &k)
		renders[verb+" struct"] = fmt.Sprintf(verb, holder{k})
	}
	js, err := json.Marshal(holder{k})
	if err != nil {
		t.Fatal(err)
	}
	renders["json"] = string(js)
	var logBuf bytes.Buffer
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("x", "key", k)
	slog.New(slog.NewTextHandler(&logBuf, nil)).Info("x", "key", k)
	renders["slog"] = logBuf.String()
	txt, _ := k.MarshalText()
	renders["text"] = string(txt)
	for how, s := range renders {
		if strings.Contains(s, hexLower[:8]) || strings.Contains(s, hexUpper[:8]) ||
			strings.Contains(s, raw[:4]) || strings.Contains(s, "160") {
			t.Errorf("%s rendering reveals key bytes: %q", how, s)
		}
		if !strings.Contains(s, "redacted") {
			t.Errorf("%s rendering = %q, want it to say redacted", how, s)
		}
	}
}

func TestGenerateKey(t *testing.T) {
	a, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	b, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if a == b || a.isZero() {
		t.Fatal("GenerateKey returned a repeated or zero key")
	}
}
