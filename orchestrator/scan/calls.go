package scan

import (
	"strings"

	"go.starlark.net/resolve"
	"go.starlark.net/syntax"
)

// urlArg is the position of the URL among an http function's arguments.
var urlArg = map[string]int{"get": 0, "post": 0, "request": 1}

// maxResolve bounds how deep constants are followed.
const maxResolve = 8

// call checks calls of secret and of the http functions.
func (t *walker) call(n syntax.Node) bool {
	c, ok := n.(*syntax.CallExpr)
	if !ok {
		return true
	}
	switch fn := c.Fn.(type) {
	case *syntax.Ident:
		if fn.Name == "secret" {
			t.callees[fn] = true
			t.secretCall(c)
		}
	case *syntax.DotExpr:
		x, ok := fn.X.(*syntax.Ident)
		if pos, isHTTP := urlArg[fn.Name.Name]; ok && isHTTP && x.Name == "http" {
			if u := argument(c, pos, "url"); u != nil {
				t.checkURLExpr(line(c), u)
			}
		}
	}
	return true
}

// argument returns the pos'th positional argument of c, or its keyword
// argument name, or nil.
func argument(c *syntax.CallExpr, pos int, name string) syntax.Expr {
	i := 0
	for _, a := range c.Args {
		if b, ok := a.(*syntax.BinaryExpr); ok && b.Op == syntax.EQ {
			if id, ok := b.X.(*syntax.Ident); ok && id.Name == name {
				return b.Y
			}
			continue
		}
		if u, ok := a.(*syntax.UnaryExpr); ok && (u.Op == syntax.STAR || u.Op == syntax.STARSTAR) {
			return nil // *args: positions unknown
		}
		if i == pos {
			return a
		}
		i++
	}
	return nil
}

func (t *walker) secretCall(c *syntax.CallExpr) {
	arg := argument(c, 0, "name")
	if arg == nil {
		return
	}
	name, ok := t.constString(arg)
	if !ok {
		t.sc.dynamicSecret = true
		t.sc.add(line(c), SeverityWarning, RuleUndeclaredSecret,
			"secret name is computed at run time and cannot be checked; only granted secrets are ever substituted")
		return
	}
	t.sc.usedSecrets[name] = true
	if !t.sc.secrets[name] {
		t.sc.add(line(c), SeverityHigh, RuleUndeclaredSecret,
			"secret %s is used but not declared in # @secrets; the call will fail", quote(name))
	}
}

// part is a piece of a string expression: known text, a secret, or
// something known only at run time.
type part struct {
	text   string
	secret bool
	known  bool
}

// flatten splits a string expression into parts, following constants.
func (t *walker) flatten(e syntax.Expr, depth int) []part {
	unknown := []part{{}}
	switch e := e.(type) {
	case *syntax.ParenExpr:
		return t.flatten(e.X, depth)
	case *syntax.Literal:
		if s, ok := e.Value.(string); ok && e.Token == syntax.STRING {
			return []part{{text: s, known: true}}
		}
	case *syntax.Ident:
		if b, ok := e.Binding.(*resolve.Binding); ok && t.consts[b] != nil && depth < maxResolve {
			return t.flatten(t.consts[b], depth+1)
		}
	case *syntax.BinaryExpr:
		switch e.Op {
		case syntax.PLUS:
			return append(t.flatten(e.X, depth), t.flatten(e.Y, depth)...)
		case syntax.PERCENT: // "https://host/%s" % x: known up to the first %
			if s, ok := t.constString(e.X); ok {
				before, _, _ := strings.Cut(s, "%")
				return []part{{text: before, known: true}, {}}
			}
		}
	case *syntax.CallExpr:
		if id, ok := e.Fn.(*syntax.Ident); ok && id.Name == "secret" {
			return []part{{secret: true}}
		}
		if dot, ok := e.Fn.(*syntax.DotExpr); ok && dot.Name.Name == "format" {
			if s, ok := t.constString(dot.X); ok {
				before, _, _ := strings.Cut(s, "{")
				return []part{{text: before, known: true}, {}}
			}
		}
	}
	return unknown
}

// constString returns the value of a string expression known statically.
func (t *walker) constString(e syntax.Expr) (string, bool) {
	var b strings.Builder
	for _, p := range t.flatten(e, 0) {
		if !p.known {
			return "", false
		}
		b.WriteString(p.text)
	}
	return b.String(), true
}

// checkURLExpr checks the URL argument of an http call: its host when it
// can be known statically, else a warning that it cannot.
func (t *walker) checkURLExpr(ln int, e syntax.Expr) {
	var prefix strings.Builder
	complete := true
	for _, p := range t.flatten(e, 0) {
		if p.secret && !hostTerminated(prefix.String()) {
			t.sc.add(ln, SeverityWarning, RuleSecretInHost, "a secret makes up the host of this URL (or all of it): "+
				"the host cannot be checked, and the orchestrator refuses secrets in host names")
			return
		}
		if !p.known {
			complete = false
			break
		}
		prefix.WriteString(p.text)
	}
	u := prefix.String()
	if !complete && !hostTerminated(u) {
		t.sc.dynamicHost = true
		t.sc.add(ln, SeverityWarning, RuleUndeclaredHost,
			"host cannot be checked statically; the orchestrator still enforces the granted hosts")
		return
	}
	if h, ok := urlHost(u); ok && !t.sc.literalHosts[h] {
		t.sc.checkHost(ln, h)
	}
}

// unusedGrants reports granted secrets and hosts the script never uses,
// when every use could be seen.
func (sc *scanner) unusedGrants() {
	if !sc.dynamicSecret {
		for name := range sc.secrets {
			if !sc.usedSecrets[name] {
				sc.add(0, SeverityInfo, RuleUnusedGrant, "secret %s is declared in # @secrets but never used", name)
			}
		}
	}
	if !sc.dynamicHost {
		for _, h := range sc.hosts {
			if !sc.usedHosts[h] {
				sc.add(0, SeverityInfo, RuleUnusedGrant, "host %s is declared in # @hosts but never used", h)
			}
		}
	}
}
