package doctor

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/config"
	"github.com/airlockhq/airlock/orchestrator/secrets"
	"github.com/airlockhq/airlock/orchestrator/settings"
	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/orchestrator/worker"
	"github.com/airlockhq/airlock/secure/egress"
)

// Fake PIDs of the fake /proc.
const (
	orchPID   = 100
	workerPID = 200
)

// procFile is one process's /proc status in the fake tree.
type procFile struct {
	uid, gid, groups   string
	capEff, capPrm     string
	capBnd             string
	noNewPrivs         int
	seccomp, filters   int
	mountOpts, cgroups string
}

func goodOrch() procFile {
	return procFile{uid: "10001\t10001\t10001\t10001", gid: "10001\t10001\t10001\t10001", groups: "",
		capEff: "0000000000000000", capPrm: "0000000000000000", capBnd: "0000000000000000", noNewPrivs: 1, seccomp: 2, filters: 1,
		mountOpts: "ro,relatime", cgroups: "0::/\n"}
}

func goodWorker(sockGID int) procFile {
	p := goodOrch()
	p.uid, p.gid = "10002\t10002\t10002\t10002", "10002\t10002\t10002\t10002"
	p.groups = fmt.Sprint(sockGID)
	p.filters = 2
	return p
}

func writeProc(t testing.TB, root string, pid int, p procFile) {
	t.Helper()
	dir := filepath.Join(root, fmt.Sprint(pid))
	must(t, os.MkdirAll(dir, 0o755))
	status := fmt.Sprintf("Name:\tx\nUid:\t%s\nGid:\t%s\nGroups:\t%s\nCapBnd:\t%s\nCapPrm:\t%s\nCapEff:\t%s\nNoNewPrivs:\t%d\nSeccomp:\t%d\nSeccomp_filters:\t%d\n",
		p.uid, p.gid, p.groups, p.capBnd, p.capPrm, p.capEff, p.noNewPrivs, p.seccomp, p.filters)
	must(t, os.WriteFile(filepath.Join(dir, "status"), []byte(status), 0o644))
	mounts := "20 1 0:5 / /proc rw,nosuid - proc proc rw\n" +
		"17 1 8:1 / / " + p.mountOpts + " - overlay overlay rw\n"
	must(t, os.WriteFile(filepath.Join(dir, "mountinfo"), []byte(mounts), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "cgroup"), []byte(p.cgroups), 0o644))
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// fixture is a correct container deployment, laid out in t.TempDir():
// fake /proc and cgroup trees, a data directory with its keys and a
// database with an admin who signed in, a socket.
type fixture struct {
	env  Env
	root string
	st   *store.Store
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	root := t.TempDir()
	f := &fixture{root: root}
	cfg := config.Defaults(false)
	cfg.DataDir = filepath.Join(root, "data")
	cfg.Socket = filepath.Join(root, "run", "mcp.sock")
	for _, d := range []string{cfg.DataDir, cfg.SecureDir(), cfg.WorkspaceDir()} {
		must(t, os.MkdirAll(d, 0o700))
		must(t, os.Chmod(d, 0o700))
	}
	must(t, os.MkdirAll(filepath.Dir(cfg.Socket), 0o750))
	must(t, os.Chmod(filepath.Dir(cfg.Socket), 0o750))
	ln, err := net.Listen("unix", cfg.Socket)
	must(t, err)
	t.Cleanup(func() { ln.Close() })
	must(t, os.Chmod(cfg.Socket, 0o660))

	cfg.MasterKeyFile = filepath.Join(root, "keys", "master.key")
	must(t, os.MkdirAll(filepath.Dir(cfg.MasterKeyFile), 0o700))
	st, err := store.Open(ctx, cfg.DBPath(), slog.New(slog.DiscardHandler))
	must(t, err)
	t.Cleanup(func() { st.Close() })
	f.st = st
	sealer, err := secrets.OpenKey(ctx, st, cfg.MasterKeyPath(), true)
	must(t, err)
	_, err = secrets.Open(ctx, st, sealer)
	must(t, err)
	jwt := make([]byte, 32)
	_, _ = rand.Read(jwt)
	must(t, os.WriteFile(filepath.Join(cfg.SecureDir(), "jwt.key"), jwt, 0o600))
	now := time.Now()
	code := sha256.Sum256([]byte("code"))
	must(t, st.PutSetupCode(ctx, code[:], now, now.Add(30*time.Minute)))
	adm, err := st.CreateSetupAdmin(ctx, code[:], store.Admin{Username: "admin", PasswordHash: "$argon2id$v=19$m=65536,t=2,p=2$c2FsdA$aGFzaA", TokenKey: make([]byte, 32), CreatedAt: now})
	must(t, err)
	_, err = st.CreateAdminSession(ctx, store.NewAdminSession{AdminID: adm.ID, Type: "session", At: now, ExpiresAt: now.Add(time.Hour)})
	must(t, err)
	_, err = audit.New(st, nil, nil).Append(ctx, audit.Event{Actor: "system", Action: "test", Outcome: "ok"})
	must(t, err)

	proc, cg := filepath.Join(root, "proc"), filepath.Join(root, "cgroup")
	sockGID := statGID(t, filepath.Dir(cfg.Socket))
	writeProc(t, proc, orchPID, goodOrch())
	init := goodOrch()
	init.uid, init.capBnd = "0\t0\t0\t0", "00000000000001e1"
	writeProc(t, proc, 1, init)
	writeProc(t, proc, workerPID, goodWorker(sockGID))
	must(t, os.MkdirAll(cg, 0o755))
	must(t, os.WriteFile(filepath.Join(cg, "memory.max"), []byte("536870912\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(cg, "pids.max"), []byte("256\n"), 0o644))

	s := settings.FromConfig(cfg)
	s.Discord.AllowedUsers = []string{"1234"}
	s.Discord.Admins = []string{"1234"}
	s.Discord.ReviewBaseURL = "https://airlock.example.org"
	s.LLM.Model = "m"
	f.env = Env{Config: cfg, Settings: s, ProcRoot: proc, CgroupRoot: cg, Store: st, DiscordToken: true, LLMKey: true,
		Live: Live{Running: true, OrchestratorPID: orchPID, WorkerPID: workerPID, LandlockFiles: true, LandlockABI: 4,
			WorkerConfinement: worker.Confinement{KernelSeccomp: true, KernelNoNewPrivs: true,
				Reported: &tools.Confinement{Seccomp: true, LandlockABI: 4, LandlockFiles: true, NetworkRefused: true}}},
		DiskFree: func(string) (uint64, uint64, error) { return 50 << 30, 100 << 30, nil },
		Now:      time.Now, Deep: true,
		Probes: Probes{
			Egress:  func(context.Context, string) error { return egress.ErrRefused },
			Model:   func(context.Context) (ModelProbe, error) { return ModelProbe{Counted: true}, nil },
			Discord: func(context.Context) error { return nil },
		}}
	return f
}

func statGID(t testing.TB, path string) int {
	fi, err := os.Stat(path)
	must(t, err)
	return int(fi.Sys().(*syscall.Stat_t).Gid)
}

func (f *fixture) proc(t *testing.T, pid int, change func(*procFile)) {
	p := goodOrch()
	if pid == workerPID {
		p = goodWorker(statGID(t, filepath.Dir(f.env.Config.Socket)))
	}
	change(&p)
	writeProc(t, f.env.ProcRoot, pid, p)
}

func (f *fixture) run(t *testing.T) Report {
	t.Helper()
	return Run(context.Background(), f.env)
}

func (f *fixture) result(t *testing.T, id string) Result {
	t.Helper()
	r, ok := f.run(t).Find(id)
	if !ok {
		t.Fatalf("no check %s", id)
	}
	return r
}
