package orchestrator_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/orchestrator"
	"github.com/airlockhq/airlock/orchestrator/llm"
)

// TestNewRefusesMissingDependency: a Core is never built with a required
// dependency missing, so that no check is skipped for want of one; in
// particular, scripts are not enabled without the egress client their
// requests go through, or without the secrets they are granted.
func TestNewRefusesMissingDependency(t *testing.T) {
	h := newHarness(t, orchestrator.Config{}, llm.Budget{})
	full := func() orchestrator.Deps {
		return orchestrator.Deps{Store: h.store, Audit: h.audit, Queue: h.queue, Workspace: h.ws, Logger: quiet()}
	}
	if _, err := orchestrator.New(orchestrator.Config{}, full()); err != nil {
		t.Fatalf("New with every required dependency: %v", err)
	}
	tests := []struct {
		name string
		edit func(*orchestrator.Deps)
		want string
	}{
		{"store", func(d *orchestrator.Deps) { d.Store = nil }, "no store"},
		{"audit", func(d *orchestrator.Deps) { d.Audit = nil }, "no audit log"},
		{"queue", func(d *orchestrator.Deps) { d.Queue = nil }, "no task queue"},
		{"workspace", func(d *orchestrator.Deps) { d.Workspace = nil }, "no workspace"},
		{"logger", func(d *orchestrator.Deps) { d.Logger = nil }, "no logger"},
		{"scripts without web", func(d *orchestrator.Deps) { d.Approval, d.Secret = h.approval, noSecret }, "no egress client"},
		{"scripts without secrets", func(d *orchestrator.Deps) { d.Approval, d.Web = h.approval, h.web }, "no secret source"},
	}
	for _, tt := range tests {
		d := full()
		tt.edit(&d)
		c, err := orchestrator.New(orchestrator.Config{}, d)
		if err == nil || c != nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: New = %v, %v; want an error saying %q", tt.name, c, err, tt.want)
		}
	}
}

func noSecret(context.Context, string) (string, error) { return "", errors.New("not set") }
