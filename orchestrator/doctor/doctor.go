package doctor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/airlockhq/airlock/orchestrator/config"
	"github.com/airlockhq/airlock/orchestrator/settings"
	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/orchestrator/worker"
)

// Status is a check's result.
type Status string

// Statuses, best first.
const (
	Pass    Status = "pass"
	Skipped Status = "skipped"
	Warn    Status = "warn"
	Fail    Status = "fail"
)

// Severity is how much a failing check matters.
type Severity string

// Severities, gravest first. A warning of severity Info is a note: it is
// shown, but does not change the exit status.
const (
	Critical Severity = "critical"
	High     Severity = "high"
	Medium   Severity = "medium"
	Low      Severity = "low"
	Info     Severity = "info"
)

// Result is one check's outcome; the JSON shape is SPEC 11's.
type Result struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	Severity Severity `json:"severity"`
	Status   Status   `json:"status"`
	Evidence string   `json:"evidence"`
	Fix      string   `json:"fix"`
}

// Report is every check's result, in the order they ran.
type Report struct {
	Checks []Result `json:"checks"`
}

// ExitCode is the command's exit status: 2 with a failure, 1 with a
// warning (notes of severity Info aside), 0 otherwise.
func (r Report) ExitCode() int {
	code := 0
	for _, c := range r.Checks {
		switch {
		case c.Status == Fail && c.Severity != Info:
			return 2
		case c.Status == Fail || (c.Status == Warn && c.Severity != Info):
			code = 1
		}
	}
	return code
}

