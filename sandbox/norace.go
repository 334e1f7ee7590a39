//go:build !race

package sandbox

// dataLimit is the RLIMIT_DATA for a memory budget.
func dataLimit(budget int64, _ memBase) uint64 { return uint64(budget) }

// asLimit is the RLIMIT_AS for a memory budget. Linux does not charge
// RLIMIT_DATA when a mapping replaces a PROT_NONE reservation, which is
// how the Go heap grows, so one huge allocation could pass RLIMIT_DATA;
// the address-space limit (which charges the reservation) stops it.
func asLimit(budget int64, base memBase) uint64 {
	if base.size == 0 {
		return rlimInfinity
	}
	return base.size + uint64(budget) + asSlack
}
