package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"hash"
	"strings"

	"github.com/airlockhq/airlock/internal/utf8cut"
	"github.com/airlockhq/airlock/orchestrator/store"
)

// MaxDetailsBytes caps the stored details JSON. Larger details are replaced
// by an object holding a marker, the original size and a prefix.
const MaxDetailsBytes = 8 << 10

// hashVersion names the canonical encoding below; it is hashed first so a
// future encoding can never collide with this one.
const hashVersion = "airlock-audit-v1"

// hashRow computes an entry's hash from its previous hash and fields:
//
//	hex(sha256(prev_hash || canonical))
//
// where canonical is hashVersion, id, time (unix nanoseconds), actor, action,
// target, outcome and details, each string preceded by its length as a
// big-endian uint64 and each integer written as a big-endian 8-byte value.
// Length prefixes make the encoding unambiguous for any bytes, valid UTF-8 or
// not, so every change to a stored field changes the hash.
func hashRow(r store.AuditRow) string {
	h := sha256.New()
	h.Write([]byte(r.PrevHash))
	writeString(h, hashVersion)
	writeInt(h, r.ID)
	writeInt(h, r.Time.UnixNano())
	for _, s := range []string{r.Actor, r.Action, r.Target, r.Outcome, r.Details} {
		writeString(h, s)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func writeInt(h hash.Hash, n int64) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(n))
	h.Write(b[:])
}

func writeString(h hash.Hash, s string) {
	writeInt(h, int64(len(s)))
	h.Write([]byte(s))
}

// encodeDetails renders details as canonical JSON (encoding/json sorts map
// keys), applies redact, and caps the result at MaxDetailsBytes. It always
// returns a JSON object, so an event is never lost to its details.
func encodeDetails(d map[string]any, redact func(string) string) string {
	s := "{}"
	if len(d) > 0 {
		b, err := json.Marshal(d)
		if err != nil {
			b = mustJSON(map[string]string{"_error": "details not encodable: " + err.Error()})
		}
		s = string(b)
	}
	s = strings.ToValidUTF8(redact(s), "\uFFFD")
	if !json.Valid([]byte(s)) {
		// Redaction broke the JSON; keep the text, as a string.
		s = string(mustJSON(map[string]string{"_redacted": s}))
	}
	if len(s) > MaxDetailsBytes {
		s = truncateDetails(s)
	}
	return s
}

// truncateDetails replaces oversized details by a marker object that keeps
// as long a prefix of them as fits in MaxDetailsBytes once JSON-escaped.
func truncateDetails(s string) string {
	for n := MaxDetailsBytes / 2; ; n /= 2 {
		b := mustJSON(struct {
			Truncated bool   `json:"_truncated"`
			Bytes     int    `json:"_original_bytes"`
			Prefix    string `json:"_prefix"`
		}{true, len(s), utf8cut.Prefix(s, n)})
		if len(b) <= MaxDetailsBytes || n == 0 {
			return string(b)
		}
	}
}

// mustJSON marshals values made of strings, ints and bools, which cannot
// fail; the fallback only keeps the result a JSON object regardless.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte(`{"_error":"details not encodable"}`)
	}
	return b
}
