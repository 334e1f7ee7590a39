package confine

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The confinement cannot be undone, so each test runs it in a fresh copy
// of the test binary (probeEnv names what to do) and reads back what the
// copy saw as JSON.
const probeEnv = "AIRLOCK_CONFINE_PROBE"

func TestMain(m *testing.M) {
	if mode := os.Getenv(probeEnv); mode != "" {
		os.Exit(probeMain(mode))
	}
	os.Exit(m.Run())
}

// probeArgs is what the parent test hands the probe.
type probeArgs struct {
	Exe, TempDir, Socket string // the worker's allowances
	TCPAddr              string // a loopback listener
	Outside              string // a file outside every allowance
}

// probeResult is what the probe saw; each field is an error text, "" for
// success.
type probeResult struct {
	Report                    Report
	ChildReport               *Report
	DialTCP, DialUDP          string
	DialUnix, UnixEcho        string
	ReadOutside, WriteTemp    string
	ExecShell, ExecSelf       string
	UnixSocket, SocketPair    string
	ReadProcStatus, IOURing   string
	SeccompFilters            string
	ReadTempAfterChildConfine string
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func probeMain(mode string) int {
	var a probeArgs
	if err := json.Unmarshal([]byte(os.Getenv(probeEnv+"_ARGS")), &a); err != nil && mode != "hello" {
		fmt.Fprintln(os.Stderr, "probe:", err)
		return 2
	}
	var res probeResult
	// Opened before any confinement: a file already open stays readable.
	statusFile, err := os.Open("/proc/self/status")
	if err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		return 2
	}
	switch mode {
	case "hello":
		fmt.Print("hello")
		return 0
	case "worker":
		res.Report = Worker(WorkerPaths{Executable: a.Exe, TempDir: a.TempDir, Socket: a.Socket})
	case "child":
		res.Report = Worker(WorkerPaths{Executable: a.Exe, TempDir: a.TempDir, Socket: a.Socket})
		c := Child()
		res.ChildReport = &c
	default:
		return 2
	}
	c, err := net.DialTimeout("tcp", a.TCPAddr, 2*time.Second)
	if err == nil {
		c.Close()
	}
	res.DialTCP = errText(err)
	c, err = net.Dial("udp", a.TCPAddr)
	if err == nil {
		c.Close()
	}
	res.DialUDP = errText(err)
	c, err = net.Dial("unix", a.Socket)
	res.DialUnix = errText(err)
	if err == nil {
		buf := make([]byte, 4)
		_, err = c.Write([]byte("ping"))
		if err == nil {
			_, err = c.Read(buf)
		}
		if err == nil && string(buf) != "ping" {
			err = fmt.Errorf("echo said %q", buf)
		}
		res.UnixEcho = errText(err)
		c.Close()
	}
	_, err = os.ReadFile(a.Outside)
	res.ReadOutside = errText(err)
	err = os.WriteFile(filepath.Join(a.TempDir, "w"), []byte("x"), 0o600)
	res.WriteTemp = errText(err)
	// Files given, so that os/exec does not open /dev/null first.
	shell := exec.Command("/bin/sh", "-c", "true")
	shell.Stdin, shell.Stdout, shell.Stderr = strings.NewReader(""), os.Stderr, os.Stderr
	res.ExecShell = errText(shell.Run())
	self := exec.Command(a.Exe)
	self.Stdin = strings.NewReader("")
	self.Env = []string{probeEnv + "=hello"}
	out, err := self.Output()
	if err == nil && string(out) != "hello" {
		err = fmt.Errorf("self said %q", out)
	}
	res.ExecSelf = errText(err)
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err == nil {
		syscall.Close(fd)
	}
	res.UnixSocket = errText(err)
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err == nil {
		syscall.Close(fds[0])
		syscall.Close(fds[1])
	}
	res.SocketPair = errText(err)
	const sysIOURingSetup = 425
	var params [120]byte
	_, _, errno := syscall.Syscall(sysIOURingSetup, 1, uintptrOf(&params), 0)
	if errno != 0 {
		res.IOURing = errno.Error()
	}
	_, err = os.ReadFile("/proc/self/status")
	res.ReadProcStatus = errText(err)
	status := make([]byte, 16<<10)
	n, _ := statusFile.ReadAt(status, 0)
	for line := range strings.Lines(string(status[:n])) {
		if strings.HasPrefix(line, "Seccomp_filters:") {
			res.SeccompFilters = strings.TrimSpace(strings.TrimPrefix(line, "Seccomp_filters:"))
		}
	}
	_, err = os.ReadFile(filepath.Join(a.TempDir, "w"))
	res.ReadTempAfterChildConfine = errText(err)
	_ = json.NewEncoder(os.Stdout).Encode(res)
	return 0
}

