package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ErrScriptStatus is returned by a script decision whose target version is
// not in a status that allows it (rejecting a version that is not pending,
// approving the version that already is approved).
var ErrScriptStatus = errors.New("script version is not in a status that allows this")

// ScriptVersion is one stored version of a script: its exact source, what
// approving it grants, the scan's findings and the last decision on it.
type ScriptVersion struct {
	Name        string
	SHA256      string // hex sha256 of Source's bytes
	Source      string
	Description string
	Grants      Grants
	Findings    []Finding
	Status      string // ScriptPending, ScriptApproved, ...
	Proposer    string
	CreatedAt   time.Time
	DecidedAt   time.Time // zero while undecided
	DecidedBy   string
	Reason      string
}

// Script version statuses, as stored.
const (
	ScriptPending    = "pending"
	ScriptApproved   = "approved"
	ScriptRejected   = "rejected"
	ScriptSuperseded = "superseded"
	ScriptRevoked    = "revoked"
)

// Grants are what approving a script version allows. Its JSON form is what
// the grants column holds (pinned by testdata/grants.golden): change it
// only with a migration.
type Grants struct {
	Secrets   []string `json:"secrets"`
	Hosts     []string `json:"hosts"`
	TimeoutMS int64    `json:"timeout_ms"`
}

// Finding is one result of the static scan of a script version. A list of
// them is what the findings column holds (pinned by
// testdata/findings.golden): change it only with a migration.
type Finding struct {
	Severity string `json:"severity"`
	Line     int    `json:"line"`
	Rule     string `json:"rule"`
	Message  string `json:"message"`
}

// ScriptSummary is one script name with its approved version, if any, and
// its most recently proposed version (which may be the same one).
type ScriptSummary struct {
	Name     string
	Approved *ScriptVersion // nil when no version is approved
	Latest   ScriptVersion
}

// ScriptDecision is an admin's decision on a script version. At zero means
// now.
type ScriptDecision struct {
	Name, SHA256 string
	By, Reason   string
	At           time.Time
}

const scriptColumns = "name, sha256, source, description, grants, findings, status, proposer," +
	" created_at, decided_at, decided_by, reason"

// scriptOrder lists versions newest first; rowid breaks ties of equal times.
const scriptOrder = " ORDER BY created_at DESC, rowid DESC"

// InsertScriptVersion stores v as a pending version and returns the stored
// row and true. It is idempotent on (Name, SHA256): when that version
// exists already, it stores nothing and returns the existing row, with its
// status, and false. v.Status and the decision fields are ignored; a zero
// v.CreatedAt means now. It applies no cap on pending versions; see
// InsertPendingVersion.
func (s *Store) InsertScriptVersion(ctx context.Context, v ScriptVersion) (ScriptVersion, bool, error) {
	return s.InsertPendingVersion(ctx, v, PendingCaps{})
}

// PendingCaps caps the versions awaiting review; zero means no cap.
type PendingCaps struct {
	PerScript int // pending versions of one name
	Total     int // pending versions of all names
}

// ErrPendingCap matches a *PendingCapError.
var ErrPendingCap = errors.New("too many script versions await review")

// PendingCapError is a new version refused by a PendingCaps cap.
type PendingCapError struct {
	Name    string // the script; "" when the total cap refused it
	Pending int    // versions pending (of Name, or in total)
	Cap     int
}

func (e *PendingCapError) Error() string {
	if e.Name != "" {
		return fmt.Sprintf("%d versions of %q await review, the cap is %d", e.Pending, e.Name, e.Cap)
	}
	return fmt.Sprintf("%d script versions await review, the cap is %d", e.Pending, e.Cap)
}

func (e *PendingCapError) Is(target error) bool { return target == ErrPendingCap }

// InsertPendingVersion is InsertScriptVersion with caps on the pending
// versions: a new version that would pass one is refused with a
// *PendingCapError, and nothing is stored. The count and the insert are
// one write transaction, so concurrent proposals cannot pass a cap
// together. Proposing an existing version is never refused.
func (s *Store) InsertPendingVersion(ctx context.Context, v ScriptVersion, caps PendingCaps) (ScriptVersion, bool, error) {
	if v.Name == "" || len(v.SHA256) != 64 {
		return ScriptVersion{}, false, fmt.Errorf("store: insert script version %q: missing name or sha256", v.Name)
	}
	grants, findings, err := encodeScriptJSON(v)
	if err != nil {
		return ScriptVersion{}, false, fmt.Errorf("store: insert script version %q: %w", v.Name, err)
	}
	if v.CreatedAt.IsZero() {
		v.CreatedAt = s.now()
	}
	var out ScriptVersion
	created := false
	const get = "SELECT " + scriptColumns + " FROM script_versions WHERE name = ? AND sha256 = ?"
	err = s.WriteTx(ctx, func(tx *sql.Tx) error {
		out, err = scanScript(tx.QueryRowContext(ctx, get, v.Name, v.SHA256))
		if !errors.Is(err, ErrNotFound) {
			return err // found (nil), or failed
		}
		if err := checkPendingCaps(ctx, tx, v.Name, caps); err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx, "INSERT INTO script_versions ("+scriptColumns+")"+
			" VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, 0, '', '')",
			v.Name, v.SHA256, v.Source, v.Description, grants, findings, v.Proposer, toDB(v.CreatedAt)); err != nil {
			return err
		}
		created = true
		out, err = scanScript(tx.QueryRowContext(ctx, get, v.Name, v.SHA256))
		return err
	})
	if err != nil {
		return ScriptVersion{}, false, fmt.Errorf("store: insert script version %q: %w", v.Name, err)
	}
	return out, created, nil
}

