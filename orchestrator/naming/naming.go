// Package naming is the one rule for the characters of every name the
// assistant chooses and an admin later reads: workspace file and folder
// names, script descriptions, script function and parameter names (script,
// secret and host names are narrower still: ASCII patterns).
//
// Invariant: a name that passes Check holds no character that is invisible
// or that changes how the text around it is displayed. Refused are
//
//   - control characters (Unicode category Cc: C0, DEL, C1);
//   - format characters (Cf): the bidirectional embeddings, overrides and
//     isolates (U+202A–U+202E, U+2066–U+2069), the directional marks
//     (U+200E, U+200F, U+061C), zero-width space, joiners and word joiner
//     (U+200B–U+200D, U+2060), the byte order mark (U+FEFF), the soft
//     hyphen (U+00AD), the tag characters (U+E0000–U+E007F) and the rest
//     of the category;
//   - line and paragraph separators (Zl, Zp: U+2028, U+2029);
//   - the other default-ignorable code points, which render as nothing
//     (Unicode's Other_Default_Ignorable_Code_Point, such as the Hangul
//     fillers and the combining grapheme joiner, and the variation
//     selectors).
//
// With them a name could read differently from what it is ("Trojan
// Source": "report\u202Etxt.exe" shows as "reportexe.txt") or two
// different names could look the same. The price is that emoji sequences
// built with a zero-width joiner or a variation selector are refused too.
package naming

import (
	"fmt"
	"unicode"
)

// Invisible reports whether r is refused in a name: a control, format,
// line or paragraph separator, or default-ignorable character.
func Invisible(r rune) bool {
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp,
		unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector)
}

// Check returns "" when name holds no invisible character, and otherwise
// a message naming the first one by its code point ("contains the
// character U+202E, which is invisible or reorders text: ..."), which
// never repeats the character itself.
func Check(name string) string {
	for _, r := range name {
		if Invisible(r) {
			return fmt.Sprintf("contains the character U+%04X, which is invisible or reorders text: "+
				"control characters and format (bidirectional, zero-width) characters are not allowed in names", r)
		}
	}
	return ""
}
