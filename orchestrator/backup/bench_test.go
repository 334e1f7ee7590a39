package backup

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fillMessages adds n messages of about 400 bytes (half user, half
// assistant) to the live data's conversation, in one transaction.
func fillMessages(b *testing.B, l live, n int) {
	b.Helper()
	ctx := context.Background()
	err := l.st.WriteTx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `INSERT INTO messages (id, conversation_id, task_id, role, content, tool_calls,
			tool_call_id, tool_name, is_error, created_at) VALUES (?, ?, '', ?, ?, NULL, '', '', 0, ?)`)
		if err != nil {
			return err
		}
		defer st.Close()
		base := time.Now().UnixNano()
		for i := range n {
			role := "user"
			if i%2 == 1 {
				role = "assistant"
			}
			h := fmt.Sprintf("message %d ", i)
			if _, err := st.ExecContext(ctx, fmt.Sprintf("m_bench%09d", i), l.conv, role,
				h+strings.Repeat("lorem ipsum ", (400-len(h))/12), base+int64(i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkBackup makes (and separately verifies) a passphrase backup of a
// data directory holding 100,000 messages, with age's default scrypt work
// factor (18), as `orchestrator backup --out` does. It reports the backup's
// size and the database's.
func BenchmarkBackup(b *testing.B) {
	for _, n := range []int{100_000} {
		b.Run(fmt.Sprintf("messages=%d", n), func(b *testing.B) {
			ctx := context.Background()
			l := seed(b)
			fillMessages(b, l, n)
			enc, err := Passphrase(testPass, 0)
			if err != nil {
				b.Fatal(err)
			}
			dir := b.TempDir()
			var size int64
			i := 0
			b.ResetTimer()
			for b.Loop() {
				out := filepath.Join(dir, fmt.Sprintf("b%d.age", i))
				i++
				if _, err := Create(ctx, l.src(), out, enc, time.Now()); err != nil {
					b.Fatal(err)
				}
				fi, _ := os.Stat(out)
				size = fi.Size()
			}
			b.StopTimer()
			db, _ := os.Stat(filepath.Join(l.dir, "secure", "airlock.db"))
			b.ReportMetric(float64(size)/(1<<20), "backup-MiB")
			b.ReportMetric(float64(db.Size())/(1<<20), "db-MiB")
			start := time.Now()
			rep, err := Verify(ctx, filepath.Join(dir, "b0.age"), b.TempDir(), passDec(b, testPass), CheckOptions{})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(time.Since(start).Seconds(), "verify-s")
			_ = rep
		})
	}
}
