package discord

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSplitExamples(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		limit int
		want  []string
	}{
		{"short", "hello\nworld", 2000, []string{"hello\nworld"}},
		{"empty", "", 2000, nil},
		{"blank", "  \n\n ", 2000, nil},
		{"line boundaries", "aaaaaaaaaa\nbbbbbbbbbb\ncccccccccc\ndddddddddd", 40,
			[]string{"aaaaaaaaaa\nbbbbbbbbbb\ncccccccccc", "dddddddddd"}},
		{"fence reopened with language",
			"intro\n```python\nxxxxxxxxxxxxxxxxxx\nyyyyyyyyyyyyyyyyyy\nzzzzzzzzzzzzzzzzzz\n```\nend", 40,
			[]string{"intro\n```python\nxxxxxxxxxxxxxxxxxx\n```", "```python\nyyyyyyyyyyyyyyyyyy\n```",
				"```python\nzzzzzzzzzzzzzzzzzz\n```\nend"}},
		{"long line cut", strings.Repeat("x", 100), 40,
			[]string{strings.Repeat("x", 40), strings.Repeat("x", 40), strings.Repeat("x", 20)}},
		{"surrogate pairs count twice", strings.Repeat("😀", 30), 40,
			[]string{strings.Repeat("😀", 20), strings.Repeat("😀", 10)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Split(tt.text, tt.limit)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
				t.Errorf("Split =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

// TestSplitInvariants checks generated texts whose lines fit in a part:
// every part within the limit, valid UTF-8, not blank, fences balanced,
// and no line of the text lost, cut or reordered.
func TestSplitInvariants(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"alpha", "beta", "γάμμα", "😀", "x", "", "    indented", "`tick`", "**bold**"}
	for i := range 300 {
		var lines []string
		open := false
		limit := 40 + rng.IntN(80)
		for range rng.IntN(60) {
			switch r := rng.IntN(10); {
			case r == 0 && !open:
				lines = append(lines, "```"+[]string{"", "go", "js"}[rng.IntN(3)])
				open = true
			case r == 0:
				lines = append(lines, "```")
				open = false
			default:
				lines = append(lines, line(rng, words, limit-12))
			}
		}
		if open {
			lines = append(lines, "```")
		}
		text := strings.Join(lines, "\n")
		parts := Split(text, limit)
		for j, p := range parts {
			if textLen(p) > limit || !utf8.ValidString(p) || strings.TrimSpace(p) == "" {
				t.Fatalf("case %d part %d (limit %d) bad: %q", i, j, limit, p)
			}
			if strings.Count(p, "```")%2 != 0 {
				t.Fatalf("case %d part %d has unbalanced fences: %q\ntext:\n%s", i, j, p, text)
			}
		}
		if norm(strings.Join(parts, "\n")) != norm(text) {
			t.Fatalf("case %d: parts do not rejoin:\n%q\ntext:\n%q", i, parts, text)
		}
	}
}

// norm drops blank lines, which Split may drop at part boundaries, and
// lines holding only a fence, which it adds.
func norm(s string) string {
	var keep []string
	for line := range strings.Lines(s) {
		line = strings.TrimRight(line, "\n")
		if t := strings.TrimSpace(line); t != "" && t != "```" && t != "```go" && t != "```js" {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

// line returns random words, at most max UTF-16 units.
func line(rng *rand.Rand, words []string, max int) string {
	var b strings.Builder
	for range rng.IntN(12) {
		w := words[rng.IntN(len(words))] + " "
		if textLen(b.String()+w) > max {
			break
		}
		b.WriteString(w)
	}
	return b.String()
}

func TestSplitDoesNotEndPartWithEmptyBlock(t *testing.T) {
	text := strings.Repeat("a", 30) + "\n```go\n" + strings.Repeat("b", 30) + "\n```"
	got := Split(text, 40)
	want := []string{strings.Repeat("a", 30), "```go\n" + strings.Repeat("b", 30) + "\n```"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Split =\n%q\nwant\n%q", got, want)
	}
}

// TestSplitLongLines: lines longer than a part are cut, inside code blocks
// too, and every part still fits and keeps its fences balanced.
func TestSplitLongLines(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 200 {
		limit := 40 + rng.IntN(40)
		var b strings.Builder
		for j := range 1 + rng.IntN(8) {
			if j%3 == 1 {
				b.WriteString("```" + strings.Repeat("l", rng.IntN(30)) + "\n")
			}
			b.WriteString(strings.Repeat([]string{"x", "é", "😀", " "}[rng.IntN(4)], rng.IntN(4*limit)) + "\n")
			if j%3 == 1 && rng.IntN(2) == 0 {
				b.WriteString("```\n")
			}
		}
		for j, p := range Split(b.String(), limit) {
			if textLen(p) > limit || !utf8.ValidString(p) || strings.TrimSpace(p) == "" ||
				strings.Count(p, "```")%2 != 0 {
				t.Fatalf("case %d part %d (limit %d) bad: %q", i, j, limit, p)
			}
		}
	}
}

// TestSplitLongBacktickRun (issue 20, item 5): a run of backticks longer
// than a part is cut inside; 3,000 backticks made 1,001 messages.
func TestSplitLongBacktickRun(t *testing.T) {
	for _, text := range []string{strings.Repeat("`", 3000), "x" + strings.Repeat("`", 3000) + "y",
		"```go\n" + strings.Repeat("`", 5000) + "\n```"} {
		parts := Split(text, MaxMessageLen)
		if len(parts) > 4 {
			t.Errorf("%d backticks: %d parts", len(text), len(parts))
		}
		for i, p := range parts {
			if n := textLen(p); n > MaxMessageLen || n == 0 {
				t.Errorf("part %d is %d long", i, n)
			}
		}
	}
}

func TestCapParts(t *testing.T) {
	parts := Split(strings.Repeat(strings.Repeat("y", 1500)+"\n", 12), MaxMessageLen)
	got := capParts(parts, 3)
	if len(got) != 3 || got[0] != parts[0] || got[1] != parts[1] {
		t.Fatalf("capParts kept %d parts", len(got))
	}
	if !strings.HasSuffix(got[2], "(The reply was 12 messages long; the rest is cut. The whole reply is in the conversation in Airlock's web UI.)") ||
		textLen(got[2]) > MaxMessageLen {
		t.Errorf("last part %d long, ends %q", textLen(got[2]), got[2][max(0, len(got[2])-60):])
	}
	if n := len(capParts(parts[:2], 3)); n != 2 {
		t.Errorf("short reply capped to %d parts", n)
	}
}
