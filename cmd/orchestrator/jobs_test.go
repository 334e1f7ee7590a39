package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/llm/llmtest"
)

const dcJobChannel = "500000000000000001"

type apiJob struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	State          string `json:"state"`
	StateReason    string `json:"state_reason"`
	ConversationID string `json:"conversation_id"`
}

type apiRun struct {
	Status, Output, Error string
	Tokens                int
	Cost                  *struct {
		Calls        int    `json:"calls"`
		Nanos        *int64 `json:"nanos"`
		UnknownCalls int    `json:"unknown_calls"`
	} `json:"cost"`
}

// jobByName finds a job through the API.
func (d *discordStack) jobByName(name string) apiJob {
	d.t.Helper()
	var out struct{ Jobs []apiJob }
	if code := d.call("GET", "/api/v1/jobs", nil, &out); code != http.StatusOK {
		d.t.Fatalf("GET /api/v1/jobs: %d", code)
	}
	for _, j := range out.Jobs {
		if j.Name == name {
			return j
		}
	}
	d.t.Fatalf("no job %q in %+v", name, out.Jobs)
	return apiJob{}
}

// runNow runs a job through the API and waits until its run has ended;
// it returns the newest run and the job.
func (d *discordStack) runNow(id string, runs int) (apiRun, apiJob) {
	d.t.Helper()
	if code := d.call("POST", "/api/v1/jobs/"+id+"/run", nil, nil); code != http.StatusOK {
		d.t.Fatalf("run now: %d", code)
	}
	var out struct {
		Job  apiJob
		Runs []apiRun
	}
	waitFor(d.t, 20*time.Second, "the run to end", func() bool {
		d.call("GET", "/api/v1/jobs/"+id, nil, &out)
		return len(out.Runs) >= runs && out.Runs[0].Status != "running"
	})
	return out.Runs[0], out.Job
}

// TestJobsEndToEnd (issue 14): the model proposes a job that cannot run
// until the admin approves it; a prompt job delivers to its conversation
// and a Discord channel with fresh context each run; a script job that
// finds nothing makes no model request and sends nothing; one that finds
// something DMs the admin without a model call; revoking its script
// pauses it.
func TestJobsEndToEnd(t *testing.T) {
	d := startDiscordStack(t, map[string]string{"DISCORD_TOKEN": discordTestToken})
	d.waitIdentified(1)
	d.saveSettings(`{"discord":{"allowed_channels":["` + dcJobChannel + `"],"admins":["` + dcAdminID + `"]}}`)
	d.waitIdentified(2)
	conv := d.newConversation()

	// Proposed by the model: it waits, and cannot run.
	res := d.callTool(conv, tools.JobPropose, map[string]any{"name": "digest", "kind": "prompt", "schedule": "@daily",
		"prompt": "Summarise the news", "targets": []any{map[string]string{"kind": "web"},
			map[string]string{"kind": "discord_channel", "id": dcJobChannel}}, "max_tokens": 5000})
	if res.IsError || !strings.Contains(res.Content, `"state":"proposed"`) {
		t.Fatalf("job_propose: %+v", res)
	}
	res = d.callTool(conv, tools.JobPropose, map[string]any{"name": "bad", "kind": "prompt", "schedule": "* 25 * * *",
		"prompt": "x", "targets": []any{map[string]string{"kind": "web"}}})
	if !strings.HasPrefix(res.Content, "ERROR") || !strings.Contains(res.Content, "hour field") {
		t.Errorf("a bad proposal: %+v", res)
	}
	res = d.callTool(conv, tools.JobList, map[string]any{})
	if !strings.Contains(res.Content, "UNTRUSTED DATA") || !strings.Contains(res.Content, `"name":"digest"`) || strings.Contains(res.Content, `"name":"bad"`) {
		t.Errorf("job_list: %q", res.Content)
	}
	job := d.jobByName("digest")
	if code := d.call("POST", "/api/v1/jobs/"+job.ID+"/run", nil, nil); code != http.StatusConflict {
		t.Fatalf("running an unapproved proposal: %d", code)
	}
	if code := d.call("POST", "/api/v1/jobs/"+job.ID+"/approve", nil, nil); code != http.StatusOK {
		t.Fatalf("approve: %d", code)
	}

	// Two runs: each a fresh context (only the prompt), delivered to the
	// channel and to the job's conversation.
	for i, answer := range []string{"Digest one: all quiet", "Digest two: still quiet"} {
		d.llm.Reset()
		d.llm.Enqueue(llmtest.Reply{Text: answer})
		run, _ := d.runNow(job.ID, i+1)
		if run.Status != "ok" || run.Output != answer || run.Tokens == 0 {
			t.Errorf("run %d = %+v", i, run)
		}
		// Its cost comes from its one model call's usage row.
		if run.Cost == nil || run.Cost.Calls != 1 {
			t.Errorf("run %d cost = %+v, want one call", i, run.Cost)
		}
		reqs := d.llm.Requests()
		if len(reqs) != 1 || len(reqs[0].Messages) != 1 || reqs[0].Messages[0].Content != "Summarise the news" {
			t.Errorf("run %d: the model got %+v, want only the prompt", i, reqs)
		}
		d.waitFake("the digest in the channel", func() bool {
			for _, m := range d.fake.MessagesIn(dcJobChannel) {
				if m.Content == answer {
					return true
				}
			}
			return false
		})
	}
	msgs := d.messages(job.ConversationID)
	if len(msgs) != 4 || msgs[3].Content != "Digest two: still quiet" {
		t.Errorf("the job's conversation holds %+v", msgs)
	}

	// Script jobs: an approved script that finds nothing, one that finds something.
	for name, src := range map[string]string{
		"quiet": "# @description: finds nothing\n# @timeout: 5s\nresult = None\n",
		"news":  "# @description: finds news\n# @timeout: 5s\nresult = \"3 new items\"\n",
	} {
		res := d.callTool(conv, tools.ScriptPropose, map[string]any{"name": name, "source": src})
		var prop tools.ScriptProposeResult
		if err := json.Unmarshal([]byte(res.Content), &prop); err != nil {
			t.Fatalf("propose %s: %q", name, res.Content)
		}
		if code := d.call("POST", "/api/v1/scripts/"+name+"/versions/"+prop.SHA256+"/approve", nil, nil); code != http.StatusOK {
			t.Fatalf("approve %s: %d", name, code)
		}
	}
	for _, name := range []string{"quiet", "news"} {
		body := map[string]any{"name": "watch-" + name, "kind": "script", "script": name, "schedule": "@hourly",
			"targets": []any{map[string]string{"kind": "discord_dm", "id": dcAdminID}}}
		if code := d.call("POST", "/api/v1/jobs", body, nil); code != http.StatusCreated {
			t.Fatalf("create watch-%s: %d", name, code)
		}
	}
	d.llm.Reset()
	quiet := d.jobByName("watch-quiet")
	if run, _ := d.runNow(quiet.ID, 1); run.Status != "empty" || run.Tokens != 0 {
		t.Errorf("empty script run = %+v", run)
	}
	news := d.jobByName("watch-news")
	if run, _ := d.runNow(news.ID, 1); run.Status != "ok" || run.Output != "3 new items" || run.Cost != nil {
		t.Errorf("news run = %+v", run)
	}
	d.waitFake("the admin's DM", func() bool {
		ch := d.fake.DMChannel(dcAdminID)
		return ch != "" && len(d.fake.MessagesIn(ch)) > 0
	})
	// The admin's DMs hold notices (proposals) and exactly one result.
	results := 0
	for _, m := range d.fake.MessagesIn(d.fake.DMChannel(dcAdminID)) {
		if strings.TrimSpace(m.Content) == "" || strings.Contains(m.Content, "None") {
			t.Errorf("the empty script sent %q", m.Content)
		}
		if m.Content == "3 new items" {
			results++
		}
	}
	if results != 1 {
		t.Errorf("admin DMs with the result: %d, want 1", results)
	}
	if n := len(d.llm.Requests()); n != 0 {
		t.Errorf("script jobs made %d model requests; want none", n)
	}

	// Revoking the script pauses its job at once; run by hand, it fails.
	if code := d.call("POST", "/api/v1/scripts/news/revoke", map[string]string{"reason": "stop"}, nil); code != http.StatusOK {
		t.Fatalf("revoke: %d", code)
	}
	if j := d.jobByName("watch-news"); j.State != "paused" || !strings.Contains(j.StateReason, "news was revoked") {
		t.Errorf("right after revocation: %+v", j)
	}
	run, j := d.runNow(news.ID, 2)
	if run.Status != "failed" || j.State != "paused" || !strings.Contains(run.Error, "no approved version") {
		t.Errorf("a run after revocation: run %+v, job %+v", run, j)
	}
	waitFor(t, 10*time.Second, "the auto-pause notice", func() bool {
		for _, m := range d.fake.MessagesIn(d.fake.DMChannel(dcAdminID)) {
			if strings.Contains(m.Content, `"watch-news" paused itself`) {
				return true
			}
		}
		return false
	})
	d.assertTokenNowhere()
}

