package sandbox

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	ok := "# @description: x\ndef weather(city, units=\"metric\", *rest, **kw):\n    return city\n\nresult = weather(\"Paris\")\n"
	info, err := Check("s.star", ok)
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Functions) != 1 || info.Functions[0].Name != "weather" ||
		strings.Join(info.Functions[0].Params, ",") != "city,units=,*rest,**kw" {
		t.Errorf("info = %+v", info)
	}
	bad := []struct{ name, src, want string }{
		{"while", "def f():\n    while True:\n        pass\n", "while"},
		{"recursion", "def f(n):\n    return f(n - 1)\n", "recursion"},
		{"load", "load(\"x.star\", \"y\")\n", "load"},
		{"set", "s = set([1])\n", "set"},
		{"global reassign", "x = 1\nx = 2\n", "reassign"},
		{"undefined", "def f():\n    return os.system(\"x\")\n", "undefined"},
		{"syntax", "def f(:\n", "s.star:1"},
		{"too large", strings.Repeat("#", MaxSourceBytes+1), "larger"},
	}
	for _, c := range bad {
		if _, err := Check("s.star", c.src); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v; want one mentioning %q", c.name, err, c.want)
		}
	}
}
