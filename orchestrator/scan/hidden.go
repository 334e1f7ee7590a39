package scan

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// charNames names the invisible and bidirectional characters most often
// used to hide text ("Trojan Source", ASCII smuggling).
var charNames = map[rune]string{
	0x00AD: "SOFT HYPHEN",
	0x034F: "COMBINING GRAPHEME JOINER",
	0x061C: "ARABIC LETTER MARK",
	0x115F: "HANGUL CHOSEONG FILLER",
	0x1160: "HANGUL JUNGSEONG FILLER",
	0x180E: "MONGOLIAN VOWEL SEPARATOR",
	0x200B: "ZERO WIDTH SPACE",
	0x200C: "ZERO WIDTH NON-JOINER",
	0x200D: "ZERO WIDTH JOINER",
	0x200E: "LEFT-TO-RIGHT MARK",
	0x200F: "RIGHT-TO-LEFT MARK",
	0x2028: "LINE SEPARATOR",
	0x2029: "PARAGRAPH SEPARATOR",
	0x202A: "LEFT-TO-RIGHT EMBEDDING",
	0x202B: "RIGHT-TO-LEFT EMBEDDING",
	0x202C: "POP DIRECTIONAL FORMATTING",
	0x202D: "LEFT-TO-RIGHT OVERRIDE",
	0x202E: "RIGHT-TO-LEFT OVERRIDE",
	0x2060: "WORD JOINER",
	0x2061: "FUNCTION APPLICATION",
	0x2062: "INVISIBLE TIMES",
	0x2063: "INVISIBLE SEPARATOR",
	0x2064: "INVISIBLE PLUS",
	0x2066: "LEFT-TO-RIGHT ISOLATE",
	0x2067: "RIGHT-TO-LEFT ISOLATE",
	0x2068: "FIRST STRONG ISOLATE",
	0x2069: "POP DIRECTIONAL ISOLATE",
	0x3164: "HANGUL FILLER",
	0xFEFF: "ZERO WIDTH NO-BREAK SPACE (BOM)",
	0xFFA0: "HALFWIDTH HANGUL FILLER",
}

// fillers are invisible letters: not format characters, yet blank.
var fillers = []rune{0x115F, 0x1160, 0x3164, 0xFFA0, 0x2800}

// hidden reports whether r is invisible, a control or bidi character, or
// otherwise unfit for source text. Tab, newline and carriage return are
// fine.
func hidden(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return false
	case r == utf8.RuneError:
		return true // invalid UTF-8
	case unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Zl, unicode.Zp, unicode.Variation_Selector):
		return true
	case r >= 0xE0000 && r <= 0xE007F: // tag characters
		return true
	}
	for _, f := range fillers {
		if r == f {
			return true
		}
	}
	return false
}

// bidi reports whether r reorders text on screen.
func bidi(r rune) bool {
	return r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069 || r == 0x200E || r == 0x200F || r == 0x061C
}

// hiddenCharacters reports every line holding an invisible or
// bidirectional character, naming (up to four of) them.
func (sc *scanner) hiddenCharacters() {
	for i, line := range strings.Split(sc.src, "\n") {
		var names []string
		seen := map[rune]bool{}
		reorders := false
		for _, r := range line {
			if !hidden(r) || seen[r] {
				continue
			}
			seen[r] = true
			reorders = reorders || bidi(r)
			if len(names) < 4 {
				names = append(names, charName(r))
			}
		}
		if len(names) == 0 {
			continue
		}
		msg := "invisible characters that can hide text from a reviewer: " + strings.Join(names, ", ")
		if reorders {
			msg += " — bidirectional controls can make code read differently from how it runs (Trojan Source)"
		}
		sc.add(i+1, SeverityHigh, RuleHiddenCharacters, "%s", msg)
	}
}

func charName(r rune) string {
	if r == utf8.RuneError {
		return "U+FFFD REPLACEMENT CHARACTER (or invalid UTF-8)"
	}
	name := charNames[r]
	switch {
	case name != "":
	case r >= 0xE0000 && r <= 0xE007F:
		name = "TAG CHARACTER"
	case unicode.Is(unicode.Variation_Selector, r):
		name = "VARIATION SELECTOR"
	case unicode.Is(unicode.Cc, r):
		name = "CONTROL CHARACTER"
	case unicode.Is(unicode.Co, r):
		name = "PRIVATE USE CHARACTER"
	default:
		name = "INVISIBLE FORMAT CHARACTER"
	}
	return fmt.Sprintf("U+%04X %s", r, name)
}

// stripHidden removes the characters hidden reports, so that text split
// by zero-width characters still matches the phrase rules.
func stripHidden(s string) string {
	return strings.Map(func(r rune) rune {
		if hidden(r) && r != utf8.RuneError {
			return -1
		}
		return r
	}, s)
}
