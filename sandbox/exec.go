package sandbox

import (
	"errors"
	"fmt"
	"strings"

	"go.starlark.net/lib/json"
	"go.starlark.net/lib/math"
	"go.starlark.net/lib/time"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// run is one script execution inside the child.
type run struct {
	job       job
	link      *link
	out       printer
	httpCalls int
	memWall   uint64 // data size at which the script is stopped cleanly
	mem       statm
	stepsHit  bool
	memoryHit bool
}

// checkEvery is how many steps pass between memory checks.
const checkEvery = 10_000

// execute compiles and runs the job and returns the final message: the
// top level first, then the named function, if any.
func execute(j job, l *link, dataLimit uint64, mem statm) childMsg {
	filename := scriptFile(j.Name)
	_, prog, err := compile(filename, j.Source)
	if err != nil {
		return failure(KindCompile, err.Error())
	}
	r := &run{job: j, link: l, out: printer{max: j.Limits.MaxPrintBytes},
		memWall: dataLimit - min(dataLimit/2, uint64(j.Limits.MemoryBytes/16)), mem: mem}
	thread := &starlark.Thread{Name: filename, Print: r.out.print}
	thread.SetMaxExecutionSteps(min(checkEvery, j.Limits.MaxSteps))
	thread.OnMaxSteps = r.checkpoint
	globals, err := prog.Init(thread, r.predeclared())
	if err != nil {
		return r.failed(err, filename)
	}
	var v starlark.Value = starlark.None
	if j.Function == "" {
		if res, ok := globals["result"]; ok {
			v = res
		}
	} else if v, err = r.call(thread, globals); err != nil {
		return r.failed(err, filename)
	}
	raw, err := toJSON(v, j.Limits.MaxResultBytes)
	if err != nil {
		return failure(KindOutput, "the script's result "+err.Error())
	}
	return childMsg{Type: msgResult, Value: raw, Output: r.out.String(), Steps: thread.ExecutionSteps()}
}

// checkpoint runs every checkEvery steps: it enforces the step limit and
// stops a script whose data size nears RLIMIT_DATA with a clean error,
// before the Go runtime hits the wall (a single huge allocation still
// does; the parent reports that from the child's exit).
func (r *run) checkpoint(t *starlark.Thread) {
	switch {
	case t.Steps >= r.job.Limits.MaxSteps:
		r.stepsHit = true
		t.Cancel("too many steps")
	case r.mem.dataSize() >= r.memWall:
		r.memoryHit = true
		t.Cancel("out of memory")
	default:
		t.SetMaxExecutionSteps(min(t.Steps+checkEvery, r.job.Limits.MaxSteps))
	}
}

// call runs the entry function with the job's arguments.
func (r *run) call(thread *starlark.Thread, globals starlark.StringDict) (starlark.Value, error) {
	fn, ok := globals[r.job.Function]
	if !ok {
		return nil, &Error{Kind: KindRuntime, Message: fmt.Sprintf("the script has no function %q", r.job.Function)}
	}
	if _, ok := fn.(starlark.Callable); !ok {
		return nil, &Error{Kind: KindRuntime, Message: fmt.Sprintf("%q is a %s, not a function", r.job.Function, fn.Type())}
	}
	args, kwargs, err := fromJSONArgs(r.job.Args, r.job.Kwargs, r.job.Limits.MaxArgDepth)
	if err != nil {
		return nil, &Error{Kind: KindArgs, Message: err.Error()}
	}
	return starlark.Call(thread, fn, args, kwargs)
}

func (r *run) predeclared() starlark.StringDict {
	return starlark.StringDict{
		"json":   json.Module,
		"time":   time.Module,
		"math":   math.Module,
		"struct": starlark.NewBuiltin("struct", starlarkstruct.Make),
		"http":   r.httpModule(),
		"secret": starlark.NewBuiltin("secret", r.secret),
	}
}

// failed turns a run error into the final message, with the position of
// the innermost frame of the script.
func (r *run) failed(err error, filename string) childMsg {
	var se *Error
	if errors.As(err, &se) {
		return childMsg{Type: msgError, Error: se}
	}
	switch {
	case r.stepsHit:
		return childMsg{Type: msgError, Error: stepsError(r.job.Limits)}
	case r.memoryHit:
		return childMsg{Type: msgError, Error: memoryError(r.job.Limits)}
	}
	kind := KindRuntime
	var he *httpError
	if errors.As(err, &he) {
		kind = KindHTTP
	}
	var ee *starlark.EvalError
	if !errors.As(err, &ee) {
		return failure(kind, err.Error())
	}
	return failure(kind, evalMessage(ee, filename))
}

func evalMessage(ee *starlark.EvalError, filename string) string {
	for i := len(ee.CallStack) - 1; i >= 0; i-- {
		fr := ee.CallStack[i]
		if fr.Pos.Filename() == filename {
			return fmt.Sprintf("%s: in %s: %s", fr.Pos, fr.Name, ee.Msg)
		}
	}
	return ee.Msg
}

func failure(kind, msg string) childMsg {
	return childMsg{Type: msgError, Error: &Error{Kind: kind, Message: msg}}
}

// scriptFile is the file name errors show for a script.
func scriptFile(name string) string {
	switch {
	case name == "":
		return "script.star"
	case strings.HasSuffix(name, ".star"):
		return name
	}
	return name + ".star"
}