// Worst returns the results worst first: failures, then warnings, then
// skipped checks, then passes; within each, by severity; ties by ID.
func (r Report) Worst() []Result {
	out := slices.Clone(r.Checks)
	slices.SortStableFunc(out, func(a, b Result) int {
		return cmp.Or(cmp.Compare(statusRank(b.Status), statusRank(a.Status)),
			cmp.Compare(severityRank(b.Severity), severityRank(a.Severity)), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// Counts returns how many checks have each status.
func (r Report) Counts() map[Status]int {
	m := map[Status]int{}
	for _, c := range r.Checks {
		m[c.Status]++
	}
	return m
}

// Find returns the result of the check id.
func (r Report) Find(id string) (Result, bool) {
	for _, c := range r.Checks {
		if c.ID == id {
			return c, true
		}
	}
	return Result{}, false
}

func statusRank(s Status) int {
	return map[Status]int{Pass: 0, Skipped: 1, Warn: 2, Fail: 3}[s]
}

func severityRank(s Severity) int {
	return map[Severity]int{Info: 0, Low: 1, Medium: 2, High: 3, Critical: 4}[s]
}

// WriteText writes the report for a terminal: worst first, one block per
// check that did not pass, one line per check that did, then a summary.
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, c := range r.Worst() {
		fmt.Fprintf(&b, "%-7s %-8s %-28s %s\n", strings.ToUpper(string(c.Status)), c.Severity, c.ID, c.Title)
		if c.Evidence != "" {
			fmt.Fprintf(&b, "        saw: %s\n", c.Evidence)
		}
		if c.Status == Warn || c.Status == Fail {
			fmt.Fprintf(&b, "        fix: %s\n", c.Fix)
		}
	}
	n := r.Counts()
	fmt.Fprintf(&b, "\n%d checks: %d pass, %d warn, %d fail, %d skipped. See docs/doctor.md.\n",
		len(r.Checks), n[Pass], n[Warn], n[Fail], n[Skipped])
	_, err := io.WriteString(w, b.String())
	return err
}

// Live is what the running orchestrator knows of itself and its worker.
type Live struct {
	// OrchestratorPID is the running orchestrator's process; 0: this one.
	OrchestratorPID int `json:"orchestrator_pid"`
	// WorkerPID is the worker's process as the socket's peer credentials
	// gave it; 0 when no worker has connected.
	WorkerPID int `json:"worker_pid"`
	// WorkerConfinement is what the orchestrator knows of the worker's
	// seccomp and Landlock (its report and the kernel's view).
	WorkerConfinement worker.Confinement `json:"worker_confinement"`
	// LandlockFiles and LandlockABI are the orchestrator's own Landlock.
	LandlockFiles bool     `json:"landlock_files"`
	LandlockABI   int      `json:"landlock_abi"`
	LandlockNotes []string `json:"landlock_notes,omitempty"`
	// Running is false when no running orchestrator was found (the
	// command run while the service is down).
	Running bool `json:"-"`
}

// Probes are the live probes of Deep; a nil probe is skipped.
type Probes struct {
	// Egress fetches rawURL through the egress guard as the AI's requests
	// go; it must fail with egress.ErrRefused.
	Egress func(ctx context.Context, rawURL string) error
	// Model sends the configured model one tiny request under today's
	// budget and records its usage, so that it is counted (ModelProbe
	// says whether it was). An error matching ErrNotSent means the
	// request was not sent (the budget is used up or cannot be checked).
	Model func(ctx context.Context) (ModelProbe, error)
	// Discord checks the bot token with Discord (GET /users/@me).
	Discord func(ctx context.Context) error
	// DiscordChannel looks up an allowlisted channel's server with the
	// bot's token (GET /channels/{id}, then GET /guilds/{id}?with_counts=true).
	DiscordChannel func(ctx context.Context, channelID string) (DiscordChannel, error)
}

// ModelProbe is how the model probe was accounted for.
type ModelProbe struct {
	// Counted is set when the call's usage row was recorded, so that it
	// counts in today's budgets like any other call.
	Counted bool
	// NotCounted says why it was not ("" when Counted).
	NotCounted string
}

// ErrNotSent is matched by a model probe's error when the request was not
// sent: today's budget is used up, or there is no database to check it.
var ErrNotSent = errors.New("the model probe was not sent")

// DiscordChannel is what Discord says of a channel's server. GuildID is
// empty for a channel outside any server (a DM or group DM).
type DiscordChannel struct {
	GuildID, GuildName string
	// Features are the server's features (COMMUNITY, DISCOVERABLE, ...).
	Features []string
	// Members is the approximate member count; 0: unknown.
	Members int
}

// Env is everything the checks look at.
type Env struct {
	Config   config.Config
	Settings settings.Settings
	// Getenv reads the orchestrator's environment.
	Getenv func(string) string
	// ProcRoot is /proc; CgroupRoot is /sys/fs/cgroup.
	ProcRoot, CgroupRoot string
	// Store is the database, read only; nil skips the checks that need it.
	// StoreErr says why it could not be opened (nil: it does not exist).
	Store    *store.Store
	StoreErr error
	// Live is the running orchestrator's view.
	Live Live
	// SecretsSet says whether the Discord token and LLM key are set (in
	// the vault or the environment).
	DiscordToken, LLMKey bool
	// DiskFree reports the free and total bytes of the filesystem of path.
	DiskFree func(path string) (free, total uint64, err error)
	Now      func() time.Time
	Deep     bool
	Probes   Probes
}

// check is one check: its fixed parts and the function that decides.
type check struct {
	id, title string
	severity  Severity
	fix       string
	run       func(ctx context.Context, e *Env) (Status, string)
}

// Run runs every check (the deep ones only with e.Deep) and returns the
// report. A check that panics fails with that said; the others still run.
func Run(ctx context.Context, e Env) Report {
	e.defaults()
	var rep Report
	for _, c := range all() {
		st, ev := runOne(ctx, &e, c)
		ev = printable(ev)
		rep.Checks = append(rep.Checks, Result{ID: c.id, Title: c.title, Severity: c.severity, Status: st,
			Evidence: ev, Fix: c.fix})
	}
	return rep
}

// printable replaces control characters: evidence may quote what the
// worker reported (untrusted), and is printed to a terminal.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

func runOne(ctx context.Context, e *Env, c check) (st Status, ev string) {
	defer func() {
		if r := recover(); r != nil {
			st, ev = Fail, "the check itself failed; see the orchestrator's log"
		}
	}()
	return c.run(ctx, e)
}

func (e *Env) defaults() {
	if e.ProcRoot == "" {
		e.ProcRoot = "/proc"
	}
	if e.CgroupRoot == "" {
		e.CgroupRoot = "/sys/fs/cgroup"
	}
	if e.Getenv == nil {
		e.Getenv = func(string) string { return "" }
	}
	if e.Now == nil {
		e.Now = time.Now
	}
}

// all is every check, in the order they run and docs/doctor.md lists them.
func all() []check {
	var cs []check
	for _, group := range [][]check{processChecks(), workerChecks(), fileChecks(), secretChecks(), exposureChecks(),
		setupChecks(), aiChecks(), scriptChecks(), discordChecks(), dataChecks(), deepChecks()} {
		cs = append(cs, group...)
	}
	return cs
}

// IDs lists every check's ID, for docs and tests.
func IDs() []string {
	var ids []string
	for _, c := range all() {
		ids = append(ids, c.id)
	}
	return ids
}

// skipDev is the evidence of a check that does not apply in dev mode.
const skipDev = "dev mode: the orchestrator and the worker run as the current user, outside the container"

// okf and friends format a status with its evidence.
func okf(format string, args ...any) (Status, string)   { return Pass, fmt.Sprintf(format, args...) }
func warnf(format string, args ...any) (Status, string) { return Warn, fmt.Sprintf(format, args...) }
func failf(format string, args ...any) (Status, string) { return Fail, fmt.Sprintf(format, args...) }
func skipf(format string, args ...any) (Status, string) { return Skipped, fmt.Sprintf(format, args...) }

// listed joins at most five items, saying how many more there are.
func listed(items []string) string {
	if len(items) <= 5 {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:5], ", ") + fmt.Sprintf(" and %d more", len(items)-5)
}

// Catalog lists every check's fixed parts (ID, title, severity, fix), in
// order, without running anything: for docs/doctor.md and its test.
func Catalog() []Result {
	var out []Result
	for _, c := range all() {
		out = append(out, Result{ID: c.id, Title: c.title, Severity: c.severity, Fix: c.fix})
	}
	return out
}
