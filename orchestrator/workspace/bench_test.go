package workspace

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkWrite measures one workspace_write (an overwrite of a small
// file) with 10 and with 10,000 files present (issue 11 item 11): the
// usage is a running total, so the two should cost about the same; before,
// every write walked the whole tree. Run with
//
//	go test -run '^$' -bench BenchmarkWrite -benchtime 2000x ./orchestrator/workspace/
func BenchmarkWrite(b *testing.B) {
	for _, n := range []int{10, 10_000} {
		b.Run(fmt.Sprintf("files=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			for i := range n {
				sub := filepath.Join(dir, fmt.Sprintf("d%02d", i%100))
				if err := os.MkdirAll(sub, 0o700); err != nil {
					b.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%05d.txt", i)), nil, 0o600); err != nil {
					b.Fatal(err)
				}
			}
			ws, err := Open(dir, Limits{MaxFiles: 2*n + 200})
			if err != nil {
				b.Fatal(err)
			}
			defer ws.Close()
			ctx := context.Background()
			for b.Loop() {
				if err := ws.Write(ctx, "notes/today.md", "one line of notes\n"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
