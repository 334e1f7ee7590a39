package server

import (
	"testing"
	"time"
)

// TestNoTimeoutsCutLongPolls guards the http.Server settings: a read
// deadline cancels a running request's context in net/http, and a write
// deadline would cut a long-poll (runtime_next_task) or a slow runtime_llm.
func TestNoTimeoutsCutLongPolls(t *testing.T) {
	s := New(Config{WorkerUID: 1})
	if s.http.ReadTimeout != 0 || s.http.WriteTimeout != 0 {
		t.Fatalf("ReadTimeout %v, WriteTimeout %v: both must be 0", s.http.ReadTimeout, s.http.WriteTimeout)
	}
	if s.http.ReadHeaderTimeout <= 0 || s.http.ReadHeaderTimeout > time.Minute {
		t.Fatalf("ReadHeaderTimeout %v: want a short positive bound", s.http.ReadHeaderTimeout)
	}
	if s.http.ConnContext == nil || s.http.BaseContext == nil {
		t.Fatal("ConnContext (peer credentials) and BaseContext (shutdown) must be set")
	}
	if s.cfg.MaxBodyBytes != DefaultMaxBodyBytes {
		t.Fatalf("default MaxBodyBytes = %d", s.cfg.MaxBodyBytes)
	}
}
