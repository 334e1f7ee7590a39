package server_test

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/airlockhq/airlock/mcp/client"
	"github.com/airlockhq/airlock/mcp/server"
)

// benchText is the echoed payload; the tool call's request body is a few
// hundred bytes, like BenchmarkRawUnixEcho's message.
var benchText = strings.Repeat("x", 128)

const rawEchoSize = 512

// reportP50 records the median of durs as the "p50-µs" metric.
func reportP50(b *testing.B, durs []time.Duration) {
	if len(durs) == 0 {
		return
	}
	slices.Sort(durs)
	b.ReportMetric(float64(durs[len(durs)/2].Nanoseconds())/1e3, "p50-µs")
}

// BenchmarkToolRoundTrip measures one tool call from the worker's client
// (mcp-go underneath) over the Unix socket to a trivial echo tool and back.
func BenchmarkToolRoundTrip(b *testing.B) {
	path := startServer(b, server.Config{WorkerUID: os.Getuid()}, "", 0o660, testTools()...)
	c := client.New(client.Options{SocketPath: path})
	defer c.Close()
	ctx := context.Background()
	if err := c.Connect(ctx); err != nil {
		b.Fatal(err)
	}
	args := map[string]string{"text": benchText}
	var out map[string]string
	durs := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if err := c.Call(ctx, "echo", args, &out); err != nil {
			b.Fatal(err)
		}
		durs = append(durs, time.Since(start))
	}
	b.StopTimer()
	if out["text"] != benchText {
		b.Fatalf("echo returned %q", out["text"])
	}
	reportP50(b, durs)
}

// BenchmarkRawUnixEcho is the floor: a message of similar size written to a
// Unix socket and echoed back by a goroutine, with no HTTP or MCP.
func BenchmarkRawUnixEcho(b *testing.B) {
	path := filepath.Join(socketDir(b), "echo.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, rawEchoSize)
		for {
			if _, err := io.ReadFull(c, buf); err != nil {
				return
			}
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	}()
	c, err := net.Dial("unix", path)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	msg := []byte(strings.Repeat("y", rawEchoSize))
	reply := make([]byte, rawEchoSize)
	durs := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if _, err := c.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, reply); err != nil {
			b.Fatal(err)
		}
		durs = append(durs, time.Since(start))
	}
	b.StopTimer()
	reportP50(b, durs)
}
