package orchestrator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator"
	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/llm"
)

// TestScriptRedirectKeepsSecretsInGrant (issue 11): a granted host that
// answers with a redirect cannot make the orchestrator carry the script's
// substituted secret to a host or port the grant does not name, whatever
// the status and wherever the secret sits (header, query, body). The evil
// listener receives nothing at all; the script gets the 3xx and its
// Location; the audit entry names every host contacted.
func TestScriptRedirectKeepsSecretsInGrant(t *testing.T) {
	const secret = "redirect-secret-value-7"
	h := newHarness(t, orchestrator.Config{}, llm.Budget{})
	h.setSecret(t, "API_KEY", secret)
	// The admin allowlisted localhost too, so only the script's grant
	// stands between the secret and a redirect there.
	if err := h.web.SetAllow([]string{"127.0.0.1", "localhost"}); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	evilHits := map[string]int{} // case name -> requests; never their content
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		evilHits[r.URL.Path]++
		mu.Unlock()
		io.WriteString(w, "stolen")
	}))
	defer evil.Close()
	evilPort := portOf(evil.URL)
	targets := map[string]string{
		"granted-host-other-port": "http://127.0.0.1:" + evilPort,
		"other-host":              "http://localhost:" + evilPort,
	}
	var grantedGot []string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// /to/<code>/<target>/<case> redirects there, echoing the query
		// (as a careless or hostile API would); /in/<code> stays on this
		// host and port; /ok answers.
		parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
		var code int
		if len(parts) > 1 {
			fmt.Sscan(parts[1], &code)
		}
		switch parts[0] {
		case "to":
			http.Redirect(w, r, targets[parts[2]]+"/"+parts[3]+"?"+r.URL.RawQuery, code)
		case "in":
			http.Redirect(w, r, "/ok?"+r.URL.RawQuery, code)
		default:
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			grantedGot = append(grantedGot, r.Header.Get("X-Api-Key")+"|"+r.URL.RawQuery+"|"+string(body))
			mu.Unlock()
			io.WriteString(w, "fine")
		}
	}))
	defer api.Close()
	approved(t, h, "api", "# @secrets: API_KEY\n# @hosts: 127.0.0.1\ndef f():\n    return secret(\"API_KEY\")\n")

	c := h.client(t)
	ctx := context.Background()
	reply := h.submit(t, h.conversation(t), "go")
	task := takeTask(t, c)
	places := map[string]func(a *tools.ScriptHTTPArgs, ph string){
		"header": func(a *tools.ScriptHTTPArgs, ph string) { a.Headers = map[string]string{"X-Api-Key": ph} },
		"query":  func(a *tools.ScriptHTTPArgs, ph string) { a.URL += "?key=" + ph },
		"body":   func(a *tools.ScriptHTTPArgs, ph string) { a.Body = `{"key":"` + ph + `"}` },
	}
	// Each call is a run of its own: a run's HTTP calls are capped.
	call := func(path, place string) (tools.ScriptHTTPResult, error) {
		var src tools.ScriptSource
		if err := c.Call(ctx, tools.RuntimeScriptSource, tools.ScriptSourceArgs{TaskID: task.ID, Name: "api"}, &src); err != nil {
			t.Fatal(err)
		}
		a := tools.ScriptHTTPArgs{TaskID: task.ID, RunID: src.RunID, Method: "POST", URL: api.URL + path}
		places[place](&a, src.Placeholder+"API_KEY__")
		var res tools.ScriptHTTPResult
		err := c.Call(ctx, tools.RuntimeScriptHTTP, a, &res)
		return res, err
	}

	cases := 0
	for _, code := range []int{301, 302, 303, 307, 308} {
		for target, base := range targets {
			for place := range places {
				name := fmt.Sprintf("%d-%s-%s", code, target, place)
				res, err := call(fmt.Sprintf("/to/%d/%s/%s", code, target, name), place)
				cases++
				if err != nil {
					t.Errorf("%s: %v; want the %d itself", name, err, code)
					continue
				}
				if res.Status != code || !strings.HasPrefix(res.Headers["location"], base+"/"+name) {
					t.Errorf("%s: status %d, location %q; want %d to %s", name, res.Status, res.Headers["location"], code, base)
				}
				if strings.Contains(res.Headers["location"], secret) {
					t.Errorf("%s: the Location reached the script unredacted", name)
				}
			}
		}
	}
	mu.Lock()
	if len(evilHits) != 0 {
		t.Errorf("the host outside the grant received requests: %v", evilHits)
	}
	mu.Unlock()

	// A redirect that stays on the granted host and port is followed, and
	// the secret goes with it (307/308 keep the body, 301-303 turn the POST
	// into a GET without one, as browsers do).
	for _, code := range []int{302, 307} {
		for place := range places {
			res, err := call(fmt.Sprintf("/in/%d", code), place)
			if err != nil || res.Status != 200 || res.Body != "fine" {
				t.Errorf("%d in grant, secret in %s: %+v %v", code, place, res, err)
			}
		}
	}
	mu.Lock()
	carried := 0
	for _, g := range grantedGot {
		if strings.Contains(g, secret) {
			carried++
		}
	}
	mu.Unlock()
	if carried != 5 { // all but the 302 body, dropped with the POST
		t.Errorf("the granted host got the secret %d times after an in-grant redirect; want 5", carried)
	}

	// The audit entries name every host contacted and the one not followed.
	entries, err := h.audit.List(ctx, audit.Filter{Action: "script.http", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	apiHost := strings.TrimPrefix(api.URL, "http://")
	var notFollowed, followed int
	for _, e := range entries {
		var d struct {
			Hosts       []string `json:"hosts"`
			NotFollowed string   `json:"redirect_not_followed"`
		}
		if err := json.Unmarshal(e.Details, &d); err != nil {
			t.Fatal(err)
		}
		switch {
		case d.NotFollowed != "":
			notFollowed++
			if len(d.Hosts) != 1 || d.Hosts[0] != apiHost || !strings.HasSuffix(d.NotFollowed, ":"+evilPort) {
				t.Errorf("audit of a refused redirect: hosts %v, not followed %q", d.Hosts, d.NotFollowed)
			}
		case len(d.Hosts) == 2 && d.Hosts[0] == apiHost && d.Hosts[1] == apiHost:
			followed++
		}
	}
	if notFollowed != cases || followed != 6 {
		t.Errorf("audit: %d refused redirects, %d followed ones; want %d and 6", notFollowed, followed, cases)
	}

	var ok tools.CompleteTaskResult
	c.Call(ctx, tools.RuntimeCompleteTask, tools.CompleteTaskArgs{TaskID: task.ID, Text: "done"}, &ok)
	<-reply
}
