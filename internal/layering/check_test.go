package layering

import (
	"fmt"
	"slices"
	"strings"
)

// pkg is one package of the graph, as go list -json describes it.
type pkg struct {
	ImportPath string
	Standard   bool
	Imports    []string // direct, non-test
	Deps       []string // everything linked, non-test
}

// graph is a package graph by import path.
type graph map[string]pkg

// rule is one dependency rule: check returns what breaks it, and subjects
// the patterns of the packages it is about (each must match one, or the
// rule checks nothing).
type rule interface {
	check(g graph) []string
	subjects() []string
}

// mayImport: every package matching from imports only packages matching
// may and not except; with linked, every package it links, not only its
// direct imports.
type mayImport struct {
	why    string
	from   []string
	linked bool
	may    []string
	except []string
}

func (r mayImport) subjects() []string { return r.from }

func (r mayImport) check(g graph) []string {
	var out []string
	for _, p := range g.sorted() {
		if !matchAny(g, r.from, p.ImportPath) {
			continue
		}
		deps := p.Imports
		if r.linked {
			deps = p.Deps
		}
		for _, d := range deps {
			if !matchAny(g, r.may, d) || matchAny(g, r.except, d) {
				out = append(out, fmt.Sprintf("%s imports %s: %s", p.ImportPath, d, r.why))
			}
		}
	}
	return out
}

// onlyImportedBy: the packages matching pkg are imported only by packages
// matching by, and by each other.
type onlyImportedBy struct {
	why string
	pkg []string
	by  []string
}

func (r onlyImportedBy) subjects() []string { return r.pkg }

func (r onlyImportedBy) check(g graph) []string {
	var out []string
	for _, p := range g.sorted() {
		if matchAny(g, r.by, p.ImportPath) || matchAny(g, r.pkg, p.ImportPath) {
			continue
		}
		for _, d := range p.Imports {
			if matchAny(g, r.pkg, d) {
				out = append(out, fmt.Sprintf("%s imports %s: %s", p.ImportPath, d, r.why))
			}
		}
	}
	return out
}

// sorted returns the packages of this module, by import path.
func (g graph) sorted() []pkg {
	var out []pkg
	for path, p := range g {
		if inModule(path) {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b pkg) int { return strings.Compare(a.ImportPath, b.ImportPath) })
	return out
}

func inModule(path string) bool { return strings.HasPrefix(path+"/", m) }

func matchAny(g graph, patterns []string, path string) bool {
	return slices.ContainsFunc(patterns, func(pat string) bool { return match(g, pat, path) })
}

// match reports whether path matches pat: a keyword, an import path, or
// one ending in "/..." for a tree of them.
func match(g graph, pat, path string) bool {
	switch pat {
	case Std:
		return g[path].Standard
	case ThirdParty:
		return !g[path].Standard && !inModule(path)
	}
	if tree, ok := strings.CutSuffix(pat, "/..."); ok {
		return path == tree || strings.HasPrefix(path, tree+"/")
	}
	return path == pat
}
