package discord

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

const fence = "```"

// Split cuts text into parts of at most limit characters (counted in
// UTF-16 units, which is never less than Discord's count), at line
// boundaries where it can; a line longer than a part is cut between runes,
// not inside a run of backticks unless the run itself is longer than a
// part (then anywhere: 3,000 backticks make two parts, not 1,001). A code block cut in two is closed at the
// end of one part and reopened, with the same language, at the start of the
// next, so every part's fences are balanced, and no part ends with a block
// it only opened. Blank parts are dropped, and so are "\r" at line ends.
// A limit under 40 counts as 40.
func Split(text string, limit int) []string {
	limit = max(limit, 40)
	sp := splitter{limit: limit}
	for line := range strings.Lines(text) {
		sp.addLine(strings.TrimRight(line, "\r\n"))
	}
	sp.flush()
	return sp.parts
}

// splitter accumulates lines into parts.
type splitter struct {
	limit  int
	parts  []string
	cur    strings.Builder
	curLen int    // length of cur in UTF-16 units
	open   bool   // a code block is open at the end of cur
	lang   string // its language
	body   bool   // cur holds a non-blank line of the text

	// opener is where the open block's fence line starts in cur, while that
	// line is the last of cur: a part does not end with an empty block.
	opener *mark
}

// mark is a position in cur.
type mark struct {
	at, len int
	body    bool
}

// addLine appends one line, starting a new part first if it would not fit
// together with the fence that may have to close the part.
func (s *splitter) addLine(line string) {
	open, lang := fenceState(line, s.open, s.lang)
	need := textLen(line) + s.sepLen() + closeLen(open)
	if s.curLen+need > s.limit && s.curLen > s.headerLen() {
		s.flush()
		need = textLen(line) + s.sepLen() + closeLen(open)
	}
	s.opener = nil
	if s.curLen+need > s.limit {
		s.addLong(line)
		return
	}
	before := mark{at: s.cur.Len(), len: s.curLen, body: s.body}
	s.writeBody(line)
	if open && !s.open && strings.TrimSpace(line) == fence+lang {
		s.opener = &before
	}
	s.open, s.lang = open, lang
}

// addLong cuts a line too long for any part into pieces, never inside a
// run of backticks, following the fences in each piece.
func (s *splitter) addLong(line string) {
	for line != "" {
		room := s.limit - s.curLen - s.sepLen()
		piece := fitPiece(line, room)
		if open, _ := fenceState(piece, s.open, s.lang); open {
			piece = fitPiece(line, room-closeLen(true))
		}
		if piece == "" {
			if s.curLen > s.headerLen() {
				s.flush()
				continue
			}
			// A fresh part and still nothing fits: the line starts with a
			// run of backticks longer than the room. Cut inside it.
			piece = prefixWithin(line, room)
			if open, _ := fenceState(piece, s.open, s.lang); open {
				piece = prefixWithin(line, room-closeLen(true))
			}
		}
		if piece == "" {
			// Overflow by one rune rather than loop (unreachable with
			// limit ≥ 40).
			_, n := utf8.DecodeRuneInString(line)
			piece = line[:n]
		}
		s.writeBody(piece)
		s.open, s.lang = fenceState(piece, s.open, s.lang)
		line = line[len(piece):]
		if line != "" {
			s.flush()
		}
	}
}

// fitPiece returns the longest prefix of line at most room UTF-16 units
// long that does not end inside a run of backticks.
func fitPiece(line string, room int) string {
	k := len(prefixWithin(line, room))
	for k > 0 && k < len(line) && line[k-1] == '`' && line[k] == '`' {
		k--
	}
	return line[:k]
}

// writeBody appends a line of the text.
func (s *splitter) writeBody(text string) {
	s.write(text)
	s.body = s.body || strings.TrimSpace(text) != ""
}

// write appends a line.
func (s *splitter) write(text string) {
	if s.cur.Len() > 0 {
		s.cur.WriteByte('\n')
		s.curLen++
	}
	s.cur.WriteString(text)
	s.curLen += textLen(text)
}

// flush ends the current part, closing an open code block, and starts the
// next, reopening it.
func (s *splitter) flush() {
	switch {
	case s.opener != nil:
		s.truncate(*s.opener)
	case s.open:
		s.write(fence)
	}
	if s.body {
		s.parts = append(s.parts, s.cur.String())
	}
	s.cur.Reset()
	s.curLen, s.body, s.opener = 0, false, nil
	if s.open {
		s.write(fence + s.lang)
	}
}

// truncate cuts cur back to m, dropping the separator before it.
func (s *splitter) truncate(m mark) {
	kept := s.cur.String()[:m.at]
	s.cur.Reset()
	s.cur.WriteString(kept)
	s.curLen, s.body = m.len, m.body
}

// headerLen is the length of a part holding only a reopened fence.
func (s *splitter) headerLen() int {
	if s.open {
		return textLen(fence + s.lang)
	}
	return 0
}

func (s *splitter) sepLen() int {
	if s.cur.Len() > 0 {
		return 1
	}
	return 0
}

// closeLen is the room needed to close a code block left open.
func closeLen(open bool) int {
	if open {
		return 1 + len(fence)
	}
	return 0
}

// fenceState returns whether a code block is open after line, and its
// language: each ``` in the line toggles it; an opening fence's language
// is the word right after it.
func fenceState(line string, open bool, lang string) (bool, string) {
	rest := line
	for {
		i := strings.Index(rest, fence)
		if i < 0 {
			return open, lang
		}
		rest = rest[i+len(fence):]
		open = !open
		lang = ""
		if open {
			lang = leadingWord(rest)
		}
	}
}

// maxLang caps the length of a code block's language, which every part
// that reopens the block repeats.
const maxLang = 16

// leadingWord returns the language name at the start of s: up to the first
// space or backtick, if it is at most maxLang letters, digits or +#._-.
func leadingWord(s string) string {
	end := strings.IndexAny(s, " \t`")
	if end < 0 {
		end = len(s)
	}
	w := s[:end]
	if len(w) > maxLang || strings.ContainsFunc(w, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("+#._-", r))
	}) {
		return ""
	}
	return w
}

// textLen is the length of s in UTF-16 units.
func textLen(s string) int {
	n := 0
	for _, r := range s {
		n += runeLen(r)
	}
	return n
}

// runeLen is the length of r in UTF-16 units; invalid UTF-8 decodes to
// U+FFFD, one unit.
func runeLen(r rune) int { return max(utf16.RuneLen(r), 1) }

// prefixWithin returns the longest prefix of s, cut between runes, at most
// n UTF-16 units long.
func prefixWithin(s string, n int) string {
	used := 0
	for i, r := range s {
		l := runeLen(r)
		if used+l > n {
			return s[:i]
		}
		used += l
	}
	return s
}
