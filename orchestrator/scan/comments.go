package scan

import "strings"

// comment is one # comment: its 1-based line and its text after the '#'.
type comment struct {
	line int
	text string
}

// lexComments returns the comments of src in order. It tracks string
// literals (single, double and triple quoted, with backslash escapes), so a
// '#' inside a string is not a comment. It never fails: on a malformed
// source it does its best.
func lexComments(src string) []comment {
	var out []comment
	line := 1
	for i := 0; i < len(src); {
		switch c := src[i]; c {
		case '\n':
			line++
			i++
		case '#':
			end := strings.IndexByte(src[i:], '\n')
			if end < 0 {
				end = len(src) - i
			}
			out = append(out, comment{line: line, text: src[i+1 : i+end]})
			i += end
		case '\'', '"':
			n := skipString(src, i)
			line += strings.Count(src[i:n], "\n")
			i = n
		default:
			i++
		}
	}
	return out
}

// skipString returns the index just past the string literal starting with
// the quote at src[i].
func skipString(src string, i int) int {
	q := src[i : i+1]
	if strings.HasPrefix(src[i:], strings.Repeat(q, 3)) {
		q = strings.Repeat(q, 3)
	}
	for j := i + len(q); j < len(src); {
		switch {
		case src[j] == '\\':
			j += 2
		case strings.HasPrefix(src[j:], q):
			return j + len(q)
		case src[j] == '\n' && len(q) == 1:
			return j // unterminated: the line ends it
		default:
			j++
		}
	}
	return len(src)
}

// comments checks every comment for text addressed to a reviewer or a
// model and for encoded blobs. Consecutive comment lines are also read as
// one block, so that a phrase split across lines is still found.
func (sc *scanner) comments() {
	cs := lexComments(sc.src)
	for start := 0; start < len(cs); {
		end := start + 1
		for end < len(cs) && cs[end].line == cs[end-1].line+1 {
			end++
		}
		var block []segment
		for _, c := range cs[start:end] {
			block = append(block, segment(c))
		}
		sc.phrases(block, "a comment")
		for _, s := range block {
			sc.blobs(s.line, s.text, "a comment")
		}
		start = end
	}
}
