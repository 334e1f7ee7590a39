package redact

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
)

const ghToken = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"

func mustNew(t testing.TB, secrets ...Secret) *Redactor {
	t.Helper()
	r, err := New(secrets)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestOverlaps(t *testing.T) {
	jwtHead := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0."
	r := mustNew(t,
		Secret{"OUTER", "abcdefgh12345678"},
		Secret{"INNER", "efgh1234"},
		Secret{"PREFIX", "abcdefgh1"},
		Secret{"LEFT", "leftleft-XYZ"},
		Secret{"RIGHT", "XYZ-rightright"},
		Secret{"ADJ1", "adjacent-one"},
		Secret{"ADJ2", "adjacent-two"},
		Secret{"GH", ghToken},
		Secret{"SIG", "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"},
	)
	tests := []struct{ name, in, want string }{
		{"outer", "x abcdefgh12345678 y", "x [REDACTED:OUTER] y"},
		{"inner alone", "x efgh1234 y", "x [REDACTED:INNER] y"},
		{"prefix alone", "x abcdefgh1 y", "x [REDACTED:PREFIX] y"},
		{"at start", "abcdefgh12345678 tail", "[REDACTED:OUTER] tail"},
		{"at end", "head abcdefgh12345678", "head [REDACTED:OUTER]"},
		{"whole", "abcdefgh12345678", "[REDACTED:OUTER]"},
		{"twice", "abcdefgh12345678abcdefgh12345678", "[REDACTED:OUTER][REDACTED:OUTER]"},
		{"overlap: union, leftmost name", "leftleft-XYZ-rightright", "[REDACTED:LEFT]"},
		{"adjacent", "adjacent-oneadjacent-two", "[REDACTED:ADJ1][REDACTED:ADJ2]"},
		{"secret equal to a shape", "t=" + ghToken + ".", "t=[REDACTED:GH]."},
		{"secret inside a shape", jwtHead + "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c ok", "[REDACTED:SIG] ok"},
		{"shape alone", "ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", "[REDACTED:GITHUB_TOKEN]"},
		{"empty", "", ""},
		{"nothing", "nothing to see", "nothing to see"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.String(tt.in); got != tt.want {
				t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if got := string(r.Bytes([]byte(tt.in))); got != tt.want {
				t.Errorf("Bytes(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if got := r.Contains(tt.in); got != (tt.in != tt.want) {
				t.Errorf("Contains(%q) = %v", tt.in, got)
			}
		})
	}
}

// TestMarkerJoin: values starting with "]" or ending with "[" could be
// spelled by a marker next to the rest of them; the rest is redacted too.
func TestMarkerJoin(t *testing.T) {
	r := mustNew(t,
		Secret{"A", "alpha-secret-1"},
		Secret{"B", "]bravo-secret"},
		Secret{"C", "charlie-sec["},
		Secret{"D", "KEY]delta-secret"}, // "KEY]" ends the marker of PRIVATE_KEY
	)
	tests := []struct{ in, want string }{
		{"alpha-secret-1bravo-secret", "[REDACTED:A][REDACTED:B]"},
		{"charlie-secalpha-secret-1", "[REDACTED:C][REDACTED:A]"},
		{"x]bravo-secret", "x[REDACTED:B]"},
		{"xcharlie-sec[y", "x[REDACTED:C]y"},
		{"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----delta-secret", "[REDACTED:PRIVATE_KEY][REDACTED:D]"},
	}
	for _, tt := range tests {
		got := r.String(tt.in)
		if got != tt.want {
			t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if again := r.String(got); again != got {
			t.Errorf("not idempotent: %q -> %q", got, again)
		}
	}
}

func TestNewRefuses(t *testing.T) {
	long := strings.Repeat("x", MaxValueLen+1)
	tests := []struct {
		name    string
		secrets []Secret
		want    error
	}{
		{"short value", []Secret{{"A", "1234567"}}, ErrShortValue},
		{"long value", []Secret{{"A", long}}, ErrLongValue},
		{"empty name", []Secret{{"", "abcdefgh"}}, ErrInvalidName},
		{"lower-case name", []Secret{{"api_key", "abcdefgh"}}, ErrInvalidName},
		{"name starts with a digit", []Secret{{"9A", "abcdefgh"}}, ErrInvalidName},
		{"name with a dash", []Secret{{"A-B", "abcdefgh"}}, ErrInvalidName},
		{"name too long", []Secret{{"A" + strings.Repeat("B", 64), "abcdefgh"}}, ErrInvalidName},
		{"name shaped like a credential", []Secret{{"AKIAABCDEFGHIJKLMNOP", "abcdefgh"}}, ErrInvalidName},
		{"duplicate name", []Secret{{"A", "abcdefgh"}, {"A", "ijklmnop"}}, ErrDuplicateName},
		{"value inside every marker", []Secret{{"A", "REDACTED:"}}, ErrMarkerOverlap},
		{"value is another name", []Secret{{"API_TOKEN_NAME", "abcdefgh"}, {"B", "API_TOKEN_NAME"}}, ErrMarkerOverlap},
		{"value is a shape name", []Secret{{"A", "ACCESS_KEY"}}, ErrMarkerOverlap},
		{"value holds a marker", []Secret{{"A", "xx[REDACTED:JWT]yy"}}, ErrMarkerOverlap},
		{"value holds a secret's marker", []Secret{{"OTHER", "abcdefgh"}, {"A", "xx[REDACTED:OTHER]yy"}}, ErrMarkerOverlap},
		{"too short without leading ]", []Secret{{"A", "]abcdefg"}}, ErrMarkerOverlap},
		{"too short without trailing [", []Secret{{"A", "abcdefg["}}, ErrMarkerOverlap},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := New(tt.secrets)
			if !errors.Is(err, tt.want) || r != nil {
				t.Fatalf("New = %v, %v; want %v", r, err, tt.want)
			}
			for _, s := range tt.secrets {
				if len(s.Value) >= 4 && validName(s.Name) && s.Name != s.Value && strings.Contains(err.Error(), s.Value) {
					t.Errorf("error %q reveals a value", err)
				}
			}
		})
	}
	ok := [][]Secret{
		{{"A", "]abcdefgh"}},
		{{"A", "abcdefgh["}},
		{{"A", "[REDACTED:NOT_A_NAME_HERE]"}},
		{{"A", "same-value-1"}, {"B", "same-value-1"}},
		{{"Z" + strings.Repeat("9", 63), strings.Repeat("v", MaxValueLen)}},
	}
	for _, secrets := range ok {
		if _, err := New(secrets); err != nil {
			t.Errorf("New(%v): %v", secrets, err)
		}
	}
}

func TestSharedValueNamedByFirst(t *testing.T) {
	r := mustNew(t, Secret{"FIRST", "same-value-1"}, Secret{"SECOND", "same-value-1"})
	if got := r.String("same-value-1"); got != "[REDACTED:FIRST]" {
		t.Errorf("got %q", got)
	}
	if got := r.Names(); !slices.Equal(got, []string{"FIRST", "SECOND"}) {
		t.Errorf("Names() = %v", got)
	}
}

func TestNames(t *testing.T) {
	r := mustNew(t, Secret{"ZED", "abcdefgh1"}, Secret{"ALPHA", "abcdefgh2"}, Secret{"MID", "abcdefgh3"})
	names := r.Names()
	if !slices.Equal(names, []string{"ALPHA", "MID", "ZED"}) {
		t.Fatalf("Names() = %v", names)
	}
	names[0] = "CHANGED"
	if r.Names()[0] != "ALPHA" {
		t.Error("Names() shares its slice with the Redactor")
	}
}

// TestNilAndEmpty: a nil Redactor, New(nil) and New of an empty list all
// redact shapes and nothing else.
func TestNilAndEmpty(t *testing.T) {
	empty := mustNew(t)
	for name, r := range map[string]*Redactor{"nil": nil, "empty": empty} {
		if got := r.String("t=" + ghToken); got != "t=[REDACTED:GITHUB_TOKEN]" {
			t.Errorf("%s: shapes not redacted: %q", name, got)
		}
		if got := r.String("hunter2hunter2"); got != "hunter2hunter2" {
			t.Errorf("%s: changed plain text: %q", name, got)
		}
		if !r.Contains(ghToken) || r.Contains("plain") {
			t.Errorf("%s: Contains wrong", name)
		}
		if r.Names() != nil && len(r.Names()) != 0 {
			t.Errorf("%s: Names() = %v", name, r.Names())
		}
		var buf bytes.Buffer
		w := r.NewWriter(&buf)
		_, _ = w.Write([]byte("a " + ghToken[:10]))
		_, _ = w.Write([]byte(ghToken[10:] + " b"))
		if err := w.Close(); err != nil || buf.String() != "a [REDACTED:GITHUB_TOKEN] b" {
			t.Errorf("%s: writer gave %q, %v", name, buf.String(), err)
		}
	}
}

// TestNoMatchNoAlloc: the common path returns its input and allocates
// nothing.
func TestNoMatchNoAlloc(t *testing.T) {
	r := mustNew(t, Secret{"A", "abcdefgh12345678"})
	b := []byte(strings.Repeat("2025-03-14 INFO nothing secret here, sk- ghp_ eyJ AKIA. ", 200))
	if out := r.Bytes(b); &out[0] != &b[0] || len(out) != len(b) {
		t.Fatal("Bytes copied an input with no match")
	}
	s := string(b)
	allocs := testing.AllocsPerRun(20, func() {
		r.Bytes(b)
		r.String(s)
		r.Contains(s)
	})
	if allocs != 0 {
		t.Errorf("%v allocations on the no-match path", allocs)
	}
}

func TestSecretRendersWithoutValue(t *testing.T) {
	s := Secret{Name: "API_KEY", Value: "value-that-must-not-show"}
	var out []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%x", "%X", "%T"} {
		out = append(out, fmt.Sprintf(verb, s), fmt.Sprintf(verb, []Secret{s}), fmt.Sprintf(verb, &s))
	}
	js, err := json.Marshal(map[string]any{"s": s, "list": []Secret{s}})
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, string(js))
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("m", "secret", s)
	out = append(out, logged.String())
	for _, o := range out {
		if strings.Contains(o, s.Value) || strings.Contains(o, "value-that") {
			t.Errorf("rendering reveals the value: %s", o)
		}
	}
	if !strings.Contains(fmt.Sprint(s), "API_KEY") || !strings.Contains(string(js), "API_KEY") {
		t.Errorf("renderings lack the name: %v %s", s, js)
	}
}

func TestMarkerNames(t *testing.T) {
	r, err := New([]Secret{{"ALPHA_KEY", "alpha-secret-1"}, {"BETA", "beta-secret-22"}})
	if err != nil {
		t.Fatal(err)
	}
	in := "x alpha-secret-1 y " + jsonAllEscaped("beta-secret-22", upperHex) + " z alpha-secret-1 [REDACTED:bad] [REDACTED:"
	got := MarkerNames(r.String(in))
	if want := []string{"ALPHA_KEY", "BETA"}; !slices.Equal(got, want) {
		t.Errorf("MarkerNames = %v; want %v", got, want)
	}
	if got := MarkerNames("nothing here"); got != nil {
		t.Errorf("MarkerNames of plain text = %v", got)
	}
}