// checkPendingCaps refuses one more pending version of name when a cap is
// reached.
func checkPendingCaps(ctx context.Context, tx *sql.Tx, name string, caps PendingCaps) error {
	if caps.PerScript > 0 {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM script_versions WHERE name = ? AND status = 'pending'",
			name).Scan(&n); err != nil {
			return err
		}
		if n >= caps.PerScript {
			return &PendingCapError{Name: name, Pending: n, Cap: caps.PerScript}
		}
	}
	if caps.Total > 0 {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM script_versions WHERE status = 'pending'").Scan(&n); err != nil {
			return err
		}
		if n >= caps.Total {
			return &PendingCapError{Pending: n, Cap: caps.Total}
		}
	}
	return nil
}

func encodeScriptJSON(v ScriptVersion) (grants, findings string, err error) {
	if v.Grants.Secrets == nil {
		v.Grants.Secrets = []string{}
	}
	if v.Grants.Hosts == nil {
		v.Grants.Hosts = []string{}
	}
	if v.Findings == nil {
		v.Findings = []Finding{}
	}
	g, err := json.Marshal(v.Grants)
	if err != nil {
		return "", "", err
	}
	f, err := json.Marshal(v.Findings)
	return string(g), string(f), err
}

// GetScriptVersion returns one version, or an error matching ErrNotFound.
func (s *Store) GetScriptVersion(ctx context.Context, name, sha256 string) (ScriptVersion, error) {
	v, err := scanScript(s.reader.QueryRowContext(ctx,
		"SELECT "+scriptColumns+" FROM script_versions WHERE name = ? AND sha256 = ?", name, sha256))
	if err != nil {
		return ScriptVersion{}, fmt.Errorf("store: get script version %q: %w", name, err)
	}
	return v, nil
}

// ApprovedVersion returns the currently approved version of a script, or
// an error matching ErrNotFound. It is read by a statement of its own,
// hence from a snapshot taken when it runs: a decision committed before
// the call is always seen (WAL readers see every committed transaction,
// and nothing here caches rows).
func (s *Store) ApprovedVersion(ctx context.Context, name string) (ScriptVersion, error) {
	v, err := scanScript(s.reader.QueryRowContext(ctx,
		"SELECT "+scriptColumns+" FROM script_versions WHERE name = ? AND status = 'approved'", name))
	if err != nil {
		return ScriptVersion{}, fmt.Errorf("store: approved version of %q: %w", name, err)
	}
	return v, nil
}

// ListScriptVersions returns every version of a script, newest first; none
// is an empty list, not an error.
func (s *Store) ListScriptVersions(ctx context.Context, name string) ([]ScriptVersion, error) {
	rows, err := s.reader.QueryContext(ctx,
		"SELECT "+scriptColumns+" FROM script_versions WHERE name = ?"+scriptOrder, name)
	if err != nil {
		return nil, fmt.Errorf("store: list versions of %q: %w", name, err)
	}
	out, err := scanScripts(rows)
	if err != nil {
		return nil, fmt.Errorf("store: list versions of %q: %w", name, err)
	}
	return out, nil
}

// ListScripts returns every script name, in order, with its approved and
// latest versions, read from one snapshot.
func (s *Store) ListScripts(ctx context.Context) ([]ScriptSummary, error) {
	rows, err := s.reader.QueryContext(ctx, "SELECT "+scriptColumns+" FROM script_versions v"+
		" WHERE status = 'approved' OR rowid = (SELECT rowid FROM script_versions w WHERE w.name = v.name"+
		scriptOrder+" LIMIT 1) ORDER BY name, created_at DESC, rowid DESC")
	if err != nil {
		return nil, fmt.Errorf("store: list scripts: %w", err)
	}
	vs, err := scanScripts(rows)
	if err != nil {
		return nil, fmt.Errorf("store: list scripts: %w", err)
	}
	return summarize(vs), nil
}

// summarize groups ListScripts' rows (by name, newest first; per name the
// latest version and the approved one, possibly the same row).
func summarize(vs []ScriptVersion) []ScriptSummary {
	var out []ScriptSummary
	for i, v := range vs {
		if i == 0 || vs[i-1].Name != v.Name {
			out = append(out, ScriptSummary{Name: v.Name, Latest: v})
		}
		if v.Status == ScriptApproved {
			out[len(out)-1].Approved = &vs[i]
		}
	}
	return out
}

