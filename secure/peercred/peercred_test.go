package peercred

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// socketPair returns both ends of a connected Unix socket pair as net.Conns.
func socketPair(t *testing.T) (net.Conn, net.Conn) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	conns := make([]net.Conn, 2)
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "socketpair")
		c, err := net.FileConn(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		conns[i] = c
	}
	return conns[0], conns[1]
}

func TestGetSocketPair(t *testing.T) {
	a, _ := socketPair(t)
	got, err := Get(a)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	want := Cred{PID: os.Getpid(), UID: os.Getuid(), GID: os.Getgid()}
	if got != want {
		t.Fatalf("Get = %+v, want %+v", got, want)
	}
}

func TestGetNotUnix(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := Get(c); !errors.Is(err, ErrNotUnix) {
		t.Fatalf("Get(tcp) error = %v, want ErrNotUnix", err)
	}
}

func TestConnContext(t *testing.T) {
	a, _ := socketPair(t)
	ctx := ConnContext(context.Background(), a)
	got, ok := FromContext(ctx)
	if !ok {
		t.Fatal("FromContext: no credentials")
	}
	if got.PID != os.Getpid() || got.UID != os.Getuid() {
		t.Fatalf("FromContext = %+v, want our pid/uid", got)
	}
	if _, ok := FromContext(context.Background()); ok {
		t.Fatal("FromContext on a bare context reported ok")
	}
	pipeA, pipeB := net.Pipe()
	defer pipeA.Close()
	defer pipeB.Close()
	if _, ok := FromContext(ConnContext(context.Background(), pipeA)); ok {
		t.Fatal("FromContext after a failed Get reported ok")
	}
}

// safeDir returns a fresh 0750 directory for sockets.
func safeDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	if err := os.Mkdir(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	return dir
}
