package sandbox

import (
	"bytes"
	"os"
	"strconv"
)

// memBase is the child's address-space and data size when it starts,
// before any script runs.
type memBase struct {
	size, data uint64 // VmSize and VmData, bytes
}

// asSlack is address space the Go runtime may reserve beyond the budget
// (arena metadata, stacks).
const asSlack = 256 << 20

// readMemBase reads /proc/self/status; zero fields mean unknown.
func readMemBase() memBase {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return memBase{}
	}
	return memBase{size: statusKB(b, "VmSize:"), data: statusKB(b, "VmData:")}
}

func statusKB(status []byte, field string) uint64 {
	for line := range bytes.Lines(status) {
		if rest, ok := bytes.CutPrefix(line, []byte(field)); ok {
			if f := bytes.Fields(rest); len(f) > 0 {
				kb, _ := strconv.ParseUint(string(f[0]), 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

// dataSize is the process's current data size (what RLIMIT_DATA counts),
// from /proc/self/statm; 0 if unknown.
func dataSize() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := bytes.Fields(b)
	if len(f) < 6 {
		return 0
	}
	pages, _ := strconv.ParseUint(string(f[5]), 10, 64)
	return pages * uint64(os.Getpagesize())
}
