package peercred

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestListenModeAndAccept(t *testing.T) {
	path := filepath.Join(safeDir(t), "mcp.sock")
	gid := os.Getgid()
	if os.Getuid() == 0 {
		gid = 65534 // root may chown to any group: prove the chown happens
	}
	ln, err := Listen(path, 0o660, gid)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != fs.ModeSocket || fi.Mode().Perm() != 0o660 {
		t.Fatalf("socket mode = %v, want socket 0660", fi.Mode())
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); !ok || int(st.Gid) != gid {
		t.Fatalf("socket group = %v, want %d", fi.Sys(), gid)
	}
	done := make(chan Cred, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(done)
			return
		}
		defer c.Close()
		cred, _ := Get(c)
		done <- cred
	}()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if cred := <-done; cred.PID != os.Getpid() || cred.UID != os.Getuid() {
		t.Fatalf("accepted peer cred = %+v, want ours", cred)
	}
	ln.Close()
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("socket still present after Close: %v", err)
	}
}

func TestListenRefusesUnsafeDir(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T) string // returns the socket path
	}{
		{"group writable", func(t *testing.T) string {
			dir := safeDir(t)
			chmod(t, dir, 0o770)
			return filepath.Join(dir, "s.sock")
		}},
		{"world writable sticky", func(t *testing.T) string {
			dir := safeDir(t)
			chmod(t, dir, 0o777|fs.ModeSticky)
			return filepath.Join(dir, "s.sock")
		}},
		{"missing", func(t *testing.T) string {
			return filepath.Join(safeDir(t), "nope", "s.sock")
		}},
		{"not a directory", func(t *testing.T) string {
			f := filepath.Join(safeDir(t), "file")
			writeFile(t, f)
			return filepath.Join(f, "s.sock")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.setup(t)
			ln, err := Listen(path, 0o660, -1)
			if err == nil {
				ln.Close()
				t.Fatal("Listen succeeded, want ErrUnsafeDir")
			}
			if !errors.Is(err, ErrUnsafeDir) {
				t.Fatalf("Listen error = %v, want ErrUnsafeDir", err)
			}
		})
	}
}

func TestListenReplacesStaleSocket(t *testing.T) {
	path := filepath.Join(safeDir(t), "mcp.sock")
	old, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	old.SetUnlinkOnClose(false)
	old.Close() // the file stays, nobody listens: a crashed orchestrator's leftover
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("stale socket missing before test: %v", err)
	}
	ln, err := Listen(path, 0o660, -1)
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	defer ln.Close()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatalf("dial new listener: %v", err)
	}
	c.Close()
}

func TestListenRefusesLiveServer(t *testing.T) {
	path := filepath.Join(safeDir(t), "mcp.sock")
	first, err := Listen(path, 0o660, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	second, err := Listen(path, 0o660, -1)
	if err == nil {
		second.Close()
		t.Fatal("second Listen succeeded")
	}
	if !errors.Is(err, ErrInUse) {
		t.Fatalf("second Listen error = %v, want ErrInUse", err)
	}
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("live socket was removed: %v", err)
	}
}

func TestListenRefusesNonSocket(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, path string)
	}{
		{"regular file", func(t *testing.T, path string) { writeFile(t, path) }},
		{"directory", func(t *testing.T, path string) {
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatal(err)
			}
		}},
		{"symlink", func(t *testing.T, path string) {
			target := filepath.Join(filepath.Dir(path), "target")
			writeFile(t, target)
			if err := os.Symlink(target, path); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(safeDir(t), "mcp.sock")
			tt.setup(t, path)
			before, err := os.Lstat(path)
			if err != nil {
				t.Fatal(err)
			}
			ln, err := Listen(path, 0o660, -1)
			if err == nil {
				ln.Close()
				t.Fatal("Listen succeeded over a non-socket")
			}
			if !errors.Is(err, ErrNotSocket) {
				t.Fatalf("Listen error = %v, want ErrNotSocket", err)
			}
			after, err := os.Lstat(path)
			if err != nil {
				t.Fatalf("path removed: %v", err)
			}
			if after.Mode() != before.Mode() || !os.SameFile(before, after) {
				t.Fatalf("path changed: %v -> %v", before.Mode(), after.Mode())
			}
		})
	}
}

func chmod(t *testing.T, path string, mode fs.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path string) {
	t.Helper()
	if err := os.WriteFile(path, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
}
