package webfetch

import (
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// skipped elements contribute no text at all.
var skipped = map[atom.Atom]bool{
	atom.Head: true, atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true,
	atom.Svg: true, atom.Math: true, atom.Iframe: true, atom.Frame: true, atom.Frameset: true,
	atom.Object: true, atom.Embed: true, atom.Canvas: true, atom.Audio: true, atom.Video: true,
	atom.Select: true, atom.Datalist: true, atom.Input: true, atom.Nav: true, atom.Footer: true,
}

// blocks start and end a line.
var blocks = map[atom.Atom]bool{
	atom.Address: true, atom.Article: true, atom.Aside: true, atom.Blockquote: true, atom.Body: true,
	atom.Caption: true, atom.Dd: true, atom.Details: true, atom.Div: true, atom.Dl: true, atom.Dt: true,
	atom.Fieldset: true, atom.Figcaption: true, atom.Figure: true, atom.Form: true, atom.H1: true,
	atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true, atom.Header: true,
	atom.Hr: true, atom.Li: true, atom.Main: true, atom.Ol: true, atom.P: true, atom.Pre: true,
	atom.Section: true, atom.Summary: true, atom.Table: true, atom.Tr: true, atom.Ul: true,
}

// prefixes mark headings and list items in the text.
var prefixes = map[atom.Atom]string{
	atom.H1: "# ", atom.H2: "## ", atom.H3: "### ", atom.H4: "#### ", atom.H5: "##### ", atom.H6: "###### ",
	atom.Li: "- ",
}

// extractor accumulates the text of an HTML tree, line by line.
type extractor struct {
	base   *url.URL
	limit  int // stop walking once this much text is out
	out    strings.Builder
	line   strings.Builder
	prefix string // written before the first word of the line
	space  bool   // a space is due before the next word
	pre    int    // depth of <pre> elements
	title  string
}

// extract parses an HTML document and returns its title and readable text.
// It stops early once the text passes limit bytes (the caller caps it).
func extract(doc string, base *url.URL, limit int) (title, text string, err error) {
	root, err := html.Parse(strings.NewReader(doc))
	if err != nil {
		return "", "", err
	}
	e := &extractor{base: base, limit: limit}
	e.title = findTitle(root)
	e.walk(root)
	e.breakLine()
	return e.title, strings.TrimRight(e.out.String(), "\n"), nil
}

// findTitle returns the text of the first <title> outside SVG and MathML.
func findTitle(n *html.Node) string {
	if n.Type == html.ElementNode && n.DataAtom == atom.Title && n.Namespace == "" {
		var b strings.Builder
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.TextNode {
				b.WriteString(c.Data)
			}
		}
		return clean(strings.Join(strings.Fields(b.String()), " "))
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if t := findTitle(c); t != "" {
			return t
		}
	}
	return ""
}

func (e *extractor) walk(n *html.Node) {
	if e.out.Len() > e.limit {
		return
	}
	switch n.Type {
	case html.TextNode:
		e.text(n.Data)
		return
	case html.ElementNode:
		e.element(n)
		return
	case html.DocumentNode:
		e.children(n)
	}
}

func (e *extractor) children(n *html.Node) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		e.walk(c)
	}
}

func (e *extractor) element(n *html.Node) {
	if n.Namespace != "" || skipped[n.DataAtom] || hidden(n) {
		return
	}
	switch n.DataAtom {
	case atom.Br:
		e.breakLine()
		return
	case atom.Td, atom.Th:
		if e.line.Len() > 0 {
			e.line.WriteString(" | ")
			e.space = false
		}
	case atom.A:
		e.link(n)
		return
	case atom.Pre:
		e.pre++
		defer func() { e.pre-- }()
	}
	if blocks[n.DataAtom] {
		e.breakLine()
		e.prefix = prefixes[n.DataAtom]
		defer e.breakLine()
	}
	e.children(n)
}

// link writes the anchor's text followed by its absolute http(s) URL.
func (e *extractor) link(n *html.Node) {
	before := e.out.Len() + e.line.Len()
	e.children(n)
	if e.out.Len()+e.line.Len() == before {
		return // no visible text: an icon or an empty anchor
	}
	if u := e.resolve(attr(n, "href")); u != "" {
		e.space = true
		e.word("(" + u + ")")
	}
}

// resolve returns href as an absolute http or https URL without
// credentials, or "" when it is not one (fragment, mailto:, javascript:…).
func (e *extractor) resolve(href string) string {
	href = strings.TrimSpace(href)
	if href == "" || strings.HasPrefix(href, "#") {
		return ""
	}
	u, err := e.base.Parse(href)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	u.User = nil
	return clean(u.String())
}

// text adds a text node, collapsing whitespace unless inside <pre>.
func (e *extractor) text(s string) {
	s = clean(s)
	if s == "" {
		return
	}
	if e.pre > 0 {
		e.preText(s)
		return
	}
	if isSpace(s[0]) {
		e.space = true
	}
	for _, w := range strings.Fields(s) {
		e.word(w)
		e.space = true
	}
	if !isSpace(s[len(s)-1]) {
		e.space = false
	}
}

func (e *extractor) preText(s string) {
	for i, part := range strings.Split(s, "\n") {
		if i > 0 {
			e.flush()
		}
		e.line.WriteString(strings.TrimRight(part, " \t"))
	}
	e.space = false
}

func (e *extractor) word(w string) {
	if e.line.Len() == 0 {
		e.line.WriteString(e.prefix)
	} else if e.space {
		e.line.WriteByte(' ')
	}
	e.line.WriteString(w)
}

// breakLine ends the current line, if it holds any text.
func (e *extractor) breakLine() {
	if strings.TrimSpace(e.line.String()) != "" {
		e.flush()
	}
	e.line.Reset()
	e.prefix, e.space = "", false
}

func (e *extractor) flush() {
	e.out.WriteString(strings.TrimRight(e.line.String(), " "))
	e.out.WriteByte('\n')
	e.line.Reset()
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val
		}
	}
	return ""
}
