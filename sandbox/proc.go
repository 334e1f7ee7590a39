package sandbox

import (
	"bufio"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/airlockhq/airlock/secure/confine"
)

// maxStderrBytes caps the child's stderr kept for crash diagnostics.
const maxStderrBytes = 8 << 10

// child is the parent's handle on one sandbox process. It runs at most
// one job; kill ends it (its whole process group).
type child struct {
	cmd      *exec.Cmd
	in       *os.File // the child's stdin
	out      *bufio.Reader
	outFile  *os.File
	stderr   *capBuffer
	memBytes int64 // the RLIMIT_DATA it started with
	started  time.Time
	// confinement is what the child said it could lock, with "ready".
	confinement confine.Report

	exited chan struct{} // closed once reaped; then state is set
	state  *os.ProcessState
	once   sync.Once
}

// spawn starts a child with an empty environment, its own process group,
// and SIGKILL if the worker dies.
func spawn(exe string, memBytes int64) (*child, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("sandbox: pipe: %w", err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, fmt.Errorf("sandbox: pipe: %w", err)
	}
	cmd := exec.Command(exe, ChildArg, strconv.FormatInt(memBytes, 10), strconv.FormatUint(cpuSeconds(maxCPUTime), 10))
	cmd.Env = []string{}
	cmd.Dir = "/"
	cmd.Stdin, cmd.Stdout = inR, outW
	c := &child{cmd: cmd, in: inW, out: bufio.NewReaderSize(outR, 64<<10), outFile: outR,
		stderr: &capBuffer{max: maxStderrBytes}, memBytes: memBytes, exited: make(chan struct{})}
	cmd.Stderr = c.stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	err = cmd.Start()
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, fmt.Errorf("sandbox: start child: %w", err)
	}
	c.started = time.Now()
	go c.wait()
	return c, nil
}

func (c *child) wait() {
	_ = c.cmd.Wait() // the exit status is in ProcessState
	c.state = c.cmd.ProcessState
	close(c.exited)
}

// alive reports whether the child has not exited yet.
func (c *child) alive() bool {
	select {
	case <-c.exited:
		return false
	default:
		return true
	}
}

// kill ends the child's process group with SIGKILL and closes its stdin.
// It is safe to call more than once and from any goroutine.
func (c *child) kill() {
	c.once.Do(func() {
		if c.alive() {
			_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
			_ = c.cmd.Process.Kill()
		}
		c.in.Close()
	})
}

// awaitReady reads the child's "ready" line: it has set its limits and
// warmed up. A binary whose main does not call MaybeChild never says it.
func (c *child) awaitReady(timeout time.Duration) error {
	if err := c.outFile.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return fmt.Errorf("sandbox: child: %w", err)
	}
	line, err := readLine(c.out, 1<<10)
	if err != nil {
		return fmt.Errorf("sandbox: child did not start (does main call sandbox.MaybeChild first?): %w; stderr: %q",
			err, firstLine(c.stderr.String()))
	}
	var m childMsg
	if err := json.Unmarshal(line, &m); err != nil || m.Type != msgReady {
		return fmt.Errorf("sandbox: child said %.100q, not ready (does main call sandbox.MaybeChild first?)", line)
	}
	if m.Confinement != nil {
		c.confinement = *m.Confinement
	}
	return c.outFile.SetReadDeadline(time.Time{})
}

// release kills the child and closes the parent's end of its stdout; the
// owner calls it once done reading.
func (c *child) release() {
	c.kill()
	c.outFile.Close()
}

// send writes one JSON line to the child's stdin.
func (c *child) send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = c.in.Write(append(b, '\n'))
	return err
}

// capBuffer keeps the first max bytes written to it.
type capBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (b *capBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.max - len(b.buf); room > 0 {
		b.buf = append(b.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (b *capBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// confWarning logs, once per Runner, that a child could not lock itself
// in as it should (see secure/confine).
type confWarning struct{ once sync.Once }

func (w *confWarning) note(log *slog.Logger, rep *confine.Report) {
	if rep == nil || rep.Confined() {
		return
	}
	w.once.Do(func() {
		log.Warn("SANDBOX CHILDREN ARE NOT FULLY CONFINED: the kernel refused part of their lock-down",
			"confinement", rep.String(), "problems", rep.Problems)
	})
}
