package approval

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestUnified(t *testing.T) {
	ten := "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n"
	tests := []struct {
		name, a, b, want string
	}{
		{"equal", ten, ten, ""},
		{"both empty", "", "", ""},
		{"all added", "", "a\nb\n", "--- A\n+++ B\n@@ -0,0 +1,2 @@\n+a\n+b\n"},
		{"all removed", "a\n", "", "--- A\n+++ B\n@@ -1 +0,0 @@\n-a\n"},
		{"change in the middle", ten, strings.Replace(ten, "5\n", "five\n", 1),
			"--- A\n+++ B\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n"},
		{"insert at the start", ten, "0\n" + ten, "--- A\n+++ B\n@@ -1,3 +1,4 @@\n+0\n 1\n 2\n 3\n"},
		{"two hunks", ten + "11\n12\n", strings.Replace(strings.Replace(ten+"11\n12\n", "1\n", "one\n", 1), "12\n", "twelve\n", 1),
			"--- A\n+++ B\n@@ -1,4 +1,4 @@\n-1\n+one\n 2\n 3\n 4\n@@ -9,4 +9,4 @@\n 9\n 10\n 11\n-12\n+twelve\n"},
		{"close changes share a hunk", ten, strings.Replace(strings.Replace(ten, "3\n", "c\n", 1), "8\n", "h\n", 1),
			"--- A\n+++ B\n@@ -1,10 +1,10 @@\n 1\n 2\n-3\n+c\n 4\n 5\n 6\n 7\n-8\n+h\n 9\n 10\n"},
		{"no newline at end", "a\nb", "a\nc",
			"--- A\n+++ B\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n"},
		{"newline added at end", "a", "a\n", "--- A\n+++ B\n@@ -1 +1 @@\n-a\n\\ No newline at end of file\n+a\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Unified("A", "B", tc.a, tc.b); got != tc.want {
				t.Errorf("Unified =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// The edit script turns a into b, and is as short as the longest common
// subsequence allows.
func TestDiffLinesIsMinimal(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		a, b := randomLines(r), randomLines(r)
		edits := diffLines(a, b)
		var gotA, gotB []string
		changes := 0
		for _, e := range edits {
			if e.kind != '+' {
				gotA = append(gotA, e.line)
			}
			if e.kind != '-' {
				gotB = append(gotB, e.line)
			}
			if e.kind != ' ' {
				changes++
			}
		}
		if strings.Join(gotA, "") != strings.Join(a, "") || strings.Join(gotB, "") != strings.Join(b, "") {
			t.Fatalf("case %d: edits do not rebuild the texts: %q → %q: %v", i, a, b, edits)
		}
		if want := len(a) + len(b) - 2*lcs(a, b); changes != want {
			t.Fatalf("case %d: %d changes, want %d: %q → %q", i, changes, want, a, b)
		}
	}
}

func randomLines(r *rand.Rand) []string {
	out := make([]string, r.IntN(12))
	for i := range out {
		out[i] = string(rune('a'+r.IntN(4))) + "\n"
	}
	return out
}

func lcs(a, b []string) int {
	dp := make([][]int, len(a)+1)
	for i := range dp {
		dp[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				dp[i][j] = dp[i+1][j+1] + 1
			} else {
				dp[i][j] = max(dp[i+1][j], dp[i][j+1])
			}
		}
	}
	return dp[0][0]
}

// Past maxDiffEdits the diff gives up on minimality, not on correctness.
func TestDiffLinesFallback(t *testing.T) {
	var a, b []string
	for i := range maxDiffEdits + 10 {
		a = append(a, "a"+string(rune('0'+i%10))+"\n")
		b = append(b, "b"+string(rune('0'+i%10))+"\n")
	}
	edits := diffLines(a, b)
	if len(edits) != len(a)+len(b) || edits[0].kind != '-' || edits[len(edits)-1].kind != '+' {
		t.Fatalf("fallback gave %d edits", len(edits))
	}
}

func TestServiceDiff(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v1 := e.mustPropose(t, "weather", weather("v1"))
	d, err := e.svc.Diff(ctx, "weather", v1.SHA256)
	if err != nil || !strings.HasPrefix(d, "--- weather (no approved version)\n+++ weather@"+v1.SHA256[:12]+"\n@@ -0,0 +1,6 @@\n+# @description") {
		t.Fatalf("Diff with nothing approved = %q, %v", d, err)
	}
	if err := e.svc.Approve(ctx, "weather", v1.SHA256, "admin"); err != nil {
		t.Fatal(err)
	}
	if d, err := e.svc.Diff(ctx, "weather", v1.SHA256); err != nil || d != "" {
		t.Errorf("Diff of the approved version = %q, %v; want empty", d, err)
	}
	v2 := e.mustPropose(t, "weather", weather("v2"))
	d, err = e.svc.Diff(ctx, "weather", v2.SHA256)
	want := "--- weather@" + v1.SHA256[:12] + " (approved)\n+++ weather@" + v2.SHA256[:12] + "\n" +
		"@@ -3,4 +3,4 @@\n" +
		" # @hosts: api.example.com\n" +
		" def main(city, units = \"metric\"):\n" +
		"     r = http.get(\"https://api.example.com/v1?q=\" + city + \"&key=\" + secret(\"API_KEY\"))\n" +
		"-    return r.body  # v1\n" +
		"+    return r.body  # v2\n"
	if err != nil || d != want {
		t.Errorf("Diff v2 =\n%s\nwant\n%s", d, want)
	}
}
