package doctor

import (
	"os"
	"strings"
	"testing"
)

// docs/doctor.md has a section for every check, with its fix and what it
// protects; a check added without docs fails here.
func TestDocsListEveryCheck(t *testing.T) {
	b, err := os.ReadFile("../../docs/doctor.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, c := range Catalog() {
		i := strings.Index(doc, "\n### "+c.ID+"\n")
		if i < 0 {
			t.Errorf("docs/doctor.md has no section for %s", c.ID)
			continue
		}
		sec := doc[i+1:]
		if j := strings.Index(sec[4:], "\n### "); j >= 0 {
			sec = sec[:j+4]
		}
		if !strings.Contains(sec, "Protects: ") || !strings.Contains(sec, c.Fix) {
			t.Errorf("the section of %s lacks what it protects or its fix:\n%s", c.ID, sec)
		}
	}
}
