package scan

import (
	"encoding/base64"
	"encoding/hex"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MinBlobLen is the length from which a run of base64 or hex characters is
// reported as an encoded blob.
const MinBlobLen = 120

var (
	blobRE     = regexp.MustCompile(`[A-Za-z0-9+/_-]{120,}={0,2}`)
	hexRE      = regexp.MustCompile(`^[0-9A-Fa-f]+$`)
	b64LineRE  = regexp.MustCompile(`^[A-Za-z0-9+/_-]{40,}={0,2}$`)
	b64Decoder = []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding}
)

// blobs reports long base64 or hex runs in one line of text. When a blob
// decodes to readable text, that text is checked too: hiding a phrase or
// an endpoint in base64 does not hide it from the scan.
func (sc *scanner) blobs(line int, text, where string) {
	for _, b := range blobRE.FindAllString(text, -1) {
		sc.blob(line, b, where)
	}
}

// multilineBlob reports a base64 blob wrapped over several lines of one
// string (lines of 40 or more base64 characters and nothing else, MIME
// style), which no single line shows.
func (sc *scanner) multilineBlob(line int, lines []string, where string) {
	var run []string
	total := 0
	flush := func(end int) {
		if total >= MinBlobLen && len(run) > 1 {
			sc.blob(line+end-len(run), strings.Join(run, ""), where)
		}
		run, total = nil, 0
	}
	for i, l := range lines {
		l = strings.TrimSpace(l)
		if b64LineRE.MatchString(l) {
			run, total = append(run, l), total+len(l)
			continue
		}
		flush(i)
	}
	flush(len(lines))
}

func (sc *scanner) blob(line int, b, where string) {
	kind, decoded := "base64", []byte(nil)
	if hexRE.MatchString(b) {
		kind = "hex"
		decoded, _ = hex.DecodeString(b)
	} else {
		for _, enc := range b64Decoder {
			if d, err := enc.DecodeString(b); err == nil {
				decoded = d
				break
			}
		}
	}
	sc.add(line, SeverityWarning, RuleEncodedBlob,
		"%d-character %s blob in %s: encoded data cannot be reviewed; ask what it is", len(b), kind, where)
	if text, ok := readable(decoded); ok {
		inside := "a " + kind + " blob in " + where
		sc.phrases([]segment{{line: line, text: text}}, inside)
		sc.checkExfilNames(line, text, inside)
	}
}

// readable returns b as text when it is UTF-8 that is mostly printable.
func readable(b []byte) (string, bool) {
	if len(b) == 0 || !utf8.Valid(b) {
		return "", false
	}
	s := string(b)
	printable := 0
	for _, r := range s {
		if unicode.IsPrint(r) || unicode.IsSpace(r) {
			printable++
		}
	}
	return s, printable*10 >= utf8.RuneCountInString(s)*9
}