// TestJobRestartMidRun: the orchestrator crashes (SIGKILL) while a job's
// run waits for the model; after the restart the run is marked failed
// and is not run again, and the job keeps its schedule.
func TestJobRestartMidRun(t *testing.T) {
	s := startStack(t, stackOpts{dev: true})
	s.waitReady()
	var created struct{ Job apiJob }
	body := map[string]any{"name": "nightly", "kind": "prompt", "schedule": "@daily", "prompt": "Summarise the day",
		"targets": []any{map[string]string{"kind": "web"}}}
	if code := s.do("POST", "/api/v1/jobs", body, &created); code != http.StatusCreated {
		t.Fatalf("create: %d", code)
	}
	id := created.Job.ID
	s.llm.Enqueue(llmtest.Reply{Text: "too late", Delay: time.Minute})
	if code := s.do("POST", "/api/v1/jobs/"+id+"/run", nil, nil); code != http.StatusOK {
		t.Fatalf("run now: %d", code)
	}
	waitFor(t, 20*time.Second, "the run's model request", func() bool { return len(s.llm.Requests()) == 1 })
	_ = s.cmd.Process.Kill() // a crash: no shutdown, the run stays "running" in the database
	<-s.exited
	s.start()
	s.waitReady()
	var out struct {
		Job  apiJob
		Runs []apiRun
	}
	if code := s.do("GET", "/api/v1/jobs/"+id, nil, &out); code != http.StatusOK {
		t.Fatalf("get job: %d", code)
	}
	if len(out.Runs) != 1 || out.Runs[0].Status != "failed" || !strings.Contains(out.Runs[0].Error, "not run again") {
		t.Errorf("runs after the restart: %+v", out.Runs)
	}
	if out.Job.State != "active" {
		t.Errorf("job after the restart: %+v", out.Job)
	}
	time.Sleep(2500 * time.Millisecond) // a few scheduler ticks
	if n := len(s.llm.Requests()); n != 1 {
		t.Errorf("model requests after the restart: %d, want the 1 before it", n)
	}
}
