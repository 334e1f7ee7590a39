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

// openStatus opens /proc/self/status before the child confines itself;
// nil if it cannot.
func openStatus() *os.File {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return nil
	}
	return f
}

// readMemBase reads /proc/self/status from f and closes it; zero fields
// mean unknown.
func readMemBase(f *os.File) memBase {
	if f == nil {
		return memBase{}
	}
	defer f.Close()
	b := make([]byte, 16<<10)
	n, _ := f.ReadAt(b, 0) // io.EOF comes with the whole file
	return memBase{size: statusKB(b[:n], "VmSize:"), data: statusKB(b[:n], "VmData:")}
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

// statm is the child's /proc/self/statm, opened before the child confines
// itself: afterwards it may open no file at all. A nil file reads as
// unknown.
type statm struct{ f *os.File }

func openStatm() statm {
	f, err := os.Open("/proc/self/statm")
	if err != nil {
		return statm{}
	}
	return statm{f: f}
}

// dataSize is the process's current data size (what RLIMIT_DATA counts),
// from /proc/self/statm; 0 if unknown.
func (s statm) dataSize() uint64 {
	if s.f == nil {
		return 0
	}
	var buf [256]byte
	n, _ := s.f.ReadAt(buf[:], 0) // io.EOF comes with the whole file
	f := bytes.Fields(buf[:n])
	if len(f) < 6 {
		return 0
	}
	pages, _ := strconv.ParseUint(string(f[5]), 10, 64)
	return pages * uint64(os.Getpagesize())
}
