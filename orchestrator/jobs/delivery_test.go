package jobs

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/airlockhq/airlock/orchestrator/audit"
)

// TestFailedDeliveryRetriedLoggedAudited: a target that fails is retried;
// one that still fails after its attempts is logged with a reference (not
// the text), audited as job.delivery_failed and noted in the run; one that
// succeeds on a retry is neither.
func TestFailedDeliveryRetriedLoggedAudited(t *testing.T) {
	e := newEnv(t)
	var logs bytes.Buffer
	e.svc.d.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	j, err := e.svc.Create(ctx, "admin:alice", promptSpec("feeds"))
	if err != nil {
		t.Fatal(err)
	}
	e.run.result = RunResult{Text: "secret-free answer 42", Tokens: 1, Calls: 1, InConversation: true}
	failures := func() []audit.Entry {
		t.Helper()
		list, err := audit.New(e.st, nil, nil).List(ctx, audit.Filter{Action: "job.delivery_failed"})
		if err != nil {
			t.Fatal(err)
		}
		return list
	}

	// Two failures, then the third attempt goes out: nothing failed.
	e.discord.fails = 2
	e.clk.Set(time.Date(2026, 6, 1, 8, 0, 1, 0, time.UTC))
	e.tick(t)
	if rs := e.runs(t, j.ID); len(rs) != 1 || rs[0].Error != "" || len(e.discord.sent) != 1 {
		t.Fatalf("retried delivery: runs %+v sent %v", rs, e.discord.sent)
	}
	if n := len(failures()); n != 0 || strings.Contains(logs.String(), `msg="jobs: delivery failed"`) {
		t.Fatalf("a delivery that succeeded on retry was reported failed (%d audit entries)\n%s", n, logs.String())
	}
	if c := strings.Count(logs.String(), "jobs: delivery failed, retrying"); c != 2 {
		t.Errorf("%d retry log lines, want 2", c)
	}

	// Every attempt fails: logged, audited, noted in the run.
	e.discord.fails = deliveryAttempts
	e.clk.Set(time.Date(2026, 6, 2, 8, 0, 1, 0, time.UTC))
	e.tick(t)
	rs := e.runs(t, j.ID)
	if len(rs) != 2 || !strings.Contains(rs[0].Error, "delivery to discord_channel 111 failed after 3 attempts (reference ") {
		t.Fatalf("run = %+v", rs[0])
	}
	ref := rs[0].Error[strings.Index(rs[0].Error, "reference ")+len("reference ") : len(rs[0].Error)-1]
	out := logs.String()
	if !strings.Contains(out, `msg="jobs: delivery failed"`) || !strings.Contains(out, "ref="+ref) ||
		!strings.Contains(out, "attempts=3") || !strings.Contains(out, "run_id="+rs[0].ID) {
		t.Errorf("log lacks the failed delivery (ref %s):\n%s", ref, out)
	}
	if strings.Contains(out, "secret-free answer 42") {
		t.Error("the delivered text is in the log")
	}
	list := failures()
	if len(list) != 1 {
		t.Fatalf("%d job.delivery_failed entries, want 1", len(list))
	}
	var d map[string]any
	if err := json.Unmarshal(list[0].Details, &d); err != nil {
		t.Fatal(err)
	}
	if list[0].Actor != "system" || list[0].Target != "feeds" || list[0].Outcome != audit.OutcomeError ||
		d["ref"] != ref || d["run_id"] != rs[0].ID || d["target_id"] != "111" || d["attempts"] != float64(3) {
		t.Fatalf("audit entry = %+v %s", list[0], list[0].Details)
	}
	if strings.Contains(string(list[0].Details), "secret-free answer 42") {
		t.Error("the delivered text is in the audit log")
	}
}
