package backup

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// helperEnv makes the test binary, re-executed, write one backup instead of
// running tests: AIRLOCK_BACKUP_HELPER=<data dir>|<config file>|<out>.
const helperEnv = "AIRLOCK_BACKUP_HELPER"

func TestMain(m *testing.M) {
	if spec := os.Getenv(helperEnv); spec != "" {
		parts := strings.Split(spec, "|")
		enc, err := Passphrase(testPass, testLogN)
		if err == nil {
			src := Source{DataDir: parts[0], KeyPath: filepath.Join(parts[0], "secure", "master.key"), ConfigFile: parts[1]}
			_, err = Create(context.Background(), src, parts[2], enc, time.Now())
		}
		if err != nil {
			os.Exit(3)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// kill -9 in the middle of a backup leaves no file that Verify accepts:
// the backup's name never appears, and the temporary file is refused.
func TestKillDuringBackupLeavesNothingValid(t *testing.T) {
	l := seed(t)
	// Opening a FIFO blocks until a writer comes: the helper stops there,
	// after the database and key are written to its temporary file.
	fifo := filepath.Join(t.TempDir(), "config.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	outDir := t.TempDir()
	out := filepath.Join(outDir, "b.age")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+l.dir+"|"+fifo+"|"+out)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var tmp string
	deadline := time.Now().Add(30 * time.Second)
	for tmp == "" && time.Now().Before(deadline) {
		m, _ := filepath.Glob(filepath.Join(outDir, ".b.age.*.tmp"))
		if len(m) == 1 {
			if fi, err := os.Stat(m[0]); err == nil && fi.Size() > 0 {
				tmp = m[0]
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if tmp == "" {
		t.Fatal("the helper never started writing its temporary file")
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatal("the backup's final name exists after kill -9")
	}
	if _, err := Verify(context.Background(), tmp, t.TempDir(), passDec(t, testPass), CheckOptions{}); err == nil {
		t.Fatal("Verify accepted the file a killed backup left")
	}
	ents, _ := os.ReadDir(outDir)
	for _, e := range ents {
		if _, err := Verify(context.Background(), filepath.Join(outDir, e.Name()), t.TempDir(), passDec(t, testPass), CheckOptions{}); err == nil {
			t.Errorf("Verify accepted %s", e.Name())
		}
	}
}
