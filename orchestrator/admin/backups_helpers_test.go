package admin

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/backup"
)

// backupTestPass is the passphrase of the test env's backups.
const backupTestPass = "admin test backup passphrase"

// newTestBackups is the test env's backup scheduler over newEnv's files
// (database dir/db, key dir/master.key, workspace dir/ws).
func newTestBackups(t testing.TB, dir string, al *audit.Log) *backup.Scheduler {
	t.Helper()
	enc, err := backup.Passphrase(backupTestPass, 10)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := backup.PassphraseDecryption(backupTestPass)
	if err != nil {
		t.Fatal(err)
	}
	s, err := backup.NewScheduler(backup.SchedulerConfig{Dir: filepath.Join(dir, "backups"),
		Source:     backup.Source{DataDir: dir, DB: filepath.Join(dir, "db"), KeyPath: filepath.Join(dir, "master.key"), Scratch: dir},
		Encryption: enc, Decryption: &dec,
		Audit: func(ctx context.Context, e audit.Event) { al.Append(ctx, e) }})
	if err != nil {
		t.Fatal(err)
	}
	s.SetPolicy(0, 3)
	return s
}
