package doctor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/airlockhq/airlock/secure/vault"
)

func fileChecks() []check {
	return []check{
		{"files.data_dir", "The data directory is 0700 and the orchestrator's", High,
			"chmod 0700 the data directory (entrypoint.sh does it at start: restart the container)",
			func(_ context.Context, e *Env) (Status, string) { return dirMode(e.Config.DataDir) }},
		{"files.secure_dir", "secure/ is 0700 and the orchestrator's", High,
			"chmod 0700 <data>/secure (entrypoint.sh does it at start: restart the container)",
			func(_ context.Context, e *Env) (Status, string) { return dirMode(e.Config.SecureDir()) }},
		{"files.master_key", "The master key is 0600 and 32 bytes", Critical,
			"chmod 0600 the master key file; if its length is wrong, restore it from your backup",
			func(_ context.Context, e *Env) (Status, string) { return keyFile(e.Config.MasterKeyPath()) }},
		{"files.token_key", "The token signing key is 0600 and 32 bytes", High,
			"chmod 0600 <data>/secure/jwt.key; a wrong length: delete it and restart (every session signs out)",
			func(_ context.Context, e *Env) (Status, string) {
				return keyFile(filepath.Join(e.Config.SecureDir(), "jwt.key"))
			}},
		{"files.database", "The database and its WAL are not readable by group or others", High,
			"chmod 0600 <data>/secure/airlock.db*",
			func(_ context.Context, e *Env) (Status, string) {
				var bad, seen []string
				for _, suffix := range []string{"", "-wal", "-shm"} {
					p := e.Config.DBPath() + suffix
					fi, err := os.Stat(p)
					if err != nil {
						continue
					}
					seen = append(seen, fmt.Sprintf("%s %04o", filepath.Base(p), fi.Mode().Perm()))
					if fi.Mode().Perm()&0o077 != 0 {
						bad = append(bad, fmt.Sprintf("%s %04o", p, fi.Mode().Perm()))
					}
				}
				switch {
				case len(seen) == 0:
					return skipf("no database yet at %s", e.Config.DBPath())
				case len(bad) > 0:
					return failf("%s", listed(bad))
				}
				return okf("%s", listed(seen))
			}},
		{"files.data_modes", "Nothing under the data directory is open to group or others", Medium,
			"`chmod -R go-rwx` the data directory as airlock-system",
			func(_ context.Context, e *Env) (Status, string) { return openFiles(e.Config.DataDir) }},
		{"files.socket_dir", "The socket directory is 0750, the orchestrator's, group of the socket", High,
			"let entrypoint.sh make /run/airlock (tmpfs mode=2750,uid=10001,gid=10000): restart the container",
			containerOnly(func(e *Env) (Status, string) {
				return socketMode(filepath.Dir(e.Config.Socket), 0o750, true)
			})},
		{"files.socket", "The socket is 0660, group of its directory", High,
			"restart the orchestrator: it makes the socket 0660 in the setgid socket directory",
			containerOnly(func(e *Env) (Status, string) { return socketMode(e.Config.Socket, 0o660, false) })},
	}
}

func stat(path string) (fs.FileInfo, *syscall.Stat_t, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	return fi, fi.Sys().(*syscall.Stat_t), nil
}

func dirMode(dir string) (Status, string) {
	fi, st, err := stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return skipf("%s does not exist yet (the orchestrator creates it at its first start)", dir)
	}
	if err != nil {
		return failf("%v", err)
	}
	// The doctor runs as the orchestrator's user (the command as
	// airlock-system, the API inside the orchestrator).
	uid := os.Geteuid()
	ev := fmt.Sprintf("%s %04o owner %d", dir, fi.Mode().Perm(), st.Uid)
	if fi.Mode().Perm() != 0o700 || int(st.Uid) != uid {
		return Fail, ev + fmt.Sprintf(" (want 0700 owner %d)", uid)
	}
	return Pass, ev
}

// keyFile checks a 32-byte key file's mode and length by reading it with
// vault.LoadKey; the key itself is dropped at once and never shown.
func keyFile(path string) (Status, string) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return skipf("%s does not exist yet", path)
	}
	if err != nil {
		return failf("%v", err)
	}
	if fi.Mode().Perm() != 0o600 && fi.Mode().Perm() != 0o400 {
		return failf("%s mode %04o", path, fi.Mode().Perm())
	}
	if fi.Size() != vault.KeySize {
		return failf("%s is %d bytes, want %d", path, fi.Size(), vault.KeySize)
	}
	if _, err := vault.LoadKey(path); err != nil {
		return failf("%s does not load (%s)", path, keyProblem(err))
	}
	return okf("%s %04o, %d bytes", path, fi.Mode().Perm(), fi.Size())
}

// keyProblem is a key-loading error without its text, which names the
// path only but could change; the kind is enough.
func keyProblem(err error) string {
	if errors.Is(err, fs.ErrPermission) {
		return "permission denied"
	}
	return "not a valid key file"
}

// openFiles lists entries under dir that group or others may access.
func openFiles(dir string) (Status, string) {
	var open []string
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		info, err := os.Lstat(path)
		if err != nil || info.Mode()&fs.ModeSymlink != 0 {
			return nil
		}
		n++
		if info.Mode().Perm()&0o077 != 0 {
			open = append(open, fmt.Sprintf("%s %04o", path, info.Mode().Perm()))
		}
		return nil
	})
	if err != nil {
		return failf("walking %s: %v", dir, err)
	}
	if len(open) > 0 {
		return warnf("%s", listed(open))
	}
	return okf("%d entries under %s, none open to group or others", n, dir)
}

// socketMode checks path's mode (ignoring setgid on a directory), that the
// orchestrator owns it, and for the socket that its group is its
// directory's.
func socketMode(path string, want fs.FileMode, dir bool) (Status, string) {
	fi, st, err := stat(path)
	if err != nil {
		return failf("%v", err)
	}
	ev := fmt.Sprintf("%s %04o owner %d group %d", path, fi.Mode().Perm(), st.Uid, st.Gid)
	if fi.Mode().Perm() != want || int(st.Uid) != os.Geteuid() {
		return Fail, ev + fmt.Sprintf(" (want %04o, owner %d)", want, os.Geteuid())
	}
	if !dir {
		_, dst, err := stat(filepath.Dir(path))
		if err == nil && dst.Gid != st.Gid {
			return Fail, ev + fmt.Sprintf(" (directory group %d)", dst.Gid)
		}
	}
	return Pass, ev
}
