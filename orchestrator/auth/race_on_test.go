//go:build race

package auth

// raceEnabled reports whether the race detector is on: its shadow memory
// for the hash blocks is not returned to the OS, so RSS bounds do not hold.
const raceEnabled = true
