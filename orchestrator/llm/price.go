package llm

import "math"

// NanosPerUnit is the number of nano-units (of the price table's currency,
// US dollars by convention) in one unit: costs are kept as whole
// nano-units so that sums are exact.
const NanosPerUnit = 1_000_000_000

// Price is what one million tokens of a model cost, in the price table's
// currency (US dollars by convention, as providers publish them). A nil
// field is unknown. A local model has every price 0.
type Price struct {
	Input      *float64 // uncached input tokens
	Output     *float64
	CacheRead  *float64 // input tokens read from the prompt cache
	CacheWrite *float64 // input tokens written to the prompt cache
}

// Prices maps a model name to its price.
type Prices map[string]Price

// Cost returns what u cost at p, in nano-units, and whether it is known:
// it is unknown when a kind of token u used (uncached input, output, cache
// read or cache write) has no price. Uncached input is InputTokens less
// the cache reads and writes. The result is rounded to the nearest
// nano-unit.
func (p Price) Cost(u Usage) (nanos int64, known bool) {
	uncached := max(u.InputTokens-u.CacheReadTokens-u.CacheWriteTokens, 0)
	parts := []struct {
		tokens int
		price  *float64
	}{{uncached, p.Input}, {u.OutputTokens, p.Output}, {u.CacheReadTokens, p.CacheRead}, {u.CacheWriteTokens, p.CacheWrite}}
	var sum float64
	for _, part := range parts {
		if part.tokens <= 0 {
			continue
		}
		if part.price == nil {
			return 0, false
		}
		// price per million tokens × tokens ÷ 10⁶ × 10⁹ nano-units
		sum += *part.price * float64(part.tokens) * (NanosPerUnit / 1e6)
	}
	// A cost that does not fit (absurd counts) is capped, not wrapped.
	return int64(math.Min(math.Round(sum), math.MaxInt64/2)), true
}

// Cost returns what u cost with model, as Price.Cost; a model without an
// entry is unknown.
func (ps Prices) Cost(model string, u Usage) (nanos int64, known bool) {
	p, ok := ps[model]
	if !ok {
		return 0, false
	}
	return p.Cost(u)
}
