package naming

import (
	"strings"
	"testing"
	"unicode"
)

func TestCheck(t *testing.T) {
	refused := []rune{
		0x202E, 0x202A, 0x202B, 0x202C, 0x202D, 0x2066, 0x2067, 0x2068, 0x2069, // bidi
		0x200E, 0x200F, 0x061C, // marks
		0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x00AD, // zero-width, BOM, soft hyphen
		0xE0001, 0xE0041, // tags
		0x2028, 0x2029, // separators
		0x00, 0x1B, 0x7F, 0x85, // controls
		0x3164, 0x115F, 0x034F, 0xFE0F, 0xE0100, // fillers, CGJ, variation selectors
	}
	for _, r := range refused {
		name := "notes" + string(r) + ".md"
		msg := Check(name)
		if msg == "" {
			t.Errorf("U+%04X accepted", r)
			continue
		}
		if strings.ContainsRune(msg, r) {
			t.Errorf("message for U+%04X repeats the character", r)
		}
	}
	// Every format character is refused, whatever it is.
	for _, rt := range unicode.Cf.R16 {
		for r := rune(rt.Lo); r <= rune(rt.Hi); r += rune(rt.Stride) {
			if !Invisible(r) {
				t.Errorf("Cf character U+%04X accepted", r)
			}
		}
	}
	for _, ok := range []string{"notes.md", "données/été.txt", "日本語.md", "a b-c_d.txt", "Ελληνικά", "עברית.txt", "😀.md"} {
		if msg := Check(ok); msg != "" {
			t.Errorf("Check(%q) = %q, want accepted", ok, msg)
		}
	}
	if msg := Check("report\u202Etxt.exe"); !strings.Contains(msg, "U+202E") {
		t.Errorf("message %q does not name U+202E", msg)
	}
}
