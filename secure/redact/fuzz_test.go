package redact

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
)

// fuzzSecrets are fixed secrets with every difficulty: one inside
// another, HTML and JSON specials with non-ASCII, bytes that give + and /
// in base64, values a marker could complete, and one shaped like a
// credential.
var fuzzSecrets = []Secret{
	{"TOKEN", "tok-0123456789abcdef"},
	{"INNER", "456789ab"},
	{"PASS", `p<a>ss "w"ord é`},
	{"BIN", "\xfb\xef\xbe~~~??>\xff"},
	{"JOIN_B", "]bravo-secret"},
	{"JOIN_C", "charlie-sec["},
	{"GH", ghToken},
}

// fuzzEncodings turn a value into what gets inserted; the blob forms embed
// it at byte offsets 0 to 2 of a longer base64 blob.
var fuzzEncodings = []func(v string) string{
	func(v string) string { return v },
	func(v string) string { return base64.StdEncoding.EncodeToString([]byte(v)) },
	func(v string) string { return base64.RawURLEncoding.EncodeToString([]byte(v)) },
	func(v string) string { return base64.StdEncoding.EncodeToString([]byte("\x00" + v + "..")) },
	func(v string) string { return base64.URLEncoding.EncodeToString([]byte("\xfe\xfe" + v + "?")) },
	func(v string) string { return base64.RawStdEncoding.EncodeToString([]byte("abc" + v)) },
	func(v string) string { return strings.ToUpper(hex.EncodeToString([]byte(v))) },
	jsonHTML, jsonPlain,
	func(v string) string { return jsonASCII(v, lowerHex) },
	func(v string) string { return jsonAllEscaped(v, upperHex) },
}

// insert puts secret sel's encoding enc into text at pos.
func insert(text []byte, pos uint16, sel uint8) []byte {
	s := fuzzSecrets[int(sel)%len(fuzzSecrets)]
	enc := fuzzEncodings[int(sel)/len(fuzzSecrets)%len(fuzzEncodings)]
	p := int(pos) % (len(text) + 1)
	return []byte(string(text[:p]) + enc(s.Value) + string(text[p:]))
}

// FuzzRedact inserts two fixed secrets, raw or encoded, into fuzzed text
// at fuzzed positions, and checks that no secret form survives, that
// redaction is idempotent, and that Bytes and a Writer cut at a fuzzed
// point agree with String.
func FuzzRedact(f *testing.F) {
	f.Add([]byte("hello world"), uint16(6), uint8(0), uint16(0), uint8(9), uint16(3))
	r, err := New(fuzzSecrets)
	if err != nil {
		f.Fatal(err)
	}
	var forms []string
	for _, s := range fuzzSecrets {
		for _, v := range variants(s.Value) {
			forms = append(forms, v.text)
		}
	}
	f.Fuzz(func(t *testing.T, text []byte, pos1 uint16, sel1 uint8, pos2 uint16, sel2 uint8, split uint16) {
		in := insert(insert(text, pos1, sel1), pos2, sel2)
		out := r.String(string(in))
		for _, form := range forms {
			if strings.Contains(out, form) {
				t.Fatalf("a secret form survived in %q", out)
			}
		}
		if again := r.String(out); again != out {
			t.Fatalf("not idempotent:\n once %q\ntwice %q", out, again)
		}
		if b := r.Bytes(in); string(b) != out {
			t.Fatalf("Bytes %q != String %q", b, out)
		}
		var buf bytes.Buffer
		w := r.NewWriter(&buf)
		cut := int(split) % (len(in) + 1)
		_, _ = w.Write(in[:cut])
		_, _ = w.Write(in[cut:])
		if err := w.Close(); err != nil || buf.String() != out {
			t.Fatalf("Writer cut at %d gave %q, want %q (%v)", cut, buf.String(), out, err)
		}
	})
}
