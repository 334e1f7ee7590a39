package webfetch

import (
	"net/url"
	"os"
	"strings"
	"testing"
)

func TestExtractArticle(t *testing.T) {
	raw, err := os.ReadFile("testdata/article.html")
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse("https://guide.example/paris/index.html")
	title, text, err := extract(string(raw), base, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if title != "Café Guide & Tips" {
		t.Errorf("title = %q", title)
	}
	want := strings.Join([]string{
		"# Best cafés in Paris",
		"Paris has many cafés — here are our favourites.",
		"Half visible.",
		"## The list",
		"- Café de Flore – details (https://guide.example/flore?x=1&y=2)",
		"- Les Deux Magots site (https://magots.example/)",
		"- JS link and mail",
		"- back to top",
		"Name | Price",
		"Espresso | €2",
		"line one",
		"  indented two",
		"Tom & Jerry say <hi> 😀",
	}, "\n")
	if text != want {
		t.Errorf("text:\n%s\n--- want:\n%s", text, want)
	}
	for _, leak := range []string{"LEAK", "Ignore previous", "secret", "sans-serif"} {
		if strings.Contains(text, leak) || strings.Contains(title, leak) {
			t.Errorf("text contains %q", leak)
		}
	}
}

func TestExtractSnippets(t *testing.T) {
	base, _ := url.Parse("http://h.example/dir/page")
	tests := []struct{ name, html, want string }{
		{"inline runs join", "<p>a<b>b</b> c</p>", "ab c"},
		{"blocks split lines", "x<div>y</div>z", "x\ny\nz"},
		{"br", "one<br>two", "one\ntwo"},
		{"empty heading vanishes", "<h2> </h2><p>t</p>", "t"},
		{"relative link", `<a href="../up?q=1">up</a>`, "up (http://h.example/up?q=1)"},
		{"credentials stripped", `<a href="http://u:p@x.example/">x</a>`, "x (http://x.example/)"},
		{"empty link dropped", `<a href="/x"><img src="i.png"></a>after`, "after"},
		{"hidden link", `<a href="/x" hidden>no</a>yes`, "yes"},
		{"nested hidden", `<div aria-hidden="TRUE"><p>deep <b>hidden</b></p></div>shown`, "shown"},
		{"aria-hidden false shown", `<p aria-hidden="false">shown</p>`, "shown"},
		{"control chars", "<p>a\x1b[31mb\x07c</p>", "a[31mbc"},
		{"nested lists", "<ul><li>a<ul><li>b</li></ul></li></ul>", "- a\n- b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got, err := extract(tt.html, base, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("extract(%q) = %q, want %q", tt.html, got, tt.want)
			}
		})
	}
}

func TestHiddenStyle(t *testing.T) {
	tests := []struct {
		style string
		want  bool
	}{
		{"display:none", true}, {" Display : NONE ; color:red", true}, {"display:none!important", true},
		{"visibility: collapse", true}, {"opacity:0", true}, {"opacity:.0", true}, {"font-size:0em", true},
		{"display:block", false}, {"opacity:0.01", false}, {"font-size:10px", false}, {"content:'display:none'", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := hiddenStyle(tt.style); got != tt.want {
			t.Errorf("hiddenStyle(%q) = %v, want %v", tt.style, got, tt.want)
		}
	}
}
