package redact

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// encodingValues are secret values exercising every encoding: plain
// letters, bytes that give + and / in base64, JSON and HTML specials with
// non-ASCII, and URL specials.
var encodingValues = []Secret{
	{"PLAIN", "hunter2hunter2!"},
	{"BINARY", "\xfb\xef\xbe~~~??>\xff\x00secret"},
	{"JSONY", `qu"o\te<b>&c é☃𝄞 x`},
	{"URLY", "p@ss word/with?query=1&x"},
}

func jsonHTML(v string) string {
	b, _ := json.Marshal(v)
	return string(b[1 : len(b)-1])
}

func jsonPlain(v string) string {
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	s := strings.TrimSpace(sb.String())
	return s[1 : len(s)-1]
}

var encoders = []struct {
	name string
	enc  func(string) string
}{
	{"raw", func(v string) string { return v }},
	{"b64 std", func(v string) string { return base64.StdEncoding.EncodeToString([]byte(v)) }},
	{"b64 std raw", func(v string) string { return base64.RawStdEncoding.EncodeToString([]byte(v)) }},
	{"b64 url", func(v string) string { return base64.URLEncoding.EncodeToString([]byte(v)) }},
	{"b64 url raw", func(v string) string { return base64.RawURLEncoding.EncodeToString([]byte(v)) }},
	{"hex lower", func(v string) string { return hex.EncodeToString([]byte(v)) }},
	{"hex upper", func(v string) string { return strings.ToUpper(hex.EncodeToString([]byte(v))) }},
	{"query escape", url.QueryEscape},
	{"path escape", url.PathEscape},
	{"json html-safe", jsonHTML},
	{"json plain", jsonPlain},
	{"json all escaped lower", func(v string) string { return jsonAllEscaped(v, lowerHex) }},
	{"json all escaped upper", func(v string) string { return jsonAllEscaped(v, upperHex) }},
}

func TestEachEncoding(t *testing.T) {
	r, err := New(encodingValues)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range encodingValues {
		for _, e := range encoders {
			in := "before " + e.enc(s.Value) + " after"
			want := "before [REDACTED:" + s.Name + "] after"
			if got := r.String(in); got != want {
				t.Errorf("%s %s: got %q", s.Name, e.name, got)
			}
		}
	}
}

// TestJSONForms pins the JSON variants to literal expectations, including
// the ASCII-only form no standard Go encoder writes.
func TestJSONForms(t *testing.T) {
	v := `qu"o\te<b>&c é☃𝄞 x`
	tests := []struct{ name, got, want string }{
		{"html-safe", jsonInner(v, true), `qu\"o\\te\u003cb\u003e\u0026c é☃𝄞 x`},
		{"plain", jsonInner(v, false), `qu\"o\\te<b>&c é☃𝄞 x`},
		{"ascii", jsonASCII(v, lowerHex), `qu\"o\\te<b>&c \u00e9\u2603\ud834\udd1e x`},
		{"ascii upper", jsonASCII(v, upperHex), `qu\"o\\te<b>&c \u00E9\u2603\uD834\uDD1E x`},
		{"all escaped", jsonAllEscaped(v, lowerHex), `\u0071\u0075\u0022\u006f\u005c\u0074\u0065\u003c\u0062\u003e` +
			`\u0026\u0063\u0020\u00e9\u2603\ud834\udd1e\u0020\u0078`},
		{"all escaped upper", jsonAllEscaped(v, upperHex), `\u0071\u0075\u0022\u006F\u005C\u0074\u0065\u003C\u0062\u003E` +
			`\u0026\u0063\u0020\u00E9\u2603\uD834\uDD1E\u0020\u0078`},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, tt.got, tt.want)
		}
	}
	r, err := New([]Secret{{"JSONY", v}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		if got := r.String(`{"k":"` + tt.want + `"}`); got != `{"k":"[REDACTED:JSONY]"}` {
			t.Errorf("%s form not redacted: %q", tt.name, got)
		}
	}
}

// TestBase64InsideBlob embeds each value at byte offsets 0, 1 and 2 of a
// longer blob, with 0 to 2 bytes after it, in both alphabets. Exactly the
// characters holding any bit of the value must be replaced.
func TestBase64InsideBlob(t *testing.T) {
	r, err := New(encodingValues)
	if err != nil {
		t.Fatal(err)
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		for _, s := range encodingValues {
			for k := range 3 {
				for m := range 3 {
					pre, post := strings.Repeat("\xf8", k), strings.Repeat("Q", m)
					blob := enc.EncodeToString([]byte(pre + s.Value + post))
					n := len(s.Value)
					want := blob[:8*k/6] + "[REDACTED:" + s.Name + "]" + blob[(8*(k+n)+5)/6:]
					if k == 0 && m == 0 {
						want = "[REDACTED:" + s.Name + "]"
					}
					if got := r.String(blob); got != want {
						t.Errorf("%s offset %d, %d after: got %q want %q", s.Name, k, m, got, want)
					}
				}
			}
		}
	}
}

func TestVariantsDifferFromRaw(t *testing.T) {
	vs := variants("abcdefghijkl") // all URL and JSON forms equal the raw value
	seen := map[string]bool{}
	for _, v := range vs {
		if seen[v.text] {
			t.Errorf("variant %q listed twice", v.text)
		}
		seen[v.text] = true
	}
	// raw, 2 base64 (12 bytes: no padding, std = url), 3 inner parts
	// (the k=0 one equals the full encoding), 2 hex, 2 all-escaped JSON
	// (lower and upper hex).
	if len(vs) != 1+1+2+2+2 {
		t.Errorf("got %d variants: %v", len(vs), vs)
	}
}