// scanScripts reads and closes rows of scriptColumns.
func scanScripts(rows *sql.Rows) ([]ScriptVersion, error) { return collect(rows, scanScript) }

// scanScript reads one row of scriptColumns; sql.ErrNoRows becomes
// ErrNotFound.
func scanScript(row scanner) (ScriptVersion, error) {
	var v ScriptVersion
	var grants, findings string
	var created, decided int64
	err := row.Scan(&v.Name, &v.SHA256, &v.Source, &v.Description, &grants, &findings, &v.Status,
		&v.Proposer, &created, &decided, &v.DecidedBy, &v.Reason)
	if err != nil {
		return ScriptVersion{}, errNoRows(err)
	}
	if err := json.Unmarshal([]byte(grants), &v.Grants); err != nil {
		return ScriptVersion{}, fmt.Errorf("decode grants: %w", err)
	}
	if err := json.Unmarshal([]byte(findings), &v.Findings); err != nil {
		return ScriptVersion{}, fmt.Errorf("decode findings: %w", err)
	}
	v.CreatedAt = fromDB(created)
	if decided != 0 {
		v.DecidedAt = fromDB(decided)
	}
	return v, nil
}

// ApproveScript approves d's version and returns the sha256 of the version
// it superseded ("" when none was approved), in one transaction: the
// previously approved version of the name becomes superseded. Any version
// but the approved one may be approved: a pending one, and also a rejected,
// superseded or revoked one (an admin rolling back or changing their mind
// decides on the same exact bytes). Approving the approved version gives
// ErrScriptStatus; an unknown version ErrNotFound.
func (s *Store) ApproveScript(ctx context.Context, d ScriptDecision) (superseded string, err error) {
	at := toDB(s.decisionTime(d))
	err = s.WriteTx(ctx, func(tx *sql.Tx) error {
		status, err := scriptStatus(ctx, tx, d.Name, d.SHA256)
		if err != nil {
			return err
		}
		if status == ScriptApproved {
			return ErrScriptStatus
		}
		err = tx.QueryRowContext(ctx,
			"SELECT sha256 FROM script_versions WHERE name = ? AND status = 'approved'", d.Name).Scan(&superseded)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if superseded != "" {
			if _, err := s.exec(ctx, tx, "UPDATE script_versions SET status = 'superseded', decided_at = ?,"+
				" decided_by = ?, reason = ? WHERE name = ? AND sha256 = ?",
				at, d.By, "superseded by "+d.SHA256, d.Name, superseded); err != nil {
				return err
			}
		}
		return s.setScriptStatus(ctx, tx, d, ScriptApproved, at)
	})
	if err != nil {
		return "", fmt.Errorf("store: approve script %q: %w", d.Name, err)
	}
	return superseded, nil
}

// RejectScript rejects d's version, which must be pending (else
// ErrScriptStatus; ErrNotFound when unknown).
func (s *Store) RejectScript(ctx context.Context, d ScriptDecision) error {
	at := toDB(s.decisionTime(d))
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		status, err := scriptStatus(ctx, tx, d.Name, d.SHA256)
		if err != nil {
			return err
		}
		if status != ScriptPending {
			return ErrScriptStatus
		}
		return s.setScriptStatus(ctx, tx, d, ScriptRejected, at)
	})
	if err != nil {
		return fmt.Errorf("store: reject script %q: %w", d.Name, err)
	}
	return nil
}

// RevokeScript revokes the approved version of d.Name (d.SHA256 is ignored)
// and returns its sha256, or ErrNotFound when no version is approved.
func (s *Store) RevokeScript(ctx context.Context, d ScriptDecision) (revoked string, err error) {
	at := toDB(s.decisionTime(d))
	err = s.WriteTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx,
			"SELECT sha256 FROM script_versions WHERE name = ? AND status = 'approved'", d.Name).Scan(&revoked)
		if err != nil {
			return errNoRows(err)
		}
		d.SHA256 = revoked
		return s.setScriptStatus(ctx, tx, d, ScriptRevoked, at)
	})
	if err != nil {
		return "", fmt.Errorf("store: revoke script %q: %w", d.Name, err)
	}
	return revoked, nil
}

func (s *Store) decisionTime(d ScriptDecision) time.Time {
	if d.At.IsZero() {
		return s.now()
	}
	return d.At
}

// scriptStatus returns a version's status, or ErrNotFound.
func scriptStatus(ctx context.Context, tx *sql.Tx, name, sha256 string) (string, error) {
	var status string
	err := tx.QueryRowContext(ctx,
		"SELECT status FROM script_versions WHERE name = ? AND sha256 = ?", name, sha256).Scan(&status)
	return status, errNoRows(err)
}

func (s *Store) setScriptStatus(ctx context.Context, tx *sql.Tx, d ScriptDecision, status string, at int64) error {
	res, err := s.exec(ctx, tx, "UPDATE script_versions SET status = ?, decided_at = ?, decided_by = ?, reason = ?"+
		" WHERE name = ? AND sha256 = ?", status, at, d.By, d.Reason, d.Name, d.SHA256)
	if err != nil {
		return err
	}
	return expectOneRow(res)
}
