package redact

import (
	"encoding/base64"
	"testing"
)

func TestScratch(t *testing.T) {
	r, err := New([]Secret{{"FOO", "hunter2hunter2"}, {"BAR", "abc<>&\"\\xyzé"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		"a hunter2hunter2 b",
		"x " + base64.StdEncoding.EncodeToString([]byte("hunter2hunter2")) + " y",
		"x " + base64.StdEncoding.EncodeToString([]byte("QQhunter2hunter2QQQ")) + " y",
		"key sk-proj-abcdefghijklmnopqrstuvwxyz0123 ok",
		"ghp_abcdefghijklmnopqrstuvwxyz0123456789 ok",
		"AKIAIOSFODNN7EXAMPLE",
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.abc-_def",
		"-----BEGIN RSA PRIVATE KEY-----\nMIIabc\n-----END RSA PRIVATE KEY-----\nafter",
		"MTIzNDU2Nzg5MDEyMzQ1Njc4.GAbcde.abcdefghijklmnopqrstuvwxyz0123",
	} {
		t.Logf("%q -> %q", s, r.String(s))
	}
	t.Log(r.patterns, r.hold, len(r.ac.nodes), r.ac.nDense, r.ac.stride)
}
