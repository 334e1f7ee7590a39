package main

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// TestEveryPackageHasDoc fails when a package of the module has no doc
// comment: each one says what it is for, and security packages state
// their invariants.
func TestEveryPackageHasDoc(t *testing.T) {
	out, err := exec.Command("go", "list", "-json=ImportPath,Doc,Name", "github.com/airlockhq/airlock/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	n := 0
	for dec.More() {
		var p struct{ ImportPath, Doc, Name string }
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		n++
		if strings.TrimSpace(p.Doc) == "" {
			t.Errorf("package %s has no doc comment", p.ImportPath)
		}
	}
	if n < 15 {
		t.Fatalf("go list found only %d packages", n)
	}
}
