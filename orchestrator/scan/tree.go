package scan

import (
	"strings"

	"go.starlark.net/resolve"
	"go.starlark.net/syntax"
)

// parse parses src with every dialect option on (the scan reads any
// Starlark; the sandbox's Check enforces the dialect) and resolves its
// names, or returns nil when src does not parse. Every free name counts as
// predeclared, so resolution never stops at an unknown one.
func parse(src string) *syntax.File {
	opts := &syntax.FileOptions{Set: true, While: true, TopLevelControl: true, GlobalReassign: true, Recursion: true}
	f, err := opts.Parse("script.star", src, 0)
	if err != nil {
		return nil
	}
	// Errors leave the affected names unbound: they just resolve to nothing.
	_ = resolve.File(f, func(string) bool { return true }, func(string) bool { return false })
	return f
}

// tree runs the checks that need the syntax tree.
func (sc *scanner) tree(f *syntax.File) {
	t := &walker{sc: sc, consts: constants(f), callees: map[*syntax.Ident]bool{}}
	syntax.Walk(f, t.literal)
	syntax.Walk(f, t.call)
	syntax.Walk(f, t.ident)
}

// walker holds what the tree checks share.
type walker struct {
	sc      *scanner
	consts  map[*resolve.Binding]syntax.Expr
	callees map[*syntax.Ident]bool // the secret identifiers that are called
}

// constants maps each global assigned exactly once, by a top-level
// "NAME = expr", to its expression.
func constants(f *syntax.File) map[*resolve.Binding]syntax.Expr {
	count := map[*resolve.Binding]int{}
	bind := func(e syntax.Expr) {
		for _, id := range boundIdents(e) {
			if b, ok := id.Binding.(*resolve.Binding); ok {
				count[b]++
			}
		}
	}
	syntax.Walk(f, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.AssignStmt:
			bind(n.LHS)
		case *syntax.ForStmt:
			bind(n.Vars)
		case *syntax.ForClause:
			bind(n.Vars)
		case *syntax.DefStmt:
			bind(n.Name)
		}
		return true
	})
	out := map[*resolve.Binding]syntax.Expr{}
	for _, st := range f.Stmts {
		as, ok := st.(*syntax.AssignStmt)
		if !ok || as.Op != syntax.EQ {
			continue
		}
		if id, ok := as.LHS.(*syntax.Ident); ok {
			if b, ok := id.Binding.(*resolve.Binding); ok && b.Scope == resolve.Global && count[b] == 1 {
				out[b] = as.RHS
			}
		}
	}
	return out
}

// boundIdents returns the names an assignment target binds.
func boundIdents(e syntax.Expr) []*syntax.Ident {
	switch e := e.(type) {
	case *syntax.Ident:
		return []*syntax.Ident{e}
	case *syntax.ParenExpr:
		return boundIdents(e.X)
	case *syntax.TupleExpr:
		return listIdents(e.List)
	case *syntax.ListExpr:
		return listIdents(e.List)
	}
	return nil
}

func listIdents(es []syntax.Expr) []*syntax.Ident {
	var out []*syntax.Ident
	for _, e := range es {
		out = append(out, boundIdents(e)...)
	}
	return out
}

// literal checks string literals; a sum of literals ("https://" + "x.io/")
// is checked as one string.
func (t *walker) literal(n syntax.Node) bool {
	switch n := n.(type) {
	case *syntax.BinaryExpr:
		if s, ok := foldLiterals(n); ok {
			t.sc.checkString(line(n), s, false)
			return false
		}
	case *syntax.Literal:
		if s, ok := n.Value.(string); ok {
			t.sc.checkString(line(n), s, strings.Contains(n.Raw, "\n"))
		}
	}
	return true
}

// foldLiterals returns the value of a sum made only of string literals.
func foldLiterals(e syntax.Expr) (string, bool) {
	switch e := e.(type) {
	case *syntax.Literal:
		s, ok := e.Value.(string)
		return s, ok && e.Token == syntax.STRING
	case *syntax.ParenExpr:
		return foldLiterals(e.X)
	case *syntax.BinaryExpr:
		if e.Op != syntax.PLUS {
			return "", false
		}
		x, ok := foldLiterals(e.X)
		if !ok {
			return "", false
		}
		y, ok := foldLiterals(e.Y)
		return x + y, ok
	}
	return "", false
}

// checkString runs the text checks on a string's value. multiline says
// that its lines are lines of the source (a triple-quoted literal).
func (sc *scanner) checkString(first int, s string, multiline bool) {
	lines := strings.Split(s, "\n")
	block := make([]segment, len(lines))
	for i, l := range lines {
		ln := first
		if multiline {
			ln += i
		}
		block[i] = segment{line: ln, text: l}
		sc.checkURLs(ln, l)
		sc.blobs(ln, l, "a string")
	}
	sc.phrases(block, "a string")
	if multiline {
		sc.multilineBlob(first, lines, "a string")
	}
}

// ident reports identifiers that are not plain ASCII (a Cyrillic "а" can
// make two names look alike) and uses of secret other than a call.
func (t *walker) ident(n syntax.Node) bool {
	id, ok := n.(*syntax.Ident)
	if !ok {
		return true
	}
	for _, r := range id.Name {
		if r > 0x7f {
			t.sc.add(line(id), SeverityWarning, RuleConfusableIdentifier,
				"identifier %s has non-ASCII letters that can look like other names", quote(id.Name))
			break
		}
	}
	if id.Name == "secret" && !t.callees[id] {
		t.sc.dynamicSecret = true
		t.sc.add(line(id), SeverityWarning, RuleUndeclaredSecret,
			"secret is used other than in a direct call; the secret names it is used with cannot be checked")
	}
	return true
}

func line(n syntax.Node) int {
	start, _ := n.Span()
	return int(start.Line)
}
