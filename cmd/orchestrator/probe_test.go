package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
)

// runProbe is the test binary's helper mode, run as another user: it
// connects to the MCP socket and prints what happened.
func runProbe(mode string) int {
	sock := os.Getenv("AIRLOCK_TEST_SOCKET")
	switch mode {
	case "connect":
		c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}}}
		body := `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`
		req, _ := http.NewRequest("POST", "http://localhost/mcp", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		resp, err := c.Do(req)
		if err != nil {
			fmt.Println("error:", err)
			return 0
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		fmt.Printf("status: %d\n%s\n", resp.StatusCode, b)
		return 0
	}
	fmt.Println("unknown probe", mode)
	return 2
}

func execWorker(sock string, logs io.Writer) *exec.Cmd {
	cmd := exec.Command(binDir + "/aiworker")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "AIRLOCK_SOCKET=" + sock}
	cmd.Stdout, cmd.Stderr = logs, logs
	return cmd
}