// runProbe starts the probe in mode with a loopback TCP listener, an echo
// Unix socket, a temporary directory and a file outside the allowances.
func runProbe(t *testing.T, mode string) probeResult {
	t.Helper()
	dir := t.TempDir()
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	go func() {
		for {
			c, err := tcp.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	sock := filepath.Join(dir, "mcp.sock")
	ux, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ux.Close()
	go func() {
		for {
			c, err := ux.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 4)
			if _, err := c.Read(buf); err == nil {
				_, _ = c.Write(buf)
			}
			c.Close()
		}
	}()
	outside := filepath.Join(dir, "outside.txt")
	if err := os.WriteFile(outside, []byte("not yours"), 0o600); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	args, _ := json.Marshal(probeArgs{Exe: exe, TempDir: tmp, Socket: sock, TCPAddr: tcp.Addr().String(), Outside: outside})
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), probeEnv+"="+mode, probeEnv+"_ARGS="+string(args))
	cmd.Stderr = testWriter{t}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("probe %s: %v; stdout %q", mode, err, out)
	}
	var res probeResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("probe %s said %q: %v", mode, out, err)
	}
	t.Logf("probe %s: %+v", mode, res)
	return res
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func wantErrno(t *testing.T, what, got string, want syscall.Errno) {
	t.Helper()
	if !strings.Contains(got, want.Error()) {
		t.Errorf("%s: error %q; want %q", what, got, want.Error())
	}
}

func wantOK(t *testing.T, what, got string) {
	t.Helper()
	if got != "" {
		t.Errorf("%s failed: %s", what, got)
	}
}

func TestWorkerRefusesNetworkButNotItsSocket(t *testing.T) {
	res := runProbe(t, "worker")
	r := res.Report
	if !r.Seccomp || !r.NetworkRefused {
		t.Fatalf("report %+v; want the seccomp filter on and the network refused", r)
	}
	wantErrno(t, "TCP dial to a loopback listener", res.DialTCP, syscall.EPERM)
	wantErrno(t, "UDP socket", res.DialUDP, syscall.EPERM)
	wantErrno(t, "io_uring_setup", res.IOURing, syscall.EPERM)
	wantOK(t, "dial the Unix socket", res.DialUnix)
	wantOK(t, "echo over the Unix socket", res.UnixEcho)
	wantOK(t, "socketpair", res.SocketPair)
	wantOK(t, "AF_UNIX socket", res.UnixSocket)
	wantOK(t, "write in its own temporary directory", res.WriteTemp)
	wantOK(t, "exec its own executable", res.ExecSelf)
	wantOK(t, "read /proc/self/status", res.ReadProcStatus)
	if res.SeccompFilters == "" || res.SeccompFilters == "0" {
		t.Errorf("Seccomp_filters = %q; want at least 1", res.SeccompFilters)
	}
	if r.LandlockABI == 0 {
		// The kernel has no Landlock: the fallback must say so.
		if r.LandlockFiles || len(r.Problems) == 0 || !strings.Contains(strings.Join(r.Problems, ";"), "landlock") {
			t.Fatalf("no Landlock, yet report %+v does not say so", r)
		}
		return
	}
	if !r.LandlockFiles {
		t.Fatalf("Landlock ABI %d but files not confined: %v", r.LandlockABI, r.Problems)
	}
	if r.LandlockABI >= 4 && !r.LandlockNet {
		t.Errorf("Landlock ABI %d but no network rules", r.LandlockABI)
	}
	wantErrno(t, "read a file outside the allowance", res.ReadOutside, syscall.EACCES)
	wantErrno(t, "exec /bin/sh", res.ExecShell, syscall.EACCES)
}

