package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	mcpclient "github.com/airlockhq/airlock/mcp/client"
	"github.com/airlockhq/airlock/mcp/tools"
)

// workerStartEnv makes the test binary start as the worker does, up to
// its first poll: confined (as run does) or not, then connect to the
// socket, poll once, and exit.
const workerStartEnv = "AIRLOCK_TEST_WORKER_START"

func workerStart(mode string) int {
	logger := slog.New(slog.DiscardHandler)
	socket := os.Getenv("AIRLOCK_SOCKET")
	if mode == "confined" {
		start := time.Now()
		_, cleanup, err := confineWorker(socket, logger)
		if err != nil {
			fmt.Fprintln(os.Stderr, "start:", err)
			return 2
		}
		defer cleanup()
		fmt.Println(time.Since(start).Microseconds()) // the confinement's own cost
	}
	c := mcpclient.New(mcpclient.Options{SocketPath: socket, Logger: logger})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var res tools.NextTaskResult
	if err := c.Call(ctx, tools.RuntimeNextTask, tools.NextTaskArgs{}, &res); err != nil {
		fmt.Fprintln(os.Stderr, "start:", err)
		return 1
	}
	return 0
}

// BenchmarkWorkerStart is the worker's start, from exec to its first
// answered poll and exit, with and without the confinement (seccomp filter,
// Landlock, the network probe). The test binary stands in for aiworker.
// confine-µs is the p50 of confineWorker alone, measured in the child.
func BenchmarkWorkerStart(b *testing.B) {
	sock, _ := fakeOrchestrator(b)
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	for _, mode := range []string{"unconfined", "confined"} {
		b.Run(mode, func(b *testing.B) {
			var times []time.Duration
			var confine []int
			for b.Loop() {
				cmd := exec.Command(exe)
				cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "AIRLOCK_SOCKET=" + sock, workerStartEnv + "=" + mode}
				start := time.Now()
				out, err := cmd.Output()
				if err != nil {
					b.Fatalf("%s start: %v\n%s", mode, err, out)
				}
				times = append(times, time.Since(start))
				if us, err := strconv.Atoi(strings.TrimSpace(string(out))); err == nil {
					confine = append(confine, us)
				}
			}
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)/2].Microseconds()), "p50-µs")
			if len(confine) > 0 {
				slices.Sort(confine)
				b.ReportMetric(float64(confine[len(confine)/2]), "confine-µs")
			}
		})
	}
}
