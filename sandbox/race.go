//go:build race

package sandbox

// The race detector maps large shadow regions that count as data and
// address space, so under -race (tests only) the data limit is the data
// size at start plus four times the budget, and there is no
// address-space limit.

func dataLimit(budget int64, base memBase) uint64 { return base.data + 4*uint64(budget) }

func asLimit(int64, memBase) uint64 { return rlimInfinity }
