package sandbox

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// MaxSourceBytes caps a script's source.
const MaxSourceBytes = 64 << 10

// Predeclared are the names a script may use beyond Starlark's universe.
var Predeclared = []string{"json", "time", "math", "struct", "http", "secret"}

// fileOptions is the dialect: every optional feature off (no while, no
// set, no global reassignment, no recursion), except if/for at top level.
// load is refused separately: no loader exists, and Check rejects it.
func fileOptions() *syntax.FileOptions {
	return &syntax.FileOptions{TopLevelControl: true}
}

// Function describes a top-level function of a script.
type Function struct {
	Name   string
	Params []string
}

// Info is what Check learns about a script.
type Info struct {
	Functions []Function
}

// Check compiles src with the sandbox's dialect without running any of
// it, and lists its top-level functions. Errors carry line numbers.
func Check(filename, src string) (Info, error) {
	f, _, err := compile(filename, src)
	if err != nil {
		return Info{}, err
	}
	var info Info
	for _, st := range f.Stmts {
		if def, ok := st.(*syntax.DefStmt); ok {
			info.Functions = append(info.Functions, Function{Name: def.Name.Name, Params: params(def)})
		}
	}
	return info, nil
}

// compile parses, checks and compiles src in the dialect; Check and the
// child share it, so a script that passes Check compiles the same way.
func compile(filename, src string) (*syntax.File, *starlark.Program, error) {
	if len(src) > MaxSourceBytes {
		return nil, nil, fmt.Errorf("script is larger than %d bytes", MaxSourceBytes)
	}
	f, err := fileOptions().Parse(filename, src, 0)
	if err != nil {
		return nil, nil, err
	}
	if err := forbidden(f); err != nil {
		return nil, nil, err
	}
	prog, err := starlark.FileProgram(f, isPredeclared)
	if err != nil {
		return nil, nil, err
	}
	return f, prog, nil
}

func isPredeclared(name string) bool { return slices.Contains(Predeclared, name) }

// forbidden rejects load statements and direct recursion at compile time.
// (Indirect recursion is stopped at run time by the dialect.)
func forbidden(f *syntax.File) error {
	var errs []error
	syntax.Walk(f, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.LoadStmt:
			line, _ := n.Span()
			errs = append(errs, fmt.Errorf("%s: load is not allowed", line))
		case *syntax.DefStmt:
			name := n.Name.Name
			syntax.Walk(n, func(m syntax.Node) bool {
				if call, ok := m.(*syntax.CallExpr); ok {
					if id, ok := call.Fn.(*syntax.Ident); ok && id.Name == name {
						pos, _ := call.Span()
						errs = append(errs, fmt.Errorf("%s: function %s calls itself; recursion is not allowed", pos, name))
					}
				}
				return true
			})
		}
		return true
	})
	return errors.Join(errs...)
}

func params(def *syntax.DefStmt) []string {
	var out []string
	for _, p := range def.Params {
		switch p := p.(type) {
		case *syntax.Ident:
			out = append(out, p.Name)
		case *syntax.BinaryExpr: // name=default
			if id, ok := p.X.(*syntax.Ident); ok {
				out = append(out, id.Name+"=")
			}
		case *syntax.UnaryExpr: // *args, **kwargs
			if id, ok := p.X.(*syntax.Ident); ok {
				out = append(out, strings.Repeat("*", starCount(p.Op))+id.Name)
			}
		}
	}
	return out
}

func starCount(op syntax.Token) int {
	if op == syntax.STARSTAR {
		return 2
	}
	return 1
}
