package deploy_test

import (
	"context"
	"strings"
	"testing"
	"time"
)

// checkBackup runs the documented backup commands in the serving container
// (docker exec as airlock-system): a passphrase backup and its check, a
// refused restore while the orchestrator serves, and a backup the confined
// orchestrator makes (POST /api/v1/backups) into /data/backups, verified.
func checkBackup(ctx context.Context, t *testing.T, s *stack, a api) {
	if _, err := s.exec(ctx, "10001", "sh", "-c", "echo 'a container backup passphrase' > /data/secure/test.pass && chmod 600 /data/secure/test.pass"); err != nil {
		t.Fatalf("write the passphrase file: %v", err)
	}
	start := time.Now()
	out, err := s.exec(ctx, "10001", "orchestrator", "backup", "--out", "/data/backups/cli.age", "--passphrase-file", "/data/secure/test.pass")
	if err != nil || !strings.Contains(out, "backup written") || !strings.Contains(out, "master key: INCLUDED") {
		t.Fatalf("backup in the serving container: %v\n%s", err, out)
	}
	t.Logf("PERF container_backup_ms=%d", time.Since(start).Milliseconds())
	out, err = s.exec(ctx, "10001", "orchestrator", "backup", "--verify", "/data/backups/cli.age", "--passphrase-file", "/data/secure/test.pass")
	if err != nil || !strings.Contains(out, "backup OK") {
		t.Fatalf("verify in the container: %v\n%s", err, out)
	}
	// run's error carries the command's stderr.
	if _, err = s.exec(ctx, "10001", "orchestrator", "restore", "/data/backups/cli.age", "--force", "--passphrase-file", "/data/secure/test.pass"); err == nil || !strings.Contains(err.Error(), "stop it first") {
		t.Errorf("restore while serving: %v", err)
	}
	if code, err := a.do(ctx, "POST", "/api/v1/backups", map[string]any{}, nil); err != nil || code != 202 {
		t.Fatalf("POST /api/v1/backups: %d %v", code, err)
	}
	var list struct {
		Backups []struct {
			Name     string `json:"name"`
			Verified *struct {
				OK      bool   `json:"ok"`
				Problem string `json:"problem"`
			} `json:"verified"`
		} `json:"backups"`
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if _, err := a.do(ctx, "GET", "/api/v1/backups", nil, &list); err != nil {
			t.Fatalf("GET /api/v1/backups: %v", err)
		}
		if len(list.Backups) > 0 && list.Backups[0].Verified != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no backup verified after 2 minutes: %+v\n%s", list, tail(s.logs(ctx, time.Time{}), 40))
		}
		time.Sleep(time.Second)
	}
	if v := list.Backups[0].Verified; !v.OK {
		t.Errorf("the backup %s is not verified: %s", list.Backups[0].Name, v.Problem)
	}
}
