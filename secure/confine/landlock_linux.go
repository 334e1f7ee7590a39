package confine

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"

	"github.com/landlock-lsm/go-landlock/landlock"
	llsys "github.com/landlock-lsm/go-landlock/landlock/syscall"
)

// config is the newest Landlock ABI this package knows, downgraded to
// what the kernel offers.
var config = landlock.V11.BestEffort()

// landlockABI is the kernel's Landlock ABI; 0 when absent or refused.
func landlockABI() int {
	v, err := llsys.LandlockGetABIVersion()
	if err != nil || v < 0 {
		return 0
	}
	return v
}

// readOnly lets files be read, nothing else (not even listed).
func readOnly(paths ...string) landlock.Rule {
	return landlock.PathAccess(llsys.AccessFSReadFile, paths...).IgnoreIfMissing()
}

// readExec lets a file be read and executed, nothing else.
func readExec(paths ...string) landlock.Rule {
	return landlock.PathAccess(llsys.AccessFSExecute|llsys.AccessFSReadFile, paths...)
}

// loaderRules are what a dynamically linked executable needs to start:
// its interpreter and the library directories. A static binary needs
// none (the container's binaries are static).
func loaderRules(exes ...string) []landlock.Rule {
	if !slices.ContainsFunc(exes, hasInterpreter) {
		return nil
	}
	return []landlock.Rule{
		landlock.RODirs("/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/libexec").IgnoreIfMissing(),
		landlock.ROFiles("/etc/ld.so.cache", "/etc/ld.so.preload").IgnoreIfMissing(),
	}
}

// hasInterpreter reports whether the 64-bit little-endian ELF file at
// path names a program interpreter (PT_INTERP): it is dynamically linked.
// Read by hand: debug/elf would link DWARF and decompressors into the
// worker for one header.
func hasInterpreter(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var eh [64]byte
	if _, err := f.ReadAt(eh[:], 0); err != nil || string(eh[:4]) != "\x7fELF" || eh[4] != 2 || eh[5] != 1 {
		return false
	}
	phoff := int64(binary.LittleEndian.Uint64(eh[32:]))
	phentsize := int64(binary.LittleEndian.Uint16(eh[54:]))
	phnum := int64(binary.LittleEndian.Uint16(eh[56:]))
	if phentsize < 4 || phnum > 256 {
		return false
	}
	var typ [4]byte
	for i := range phnum {
		if _, err := f.ReadAt(typ[:], phoff+i*phentsize); err != nil {
			return false
		}
		if binary.LittleEndian.Uint32(typ[:]) == 3 { // PT_INTERP
			return true
		}
	}
	return false
}

// workerRules are the worker's file, program and network allowances.
// Network access is handled with no rule: no TCP bind or connect.
func workerRules(p WorkerPaths) ([]landlock.Rule, error) {
	if p.Executable == "" || p.TempDir == "" || p.Socket == "" {
		return nil, errors.New("landlock: the worker's executable, temporary directory and socket are all needed")
	}
	rules := []landlock.Rule{
		readExec(p.Executable),
		landlock.RWDirs(p.TempDir),
		// On the directory: the socket is made anew when the orchestrator
		// restarts, and may not exist yet when the worker starts.
		landlock.PathAccess(llsys.AccessFSResolveUnix, filepath.Dir(p.Socket)),
		// A sandbox child reads its own /proc/self/status before it narrows
		// its domain; the Go runtime reads cgroup limits (GOMAXPROCS).
		// Other users' processes stay behind ptrace access checks.
		readOnly("/proc", "/sys/fs/cgroup"),
		landlock.PathAccess(llsys.AccessFSReadFile|llsys.AccessFSWriteFile, "/dev/null").IgnoreIfMissing(),
	}
	return append(rules, loaderRules(p.Executable)...), nil
}

// orchestratorRules are the orchestrator's file allowances.
func orchestratorRules(p OrchestratorPaths) []landlock.Rule {
	rules := []landlock.Rule{
		landlock.RODirs(
			// CA certificates (crypto/x509's search list on Linux).
			"/etc/ssl", "/etc/pki", "/etc/ca-certificates", "/usr/share/ca-certificates",
			"/usr/local/share/certs", "/etc/openssl", "/system/etc/security/cacerts",
			// time zones
			"/usr/share/zoneinfo",
		).IgnoreIfMissing(),
		landlock.ROFiles(
			// name resolution
			"/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf", "/etc/host.conf", "/etc/gai.conf",
			"/etc/services", "/etc/protocols", "/etc/localtime", "/etc/mime.types",
		).IgnoreIfMissing(),
		// the worker's liveness and confinement, the runtime's own files
		readOnly("/proc", "/sys/fs/cgroup", "/sys/kernel/mm/transparent_hugepage"),
		landlock.PathAccess(llsys.AccessFSReadFile|llsys.AccessFSWriteFile, "/dev/null", "/dev/urandom").IgnoreIfMissing(),
	}
	if len(p.ReadWrite) > 0 {
		rules = append(rules, landlock.RWDirs(p.ReadWrite...).WithRefer().IgnoreIfMissing())
	}
	if len(p.Sockets) > 0 {
		rules = append(rules, landlock.RWDirs(p.Sockets...).WithResolveUnix().IgnoreIfMissing())
	}
	if len(p.Programs) > 0 {
		rules = append(rules, readExec(p.Programs...))
		// A program's directory is listed (os.Executable, exec.LookPath).
		var dirs []string
		for _, prog := range p.Programs {
			dirs = append(dirs, filepath.Dir(prog))
		}
		rules = append(rules, landlock.PathAccess(llsys.AccessFSReadDir, dirs...))
	}
	for _, r := range p.Read {
		if fi, err := os.Stat(r); err == nil && fi.IsDir() {
			rules = append(rules, landlock.RODirs(r))
		} else {
			rules = append(rules, landlock.ROFiles(r).IgnoreIfMissing())
		}
	}
	return append(rules, loaderRules(p.Programs...)...)
}
