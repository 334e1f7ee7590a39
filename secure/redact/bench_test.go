package redact

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
)

// benchFixture is 1000 random secrets and 1 MiB of log-like text with a
// few of them embedded, raw and encoded.
type benchFixture struct {
	secrets []Secret
	text    []byte
}

var benchOnce = sync.OnceValue(func() *benchFixture {
	rng := rand.New(rand.NewPCG(1, 2))
	f := &benchFixture{secrets: randomSecrets(rng, 1000)}
	f.text = logText(rng, 1<<20, f.secrets)
	return f
})

// randomSecrets returns n secrets of 16 to 40 bytes: three in four are
// API-key-like (letters, digits, - and _), the rest printable ASCII.
func randomSecrets(rng *rand.Rand, n int) []Secret {
	const keyish = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	out := make([]Secret, n)
	for i := range out {
		b := make([]byte, 16+rng.IntN(25))
		for j := range b {
			if i%4 == 3 {
				b[j] = byte(' ' + 1 + rng.IntN(94))
			} else {
				b[j] = keyish[rng.IntN(len(keyish))]
			}
		}
		out[i] = Secret{Name: fmt.Sprintf("SECRET_%04d", i), Value: string(b)}
	}
	return out
}

// logText returns size bytes of log lines; every 64th line carries a
// secret, raw, base64, hex or JSON-escaped.
func logText(rng *rand.Rand, size int, secrets []Secret) []byte {
	levels := []string{"INFO", "DEBUG", "WARN", "ERROR"}
	paths := []string{"/api/v1/users", "/api/v1/chat", "/healthz", "/static/app.css", "/admin/scripts"}
	words := strings.Fields("request served upstream timeout retry cache miss hit connection closed user login token refreshed worker task queued done")
	var b strings.Builder
	for line := 0; b.Len() < size; line++ {
		fmt.Fprintf(&b, "2025-03-%02dT%02d:%02d:%02d.%03dZ %s %s %s path=%s/%d status=%d dur=%d.%dms req_id=%016x ip=10.%d.%d.%d ua=\"Mozilla/5.0 (X11; Linux x86_64)\"",
			1+rng.IntN(28), rng.IntN(24), rng.IntN(60), rng.IntN(60), rng.IntN(1000), levels[rng.IntN(4)],
			words[rng.IntN(len(words))], words[rng.IntN(len(words))], paths[rng.IntN(len(paths))], rng.IntN(1e6),
			200+rng.IntN(4)*100, rng.IntN(500), rng.IntN(10), rng.Uint64(), rng.IntN(256), rng.IntN(256), rng.IntN(256))
		if line%64 == 7 {
			v := secrets[rng.IntN(len(secrets))].Value
			switch rng.IntN(4) {
			case 0:
				b.WriteString(" secret=" + v)
			case 1:
				b.WriteString(" auth=Basic " + base64.StdEncoding.EncodeToString([]byte("user:"+v)))
			case 2:
				b.WriteString(" hex=" + hex.EncodeToString([]byte(v)))
			case 3:
				b.WriteString(` json={"k":"` + jsonInner(v, true) + `"}`)
			}
		}
		b.WriteByte('\n')
	}
	return []byte(b.String()[:size])
}

func BenchmarkRedact1MiB1000Secrets(b *testing.B) {
	f := benchOnce()
	r, err := New(f.secrets)
	if err != nil {
		b.Fatal(err)
	}
	out := r.Bytes(f.text)
	if len(out) == len(f.text) {
		b.Fatal("nothing redacted: the fixture embeds no secret")
	}
	b.SetBytes(int64(len(f.text)))
	for b.Loop() {
		r.Bytes(f.text)
	}
	b.ReportMetric(float64(r.patterns), "patterns")
}

func BenchmarkReplaceAllLoop(b *testing.B) {
	f := benchOnce()
	var pats, markers []string
	for _, s := range f.secrets {
		for _, v := range variants(s.Value) {
			pats = append(pats, v.text)
			markers = append(markers, marker(s.Name))
		}
	}
	b.SetBytes(int64(len(f.text)))
	text := string(f.text)
	for b.Loop() {
		s := text
		for i, p := range pats {
			s = strings.ReplaceAll(s, p, markers[i])
		}
	}
	b.ReportMetric(float64(len(pats)), "patterns")
}

func BenchmarkNew1000Secrets(b *testing.B) {
	f := benchOnce()
	for b.Loop() {
		if _, err := New(f.secrets); err != nil {
			b.Fatal(err)
		}
	}
}
