package admin

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/jobs"
	"github.com/airlockhq/airlock/orchestrator/store"
)

func TestJobsPagesAndAPI(t *testing.T) {
	e := newEnv(t)
	e.setup()
	tok := e.apiToken()
	b := e.login()

	// Create through the API; bad input names the field and stores nothing.
	bad := []struct {
		field string
		body  map[string]any
	}{
		{"schedule", map[string]any{"name": "x", "kind": "prompt", "schedule": "61 * * * *", "prompt": "p", "targets": []any{map[string]string{"kind": "web"}}}},
		{"schedule", map[string]any{"name": "x", "kind": "prompt", "schedule": "@every 5s", "prompt": "p", "targets": []any{map[string]string{"kind": "web"}}}},
		{"script", map[string]any{"name": "x", "kind": "script", "schedule": "@hourly", "script": "weather", "targets": []any{map[string]string{"kind": "web"}}}},
		{"targets[0]", map[string]any{"name": "x", "kind": "prompt", "schedule": "@hourly", "prompt": "p", "targets": []any{map[string]string{"kind": "discord_channel", "id": "1"}}}},
		{"prompt", map[string]any{"name": "x", "kind": "prompt", "schedule": "@hourly", "prompt": strings.Repeat("a", 40<<10), "targets": []any{map[string]string{"kind": "web"}}}},
	}
	for _, tt := range bad {
		var out struct{ Error, Field string }
		if code := e.api(tok, "POST", "/api/v1/jobs", tt.body, &out); code != http.StatusBadRequest || out.Field != tt.field {
			t.Errorf("%s: %d %+v", tt.field, code, out)
		}
	}
	var malformed struct{ Error string }
	if code := e.api(tok, "POST", "/api/v1/jobs", map[string]any{"name": "x", "max_tokens": "lots"}, &malformed); code != http.StatusBadRequest {
		t.Errorf("malformed JSON: %d %+v", code, malformed)
	}
	if list, _ := e.store.ListJobs(context.Background()); len(list) != 0 {
		t.Fatalf("bad input stored jobs: %+v", list)
	}
	var created struct {
		Job struct{ ID, Name, State string }
	}
	good := map[string]any{"name": "digest", "kind": "prompt", "schedule": "0 8 * * 1-5", "prompt": "summarise",
		"targets": []any{map[string]string{"kind": "web"}}, "max_tokens": 5000}
	if code := e.api(tok, "POST", "/api/v1/jobs", good, &created); code != http.StatusCreated || created.Job.State != store.JobActive {
		t.Fatalf("create: %d %+v", code, created)
	}
	id := created.Job.ID
	var detail struct {
		Review struct {
			Words string   `json:"schedule_in_words"`
			Next  []string `json:"next_runs"`
			Worst int      `json:"worst_case_tokens_per_day"`
		}
	}
	if code := e.api(tok, "GET", "/api/v1/jobs/"+id, nil, &detail); code != 200 || detail.Review.Words != "at 08:00 on Monday to Friday (UTC time)" ||
		len(detail.Review.Next) != 5 || detail.Review.Worst != 5000 {
		t.Errorf("job detail: %d %+v", code, detail)
	}
	for _, a := range []struct{ action, state string }{{"pause", store.JobPaused}, {"resume", store.JobActive}} {
		var out struct{ Job struct{ State string } }
		if code := e.api(tok, "POST", "/api/v1/jobs/"+id+"/"+a.action, nil, &out); code != 200 || out.Job.State != a.state {
			t.Errorf("%s: %d %+v", a.action, code, out)
		}
	}
	if code := e.api(tok, "POST", "/api/v1/jobs/"+id+"/approve", nil, nil); code != http.StatusConflict {
		t.Errorf("approving an active job: %d", code)
	}
	if code := e.api(tok, "POST", "/api/v1/jobs/"+id+"/explode", nil, nil); code != http.StatusNotFound {
		t.Errorf("unknown action: %d", code)
	}

	// The pages: list, the job's page, an edit with a bad schedule, delete.
	if code, body := b.get("/jobs"); code != 200 || !strings.Contains(body, "digest") || !strings.Contains(body, `href="/jobs/`+id+`"`) {
		t.Errorf("jobs page: %d", code)
	}
	code, body := b.get("/jobs/" + id)
	if code != 200 || !strings.Contains(body, "at 08:00 on Monday to Friday") || !strings.Contains(body, "Worst case") {
		t.Errorf("job page: %d\n%s", code, body)
	}
	form := url.Values{"name": {"digest"}, "kind": {"prompt"}, "schedule": {"* 99 * * *"}, "prompt": {"summarise"}, "targets": {"web"}}
	if code, _, body := b.post("/jobs/"+id, form); code != http.StatusBadRequest || !strings.Contains(body, "hour field") {
		t.Errorf("bad edit: %d", code)
	}
	form.Set("schedule", "@daily")
	if code, loc, _ := b.post("/jobs/"+id, form); code != http.StatusSeeOther || loc != "/jobs/"+id {
		t.Errorf("edit: %d %s", code, loc)
	}
	if j, _ := e.store.GetJob(context.Background(), id); j.Schedule != "@daily" {
		t.Errorf("edited schedule = %q", j.Schedule)
	}
	form.Set("name", "second")
	if code, loc, _ := b.post("/jobs", form); code != http.StatusSeeOther || !strings.HasPrefix(loc, "/jobs/j_") {
		t.Errorf("create from the page: %d %s", code, loc)
	}
	if code, loc, _ := b.post("/jobs/"+id+"/delete", nil); code != http.StatusSeeOther || loc != "/jobs" {
		t.Errorf("delete: %d %s", code, loc)
	}
	// Every change is in the audit log.
	entries, err := e.audit.List(context.Background(), audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, en := range entries {
		seen[en.Action] = true
	}
	for _, a := range []string{"job.created", "job.paused", "job.resumed", "job.updated", "job.deleted"} {
		if !seen[a] {
			t.Errorf("no %s audit entry", a)
		}
	}
}

func TestJobProposalNeedsAdminApproval(t *testing.T) {
	e := newEnv(t)
	e.setup()
	tok := e.apiToken()
	j, err := e.jobs.Propose(context.Background(), "assistant (conversation c_1, task t_1)", specForTest())
	if err != nil {
		t.Fatal(err)
	}
	var run struct{ Error string }
	if code := e.api(tok, "POST", "/api/v1/jobs/"+j.ID+"/run", nil, &run); code != http.StatusConflict {
		t.Errorf("running a proposal: %d %+v", code, run)
	}
	b := e.login()
	if code, body := b.get("/jobs/" + j.ID); code != 200 || !strings.Contains(body, `action="/jobs/`+j.ID+`/approve"`) {
		t.Errorf("proposal page: %d", code)
	}
	if code, _, _ := b.post("/jobs/"+j.ID+"/approve", nil); code != http.StatusSeeOther {
		t.Errorf("approve: %d", code)
	}
	if cur, _ := e.store.GetJob(context.Background(), j.ID); cur.State != store.JobActive || cur.NextRun.IsZero() {
		t.Errorf("approved job = %+v", cur)
	}
}

func specForTest() jobs.Spec {
	return jobs.Spec{Name: "proposed", Kind: store.JobPrompt, Schedule: "@daily", Prompt: "hello",
		Targets: []store.JobTarget{{Kind: jobs.TargetWeb}}}
}

func TestJobMetrics(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	j, err := e.store.CreateJob(ctx, store.Job{Name: "m", Kind: store.JobPrompt, Schedule: "@hourly", Prompt: "p",
		State: store.JobActive, Targets: []store.JobTarget{{Kind: "web"}}, MaxTokens: 10, MaxCalls: 1, ProposedBy: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, st := range []string{store.RunSkipped, store.RunSkipped, store.RunMissed} {
		if _, err := e.store.StartJobRun(ctx, store.JobRun{JobID: j.ID, Trigger: "schedule", ScheduledAt: now, StartedAt: now,
			EndedAt: now, Status: st}, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	r, err := e.store.StartJobRun(ctx, store.JobRun{JobID: j.ID, Trigger: "manual", ScheduledAt: now, StartedAt: now, Status: store.RunRunning}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	r.Status, r.Tokens, r.EndedAt = store.RunOK, 321, now
	if err := e.store.FinishJobRun(ctx, r); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(e.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{`airlock_job_runs_total{status="skipped"} 2`, `airlock_job_runs_total{status="missed"} 1`,
		`airlock_job_runs_total{status="ok"} 1`, `airlock_job_runs_total{status="failed"} 0`, "airlock_job_tokens_total 321"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// TestJobsSettingsOnThePage: the jobs settings are on the settings page,
// saved from it, and a bad value is refused naming the field.
func TestJobsSettingsOnThePage(t *testing.T) {
	e := newEnv(t)
	e.setup()
	b := e.login()
	if code, body := b.get("/settings"); code != 200 || !strings.Contains(body, `name="jobs.time_zone"`) || !strings.Contains(body, `name="jobs.max_failures"`) {
		t.Fatalf("settings page: %d", code)
	}
	if code, _, _ := b.post("/settings", url.Values{"jobs.time_zone": {"Europe/Berlin"}, "jobs.min_interval_seconds": {"300"}}); code != http.StatusSeeOther {
		t.Fatalf("saving: %d", code)
	}
	if j := e.settings.Get().Jobs; j.TimeZone != "Europe/Berlin" || j.MinIntervalSeconds != 300 {
		t.Errorf("saved jobs settings = %+v", j)
	}
	// The new floor applies to job definitions at once.
	var out struct{ Error, Field string }
	body := map[string]any{"name": "x", "kind": "prompt", "schedule": "*/2 * * * *", "prompt": "p", "targets": []any{map[string]string{"kind": "web"}}}
	if code := e.api(e.apiToken(), "POST", "/api/v1/jobs", body, &out); code != http.StatusBadRequest || !strings.Contains(out.Error, "5m0s") {
		t.Errorf("under the new floor: %d %+v", code, out)
	}
	code, _, page := b.post("/settings", url.Values{"jobs.time_zone": {"Mars/Base"}})
	if code != http.StatusBadRequest || !strings.Contains(page, "IANA") {
		t.Errorf("bad zone: %d", code)
	}
	if e.settings.Get().Jobs.TimeZone != "Europe/Berlin" {
		t.Error("a bad zone was stored")
	}
}
