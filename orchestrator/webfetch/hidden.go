package webfetch

import (
	"strconv"
	"strings"

	"golang.org/x/net/html"
)

// hidden reports whether an element is hidden from a human reader by its
// own attributes: the hidden attribute, aria-hidden="true", or an inline
// style with display:none, visibility:hidden|collapse, opacity:0 or
// font-size:0. Stylesheets and classes are not evaluated.
func hidden(n *html.Node) bool {
	for _, a := range n.Attr {
		if a.Namespace != "" {
			continue
		}
		switch a.Key {
		case "hidden":
			return true
		case "aria-hidden":
			if strings.EqualFold(strings.TrimSpace(a.Val), "true") {
				return true
			}
		case "style":
			if hiddenStyle(a.Val) {
				return true
			}
		}
	}
	return false
}

// hiddenStyle reports whether a style attribute hides its element.
func hiddenStyle(style string) bool {
	for _, decl := range strings.Split(style, ";") {
		prop, val, ok := strings.Cut(decl, ":")
		if !ok {
			continue
		}
		prop = strings.ToLower(strings.TrimSpace(prop))
		val = strings.ToLower(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(val), "!important")))
		switch prop {
		case "display":
			if val == "none" {
				return true
			}
		case "visibility":
			if val == "hidden" || val == "collapse" {
				return true
			}
		case "opacity", "font-size":
			if isZero(val) {
				return true
			}
		}
	}
	return false
}

// isZero reports whether a CSS length or number is zero ("0", "0px", "0.0em").
func isZero(val string) bool {
	num := strings.TrimRight(val, "abcdefghijklmnopqrstuvwxyz%")
	f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	return err == nil && f == 0
}
