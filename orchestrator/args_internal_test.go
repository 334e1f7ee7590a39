package orchestrator

import (
	"encoding/json"
	"testing"

	"github.com/airlockhq/airlock/secure/redact"
)

func TestRedactArgs(t *testing.T) {
	r, err := redact.New([]redact.Secret{{Name: "KEY", Value: "CANARYzq7Xv9Lm2Pw8Rt"}})
	if err != nil {
		t.Fatal(err)
	}
	var h redact.Holder
	h.Store(r)
	c := &Core{redactor: &h}
	tests := []struct{ name, in, want string }{
		{"untouched, plain form", `{"b":[1.50,true,null],"a":"x\u003cy"}`, `{"a":"x<y","b":[1.50,true,null]}`},
		{"all escaped", `{"u":"k=\u0043\u0041\u004e\u0041\u0052\u0059\u007a\u0071\u0037\u0058\u0076\u0039\u004c\u006d\u0032\u0050\u0077\u0038\u0052\u0074"}`,
			`{"u":"k=[REDACTED:KEY]"}`},
		{"mixed, in a key", `{"\u0043A\u004EARYzq7Xv9Lm2Pw8R\u0074":1}`, `{"[REDACTED:KEY]":1}`},
		{"escaped twice", `{"c":"{\"k\":\"\\u0043ANARYzq7Xv9Lm2Pw8R\\u0074\"}"}`, `{"c":"{\"k\":\"[REDACTED:KEY]\"}"}`},
		{"escaped twice, surrogates", `["\\ud83d\\ude00 CANARYzq7Xv9Lm2Pw8R\\u0074"]`, `["😀 [REDACTED:KEY]"]`},
		{"a JSON string", `"CANARYzq7Xv9Lm2Pw8Rt"`, `"[REDACTED:KEY]"`},
		{"not JSON", `{"u":"CANARYzq7Xv9Lm2Pw8Rt"`, `"{\"u\":\"[REDACTED:KEY]\""`},
	}
	for _, tt := range tests {
		got := c.redactArgs(json.RawMessage(tt.in))
		if string(got) != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestUnescapeJSON(t *testing.T) {
	tests := []struct{ in, want string }{
		{`plain`, `plain`},
		{`a\"b\\c\/d\n\t`, "a\"b\\c/d\n\t"},
		{`\u0041\u00e9\u00C9`, "AéÉ"},
		{`\ud834\udd1e`, "𝄞"},
		{`\ud834x`, "\uFFFDx"},
		{`\u12`, `\u12`},
		{`\q\`, `\q\`},
	}
	for _, tt := range tests {
		if got := unescapeJSON(tt.in); got != tt.want {
			t.Errorf("unescapeJSON(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
