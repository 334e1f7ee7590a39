package sandbox

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"go.starlark.net/starlark"
)

// printer captures print output up to max bytes; beyond that it counts
// what was dropped and String adds a note. Too much printing is not an
// error: the run succeeds with the first max bytes.
type printer struct {
	buf   strings.Builder
	max   int
	total int
}

func (p *printer) print(_ *starlark.Thread, msg string) {
	p.total += len(msg) + 1
	room := p.max - p.buf.Len()
	if room <= 0 {
		return
	}
	line := msg + "\n"
	if len(line) > room {
		line = trimPartialRune(line[:room])
	}
	p.buf.WriteString(line)
}

// String is the captured output, with a note if it was truncated.
func (p *printer) String() string {
	if p.total <= p.buf.Len() {
		return p.buf.String()
	}
	return p.buf.String() + fmt.Sprintf("\n[print output truncated: the script printed %d bytes; only the first %s are kept]\n",
		p.total, byteSize(int64(p.max)))
}

// trimPartialRune drops a rune cut in half at the end of s.
func trimPartialRune(s string) string {
	for i := 0; i < utf8.UTFMax-1 && len(s) > 0; i++ {
		if r, size := utf8.DecodeLastRuneInString(s); r != utf8.RuneError || size > 1 {
			break
		}
		s = s[:len(s)-1]
	}
	return s
}
