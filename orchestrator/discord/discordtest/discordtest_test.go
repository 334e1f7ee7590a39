package discordtest

import (
	"go/parser"
	"go/token"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The fake is used by tests of other packages and by end-to-end harnesses;
// it must not depend on package testing.
func TestNoTestingImport(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == "testing" {
				t.Errorf("%s imports testing", f)
			}
		}
	}
}

func TestRESTRefusesWrongToken(t *testing.T) {
	s, err := New(Options{Token: "right"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := s.Client()
	for _, auth := range []string{"", "Bot wrong", "right"} {
		req, _ := http.NewRequest("GET", "https://discord.com/api/v10/gateway", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("Authorization %q: status %d, want 401", auth, resp.StatusCode)
		}
	}
	reqs := s.Requests()
	if len(reqs) != 3 || reqs[0].Host != "discord.com" || reqs[1].Authorization != "Bot wrong" {
		t.Errorf("recorded %+v", reqs)
	}
}
