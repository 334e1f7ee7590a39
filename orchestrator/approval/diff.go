package approval

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// diffContext is the number of unchanged lines shown around a change.
const diffContext = 3

// maxDiffEdits bounds the work of the line diff (its memory grows with the
// square of the number of edits); beyond it, the diff replaces every
// changed line at once, which is still a correct diff.
const maxDiffEdits = 1000

// Diff returns a unified diff of the version name@sha256 against the
// currently approved version: empty when it is the approved version, the
// whole source as added lines when none is approved. Errors: ErrNotFound.
func (s *Service) Diff(ctx context.Context, name, sha256 string) (string, error) {
	v, err := s.Version(ctx, name, sha256)
	if err != nil {
		return "", err
	}
	a, err := s.Approved(ctx, name)
	switch {
	case errors.Is(err, ErrNotApproved):
		return Unified(name+" (no approved version)", name+"@"+short(v.SHA256), "", v.Source), nil
	case err != nil:
		return "", err
	case a.SHA256 == v.SHA256:
		return "", nil
	}
	return Unified(name+"@"+short(a.SHA256)+" (approved)", name+"@"+short(v.SHA256), a.Source, v.Source), nil
}

func short(sha string) string { return sha[:min(12, len(sha))] }

// edit is one line of a diff: ' ' kept, '-' removed, '+' added.
type edit struct {
	kind byte
	line string // with its "\n", if it had one
}

// Unified returns the unified diff (3 lines of context) turning text a,
// labelled from, into text b, labelled to; "" when they are equal.
func Unified(from, to, a, b string) string {
	edits := diffLines(splitLines(a), splitLines(b))
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", from, to)
	changed := false
	// ai and bi are the 0-based lines of a and b at the start of edits[i].
	ai, bi := make([]int, len(edits)+1), make([]int, len(edits)+1)
	for i, e := range edits {
		ai[i+1], bi[i+1] = ai[i], bi[i]
		if e.kind != '+' {
			ai[i+1]++
		}
		if e.kind != '-' {
			bi[i+1]++
		}
	}
	for i := 0; i < len(edits); {
		for i < len(edits) && edits[i].kind == ' ' {
			i++
		}
		if i == len(edits) {
			break
		}
		changed = true
		start, end := max(0, i-diffContext), hunkEnd(edits, i)
		stop := min(len(edits), end+diffContext)
		fmt.Fprintf(&out, "@@ -%s +%s @@\n", hunkRange(ai[start], ai[stop]-ai[start]), hunkRange(bi[start], bi[stop]-bi[start]))
		for _, e := range edits[start:stop] {
			out.WriteByte(e.kind)
			out.WriteString(e.line)
			if !strings.HasSuffix(e.line, "\n") {
				out.WriteString("\n\\ No newline at end of file\n")
			}
		}
		i = stop
	}
	if !changed {
		return ""
	}
	return out.String()
}

// hunkEnd returns the end of the hunk whose first change is edits[i]: the
// hunk goes on while at most 2*diffContext unchanged lines separate two
// changes.
func hunkEnd(edits []edit, i int) int {
	end := i
	for j := i; j < len(edits); {
		if edits[j].kind != ' ' {
			j++
			end = j
			continue
		}
		k := j
		for k < len(edits) && edits[k].kind == ' ' {
			k++
		}
		if k == len(edits) || k-j > 2*diffContext {
			break
		}
		j = k
	}
	return end
}

// hunkRange formats a hunk's line range: 1-based start and count, the
// count left out when it is 1, and the line before for an empty range.
func hunkRange(start, count int) string {
	switch count {
	case 0:
		return fmt.Sprintf("%d,0", start)
	case 1:
		return fmt.Sprint(start + 1)
	}
	return fmt.Sprintf("%d,%d", start+1, count)
}

// splitLines splits s after each newline.
func splitLines(s string) []string {
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// diffLines returns a shortest edit script from a to b, keeping their
// common prefix and suffix out of the search.
func diffLines(a, b []string) []edit {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	var out []edit
	for _, l := range a[:pre] {
		out = append(out, edit{' ', l})
	}
	out = append(out, myers(a[pre:len(a)-suf], b[pre:len(b)-suf])...)
	for _, l := range a[len(a)-suf:] {
		out = append(out, edit{' ', l})
	}
	return out
}
