package settings

import (
	"fmt"
	"strconv"
	"strings"
)

// The price table as text, for the settings form: one model per line,
//
//	MODEL INPUT OUTPUT [CACHE_READ [CACHE_WRITE]]
//
// prices per million tokens separated by spaces (or commas), "-" (or a
// missing trailing column) for an unknown price. Blank lines and lines
// starting with # are skipped.

// ParsePrices reads a price table written as FormatPrices writes it. Its
// error names the line and the column.
func ParsePrices(text string) ([]ModelPrice, error) {
	out := []ModelPrice{}
	cols := []string{"input", "output", "cache_read", "cache_write"}
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.FieldsFunc(line, func(c rune) bool { return c == ' ' || c == '\t' || c == ',' })
		if len(f) < 3 || len(f) > 5 {
			return nil, fmt.Errorf("line %d: want a model name then 2 to 4 prices (input output [cache_read [cache_write]]), got %d fields", n+1, len(f))
		}
		p := ModelPrice{Model: f[0]}
		dst := []**float64{&p.Input, &p.Output, &p.CacheRead, &p.CacheWrite}
		for i, v := range f[1:] {
			if v == "-" {
				continue
			}
			x, err := strconv.ParseFloat(strings.TrimPrefix(v, "$"), 64)
			if err != nil {
				return nil, fmt.Errorf("line %d (model %q): %s: %q is not a number; use - for unknown", n+1, truncate(f[0]), cols[i], truncate(v))
			}
			*dst[i] = &x
		}
		out = append(out, p)
	}
	return out, nil
}

// FormatPrices writes a price table as ParsePrices reads it.
func FormatPrices(ps []ModelPrice) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.Model)
		for _, v := range []*float64{p.Input, p.Output, p.CacheRead, p.CacheWrite} {
			b.WriteByte(' ')
			if v == nil {
				b.WriteByte('-')
			} else {
				b.WriteString(strconv.FormatFloat(*v, 'f', -1, 64))
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}
