package audit

import (
	"strings"
	"testing"
)

func TestVerifyDetectsTampering(t *testing.T) {
	tests := []struct {
		name    string
		tamper  func(e []Entry) []string // SQL to run on a log of 5 entries
		wantBad int64
		reason  string
	}{
		{"edit details", func([]Entry) []string {
			return []string{`UPDATE audit SET details = '{"n":99}' WHERE id = 3`}
		}, 3, "entry 3: hash mismatch (row edited)"},
		{"edit time", func([]Entry) []string {
			return []string{"UPDATE audit SET time = time + 1 WHERE id = 2"}
		}, 2, "entry 2: hash mismatch (row edited)"},
		{"edit last actor", func([]Entry) []string {
			return []string{"UPDATE audit SET actor = 'admin:mallory' WHERE id = 5"}
		}, 5, "entry 5: hash mismatch (row edited)"},
		{"delete middle", func([]Entry) []string {
			return []string{"DELETE FROM audit WHERE id = 3"}
		}, 4, "entry 4: previous-hash link broken (entry 3 before it deleted)"},
		{"delete first two", func([]Entry) []string {
			return []string{"DELETE FROM audit WHERE id <= 2"}
		}, 3, "entry 3: previous-hash link broken (entries 1 to 2 before it deleted)"},
		{"delete and relink", func(e []Entry) []string {
			return []string{"DELETE FROM audit WHERE id = 3",
				"UPDATE audit SET prev_hash = '" + e[1].Hash + "' WHERE id = 4"}
		}, 4, "entry 4: hash mismatch (row edited)"},
		{"delete and renumber", func([]Entry) []string {
			return []string{"DELETE FROM audit WHERE id = 3", "UPDATE audit SET id = id - 1 WHERE id > 3"}
		}, 3, "entry 3: hash mismatch (row edited)"},
		{"delete last", func([]Entry) []string {
			return []string{"DELETE FROM audit WHERE id = 5"}
		}, 5, "log ends at entry 4 but the head records entry 5 (entries deleted at the end)"},
		{"delete all", func([]Entry) []string {
			return []string{"DELETE FROM audit"}
		}, 1, "log ends at entry 0 but the head records entry 5"},
		{"forge head hash", func([]Entry) []string {
			return []string{"UPDATE audit_head SET last_hash = '" + strings.Repeat("ab", 32) + "'"}
		}, 5, "the head's hash does not match entry 5"},
		{"roll head back", func(e []Entry) []string {
			return []string{"UPDATE audit_head SET last_id = 4, last_hash = '" + e[3].Hash + "'"}
		}, 5, "log continues to entry 5 past the head at entry 4"},
		{"delete head", func([]Entry) []string {
			return []string{"DELETE FROM audit_head"}
		}, 0, "the audit head is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, path := newTestLog(t)
			entries := appendN(t, l, 5)
			db := rawDB(t, path)
			for _, q := range tt.tamper(entries) {
				if _, err := db.Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			rep := mustVerify(t, l)
			if rep.OK || rep.FirstBadID != tt.wantBad || !strings.HasPrefix(rep.Reason, tt.reason) {
				t.Errorf("Verify = %+v, want FirstBadID %d and reason %q", rep, tt.wantBad, tt.reason)
			}
		})
	}
}

func TestVerifyCountsGoodEntriesBeforeProblem(t *testing.T) {
	l, path := newTestLog(t)
	appendN(t, l, 6)
	if _, err := rawDB(t, path).Exec(`UPDATE audit SET target = 'x' WHERE id = 4`); err != nil {
		t.Fatal(err)
	}
	if rep := mustVerify(t, l); rep.Checked != 3 || rep.FirstBadID != 4 {
		t.Errorf("Verify = %+v, want 3 checked, entry 4 bad", rep)
	}
}
