package admin

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/backup"
)

type backupsList struct {
	Backups []backup.Info `json:"backups"`
	Running bool          `json:"running"`
	Warning string        `json:"warning"`
}

// waitBackup creates a backup through the API and waits until it is listed.
func waitBackup(t *testing.T, e *env, tok string) backup.Info {
	t.Helper()
	if code := e.api(tok, "POST", "/api/v1/backups", map[string]any{}, nil); code != http.StatusAccepted {
		t.Fatalf("POST /api/v1/backups: %d", code)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var l backupsList
		e.api(tok, "GET", "/api/v1/backups", nil, &l)
		if len(l.Backups) > 0 && !l.Running {
			return l.Backups[0]
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no backup after 30s")
	return backup.Info{}
}

// The Backups page and API: create now, list with size and verify result,
// download only with the admin's password (audited), and the dashboard
// warns while there is no recent verified backup.
func TestBackupsPageAndAPI(t *testing.T) {
	e := newEnv(t)
	e.setup()
	tok := e.apiToken()
	b := e.login()
	if _, body := b.get("/"); !strings.Contains(body, `id="backup-warning"`) || !strings.Contains(body, "no verified backup") {
		t.Error("the dashboard does not warn without a backup")
	}
	info := waitBackup(t, e, tok)
	if !info.Good() || info.Bytes == 0 {
		t.Fatalf("backup = %+v, want verified good", info)
	}
	if _, body := b.get("/"); strings.Contains(body, `id="backup-warning"`) {
		t.Error("the dashboard warns right after a good backup")
	}
	code, body := b.get("/backups")
	if code != http.StatusOK || !strings.Contains(body, info.Name) || !strings.Contains(body, "verified") {
		t.Fatalf("backups page: %d\n%s", code, body)
	}

	// Download: the wrong password is refused and audited; the right one
	// gets the file, byte for byte.
	path := "/api/v1/backups/" + info.Name + "/download"
	if code := e.api(tok, "POST", path, map[string]string{"password": "wrong password"}, nil); code != http.StatusForbidden {
		t.Errorf("download with a wrong password: %d", code)
	}
	if code := e.api(tok, "POST", path, map[string]string{}, nil); code != http.StatusForbidden {
		t.Errorf("download without a password: %d", code)
	}
	if code, _, body := b.post("/backups/"+info.Name+"/download", url.Values{"password": {"nope"}}); code != http.StatusForbidden || strings.Contains(body, "age-encryption") {
		t.Errorf("page download with a wrong password: %d", code)
	}
	want, err := os.ReadFile(filepath.Join(e.server.Backups.Dir(), info.Name))
	if err != nil {
		t.Fatal(err)
	}
	code, _, got := b.post("/backups/"+info.Name+"/download", url.Values{"password": {adminPass}})
	if code != http.StatusOK || got != string(want) || !strings.HasPrefix(got, "age-encryption.org/v1") {
		t.Fatalf("download: %d, %d bytes, want %d", code, len(got), len(want))
	}
	if code := e.api(tok, "POST", "/api/v1/backups/airlock-20200101T000000Z.age/download", map[string]string{"password": adminPass}, nil); code != http.StatusNotFound {
		t.Errorf("download of an unknown backup: %d", code)
	}
	if code := e.api(tok, "POST", "/api/v1/backups/..%2Fmaster.key/download", map[string]string{"password": adminPass}, nil); code != http.StatusNotFound {
		t.Errorf("download of another file: %d", code)
	}
	entries, err := e.audit.List(context.Background(), audit.Filter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, en := range entries {
		seen[en.Action+"/"+en.Outcome]++
	}
	if seen["backup.created/ok"] != 1 || seen["backup.downloaded/ok"] != 1 || seen["auth.password_confirm/denied"] < 3 {
		t.Errorf("audit = %v", seen)
	}

	// An old good backup only: the dashboard warns again.
	dir := e.server.Backups.Dir()
	old := "airlock-20200101T000000Z.age"
	if err := os.Rename(filepath.Join(dir, info.Name), filepath.Join(dir, old)); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, info.Name+".verify.json"), filepath.Join(dir, old+".verify.json")); err != nil {
		t.Fatal(err)
	}
	if _, body := b.get("/"); !strings.Contains(body, `id="backup-warning"`) || !strings.Contains(body, "days") {
		t.Error("the dashboard does not warn about a backup older than two days")
	}
}

// The backup settings are validated naming the field, on the settings page
// and the API.
func TestBackupSettingsValidated(t *testing.T) {
	e := newEnv(t)
	e.setup()
	b := e.login()
	code, _, body := b.post("/settings", url.Values{"backup.interval": {"5m"}, "backup.keep": {"0"}})
	if code == http.StatusSeeOther || !strings.Contains(body, "must be 0 (off) or between") {
		t.Errorf("bad backup settings accepted: %d", code)
	}
	var bad struct {
		Problems []struct{ Field string } `json:"problems"`
	}
	if c := e.api(e.apiToken(), "PUT", "/api/v1/settings", map[string]any{"backup": map[string]any{"keep": 0}}, &bad); c != http.StatusBadRequest || len(bad.Problems) != 1 || bad.Problems[0].Field != "backup.keep" {
		t.Errorf("PUT backup.keep=0: %d %+v", c, bad)
	}
	if c := e.api(e.apiToken(), "PUT", "/api/v1/settings", map[string]any{"backup": map[string]any{"interval": "12h", "keep": 3}}, nil); c != http.StatusOK {
		t.Errorf("PUT good backup settings: %d", c)
	}
	if got := e.settings.Get().Backup; got.Interval != 12*time.Hour || got.Keep != 3 {
		t.Errorf("settings = %+v", got)
	}
}