func TestChildHasNoSocketNoFileNoProgram(t *testing.T) {
	res := runProbe(t, "child")
	c := res.ChildReport
	if c == nil || !c.Seccomp || !c.NetworkRefused {
		t.Fatalf("child report %+v; want its filter on and the network refused", c)
	}
	wantErrno(t, "TCP dial", res.DialTCP, syscall.EPERM)
	wantErrno(t, "dial the Unix socket", res.DialUnix, syscall.EPERM)
	wantErrno(t, "AF_UNIX socket", res.UnixSocket, syscall.EPERM)
	wantErrno(t, "socketpair", res.SocketPair, syscall.EPERM)
	wantErrno(t, "exec /bin/sh", res.ExecShell, syscall.EPERM)
	wantErrno(t, "exec its own executable", res.ExecSelf, syscall.EPERM)
	if res.SeccompFilters != "2" {
		t.Errorf("Seccomp_filters = %q; want 2 (the worker's and the child's)", res.SeccompFilters)
	}
	if c.LandlockABI == 0 {
		if c.LandlockFiles {
			t.Fatalf("no Landlock, yet report %+v claims files", c)
		}
		return
	}
	if !c.LandlockFiles {
		t.Fatalf("Landlock ABI %d but the child's files are not confined: %v", c.LandlockABI, c.Problems)
	}
	wantErrno(t, "read a file outside the allowance", res.ReadOutside, syscall.EACCES)
	wantErrno(t, "write in the worker's temporary directory", res.WriteTemp, syscall.EACCES)
	wantErrno(t, "read /proc/self/status", res.ReadProcStatus, syscall.EACCES)
}

func TestReportString(t *testing.T) {
	r := Report{Seccomp: true, LandlockABI: 7, LandlockFiles: true, LandlockNet: true, NetworkRefused: true}
	if got, want := r.String(), "seccomp on, landlock ABI 7 (files, TCP), network refused"; got != want || !r.Confined() {
		t.Errorf("String() = %q, Confined() = %v; want %q, true", got, r.Confined(), want)
	}
	r = Report{}
	if got, want := r.String(), "seccomp off, landlock absent, network NOT refused"; got != want || r.Confined() {
		t.Errorf("String() = %q, Confined() = %v; want %q, false", got, r.Confined(), want)
	}
}

func TestHasInterpreter(t *testing.T) {
	dir := t.TempDir()
	static, dynamic := filepath.Join(dir, "static"), filepath.Join(dir, "dynamic")
	for _, b := range []struct{ out, cgo string }{{static, "0"}, {dynamic, "1"}} {
		cmd := exec.Command("go", "build", "-o", b.out, "./testdata/hello")
		cmd.Env = append(os.Environ(), "CGO_ENABLED="+b.cgo)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build with CGO_ENABLED=%s: %v\n%s", b.cgo, err, out)
		}
	}
	if hasInterpreter(static) {
		t.Error("a static binary is taken for a dynamic one")
	}
	if !hasInterpreter(dynamic) {
		t.Error("a dynamic binary (cgo, os/user) is taken for a static one")
	}
	if hasInterpreter("/nonexistent") || hasInterpreter("/etc/hostname") {
		t.Error("a missing or non-ELF file is taken for a dynamic binary")
	}
}
