package redact

import "encoding/base64"

// Shape detectors find well-known credential formats. Each starts at a
// literal anchor of four bytes or more that the automaton finds in the
// same pass as the secret patterns; the detector then reads forward by
// hand. Detectors look at no word boundary and read runs greedily, so a
// shape found in redacted text was already found (or covered) in the text
// before redaction: redaction stays idempotent.

// Shape indexes, in the order of shapeNames.
const (
	shapeOpenAI = iota
	shapeAnthropic
	shapeGitHub
	shapeSlack
	shapeAWS
	shapeDiscord
	shapeJWT
	shapePEM
	numShapes
)

// shapeNames are the names in the shape detectors' markers.
var shapeNames = [numShapes]string{
	"OPENAI_KEY", "ANTHROPIC_KEY", "GITHUB_TOKEN", "SLACK_TOKEN",
	"AWS_ACCESS_KEY", "DISCORD_TOKEN", "JWT", "PRIVATE_KEY",
}

// Detector kinds: which code reads the text after an anchor.
const (
	kindSK = iota // sk-: OpenAI or Anthropic
	kindGitHub
	kindGitHubPAT
	kindSlack
	kindAWS
	kindJWT
	kindPEM
	kindDiscord
)

type anchorDef struct {
	lit  string
	kind uint8
}

// anchors are the literals that start a detector. None is a suffix of
// another (a state reports one anchor), and none is shorter than four
// bytes (the scan's prefilter reads four).
var anchors = makeAnchors()

func makeAnchors() []anchorDef {
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	var out []anchorDef
	for i := 0; i < len(alnum); i++ {
		out = append(out, anchorDef{"sk-" + alnum[i:i+1], kindSK})
	}
	for _, p := range []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_"} {
		out = append(out, anchorDef{p, kindGitHub})
	}
	out = append(out, anchorDef{"github_pat_", kindGitHubPAT})
	for _, c := range "abposr" {
		out = append(out, anchorDef{"xox" + string(c) + "-", kindSlack})
	}
	out = append(out, anchorDef{"AKIA", kindAWS}, anchorDef{"ASIA", kindAWS})
	for i := 0; i < len(alnum); i++ {
		out = append(out, anchorDef{"eyJ" + alnum[i:i+1], kindJWT})
	}
	out = append(out, anchorDef{"eyJ-", kindJWT}, anchorDef{"eyJ_", kindJWT})
	out = append(out, anchorDef{"-----BEGIN", kindPEM})
	// A Discord token starts with base64 of a decimal user id: the first
	// four characters encode three digits.
	for d := 0; d < 1000; d++ {
		b := []byte{'0' + byte(d/100), '0' + byte(d/10%10), '0' + byte(d%10)}
		out = append(out, anchorDef{base64.RawURLEncoding.EncodeToString(b), kindDiscord})
	}
	return out
}

// status of a detector run.
type status uint8

const (
	noMatch  status = iota
	matched         // [start, end) is a credential
	needMore        // the answer depends on bytes past the end of a non-final text
)

type class [256]bool

func makeClass(sets ...string) *class {
	var c class
	for _, set := range sets {
		for i := 0; i < len(set); i++ {
			if i+2 < len(set) && set[i+1] == '-' {
				for b := set[i]; b <= set[i+2]; b++ {
					c[b] = true
				}
				i += 2
				continue
			}
			c[set[i]] = true
		}
	}
	return &c
}

var (
	clsAlnum      = makeClass("A-Z", "a-z", "0-9")
	clsAlnumUnder = makeClass("A-Z", "a-z", "0-9", "_")
	clsB64URL     = makeClass("A-Z", "a-z", "0-9", "_", "-")
	clsB64Any     = makeClass("A-Z", "a-z", "0-9", "+/_", "-")
	clsSlack      = makeClass("A-Z", "a-z", "0-9", "-")
	clsUpperNum   = makeClass("A-Z", "0-9")
	clsPEMHeader  = makeClass("A-Z", "0-9", " ")
	clsPEMBody    = makeClass("A-Z", "a-z", "0-9", "+/=", " \t\r\n\\:,.", "-")
)

// cursor reads a text forward for a detector.
type cursor[T text] struct {
	t     T
	i     int
	final bool
	more  bool // some read hit the end of a non-final text
}

// lit consumes s if the text has it at the cursor.
func (c *cursor[T]) lit(s string) bool {
	for k := 0; k < len(s); k++ {
		if c.i+k >= len(c.t) {
			c.more = c.more || !c.final
			return false
		}
		if c.t[c.i+k] != s[k] {
			return false
		}
	}
	c.i += len(s)
	return true
}

// run consumes the longest run of bytes in cl, at most max long (0: no
// limit), and reports whether it is at least min long.
func (c *cursor[T]) run(cl *class, min, max int) bool {
	j := c.i
	for j < len(c.t) && cl[c.t[j]] && (max == 0 || j-c.i < max) {
		j++
	}
	if j == len(c.t) && (max == 0 || j-c.i < max) {
		c.more = c.more || !c.final
	}
	n := j - c.i
	c.i = j
	return n >= min
}

// result turns a detector's verdict into a status.
func (c *cursor[T]) result(ok bool) status {
	switch {
	case c.more:
		return needMore
	case ok:
		return matched
	default:
		return noMatch
	}
}
