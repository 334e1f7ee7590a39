// Command probe is run inside the Airlock container by deploy/e2e_test.go,
// as one user or another, to try what the runtime image has no tool for. It
// prints one line per target: "<target>\t<result>", where result is "ok" or
// an errno name (EACCES, EPERM, EROFS, ENOENT...), and exits 0 unless its
// arguments are wrong. The test decides what each result means.
//
//	probe read PATH...     read a file, or list a directory
//	probe write DIR...     create (and remove) a file in each directory
//	probe ptrace PID...    PTRACE_ATTACH (and detach)
//	probe connect SOCK...  connect to a Unix socket ("ok" once connected; the
//	                       answer to one HTTP request goes to stderr)
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: probe read|write|ptrace|connect TARGET...")
		os.Exit(2)
	}
	checks := map[string]func(string) error{"read": read, "write": write, "ptrace": ptrace, "connect": connect}
	check, ok := checks[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "probe: unknown check %q\n", os.Args[1])
		os.Exit(2)
	}
	for _, target := range os.Args[2:] {
		fmt.Printf("%s\t%s\n", target, result(check(target)))
	}
}

// result names an error by its errno, so the test can tell a refusal from
// an accident.
func result(err error) string {
	if err == nil {
		return "ok"
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		for _, e := range []syscall.Errno{syscall.EACCES, syscall.EPERM, syscall.EROFS, syscall.ENOENT,
			syscall.ECONNREFUSED, syscall.ESRCH} {
			if errno == e {
				return errnoName(e)
			}
		}
	}
	return "error: " + strings.ReplaceAll(err.Error(), "\t", " ")
}

func errnoName(e syscall.Errno) string {
	return map[syscall.Errno]string{syscall.EACCES: "EACCES", syscall.EPERM: "EPERM", syscall.EROFS: "EROFS",
		syscall.ENOENT: "ENOENT", syscall.ECONNREFUSED: "ECONNREFUSED", syscall.ESRCH: "ESRCH"}[e]
}

func read(path string) error {
	fi, err := os.Stat(path)
	if err == nil && fi.IsDir() {
		_, err = os.ReadDir(path)
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err = f.Read(make([]byte, 1)); errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

func write(dir string) error {
	name := filepath.Join(dir, "probe-"+strconv.Itoa(os.Getpid()))
	f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(name)
}

func ptrace(pidText string) error {
	pid, err := strconv.Atoi(pidText)
	if err != nil {
		return err
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := syscall.PtraceAttach(pid); err != nil {
		return err
	}
	var ws syscall.WaitStatus
	_, _ = syscall.Wait4(pid, &ws, syscall.WALL, nil)
	return syscall.PtraceDetach(pid)
}

func connect(sock string) error {
	c, err := net.DialTimeout("unix", sock, 3*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	body := `{"jsonrpc":"2.0","id":1,"method":"ping"}`
	fmt.Fprintf(c, "POST /mcp HTTP/1.1\r\nHost: airlock\r\nContent-Type: application/json\r\n"+
		"Accept: application/json, text/event-stream\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		line = "no HTTP answer: " + err.Error()
	}
	fmt.Fprintf(os.Stderr, "%s: %s\n", sock, strings.TrimSpace(line))
	return nil
}
