// Package webfetch is the page fetcher behind the web_fetch model tool: it
// GETs a URL through the egress guard and reduces the answer to readable
// text.
//
// HTML is parsed (golang.org/x/net/html) and reduced to lines of text:
// scripts, styles, templates, SVG, frames, forms' option lists, navigation,
// footers and elements hidden by the hidden attribute, aria-hidden="true" or
// a display:none / visibility:hidden / opacity:0 / font-size:0 inline style
// are dropped, so text a human reader would not see (a favourite home for
// prompt injection) does not reach the model either. Links become
// "text (absolute URL)", http and https only. Plain text, Markdown, CSV,
// JSON and XML are returned as they are. Any other type is refused.
//
// The text is made valid UTF-8 (ISO-8859-1 and windows-1252 are decoded;
// other invalid bytes become U+FFFD), stripped of control characters but
// newline and tab, and capped. The caller wraps it as untrusted data; this
// package does not.
package webfetch

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/airlockhq/airlock/secure/egress"
)

// DefaultMaxTextBytes is the text cap used when Fetch is given none.
const DefaultMaxTextBytes = 64 << 10

// Sentinel errors, matched with errors.Is.
var (
	// ErrUnsupportedType means the response is not text Fetch can read
	// (an image, a PDF, an archive…).
	ErrUnsupportedType = errors.New("webfetch: unsupported content type")
	// ErrHTTPStatus means the server answered with a non-2xx status.
	ErrHTTPStatus = errors.New("webfetch: HTTP error status")
)

// Page is a fetched page reduced to text.
type Page struct {
	// URL is the final URL, after redirects.
	URL string
	// Title is the HTML <title>, empty for other types.
	Title string
	// ContentType is the media type, without parameters ("text/html").
	ContentType string
	// Text is the readable text, valid UTF-8, at most the cap in bytes.
	Text string
	// Truncated reports that the body or the text was cut at a cap.
	Truncated bool
}

// Fetch GETs rawURL through c and returns its text, capped at maxTextBytes
// (DefaultMaxTextBytes when ≤ 0). A body over c's size cap is truncated,
// not refused. Errors from the guard (egress.ErrRefused, egress.ErrTooLarge,
// egress.ErrTimeout) are wrapped and their messages are safe to show.
func Fetch(ctx context.Context, c *egress.Client, rawURL string, maxTextBytes int) (Page, error) {
	if maxTextBytes <= 0 {
		maxTextBytes = DefaultMaxTextBytes
	}
	resp, err := c.Truncating().Get(ctx, rawURL)
	if err != nil {
		return Page{}, fmt.Errorf("webfetch: %w", err)
	}
	host := resp.URL.Hostname()
	if resp.Status < 200 || resp.Status > 299 {
		return Page{}, fmt.Errorf("%w: %s answered %d %s", ErrHTTPStatus, host, resp.Status, http.StatusText(resp.Status))
	}
	mediaType, params := contentType(resp.Header.Get("Content-Type"), resp.Body)
	page := Page{URL: resp.URL.String(), ContentType: mediaType, Truncated: resp.Truncated}
	switch kindOf(mediaType) {
	case kindHTML:
		doc := decode(resp.Body, charsetOf(params, resp.Body, true))
		page.Title, page.Text, err = extract(doc, resp.URL, maxTextBytes)
		if err != nil {
			return Page{}, fmt.Errorf("webfetch: parse HTML from %s: %w", host, err)
		}
	case kindText:
		page.Text = clean(decode(resp.Body, charsetOf(params, resp.Body, false)))
	default:
		return Page{}, fmt.Errorf("%w: %s sent %q; only HTML, plain text, Markdown, CSV, JSON and XML can be read",
			ErrUnsupportedType, host, mediaType)
	}
	var cut bool
	page.Text, cut = capText(page.Text, maxTextBytes)
	page.Truncated = page.Truncated || cut
	return page, nil
}

type kind int

const (
	kindOther kind = iota
	kindHTML
	kindText
)

// kindOf sorts a media type into what Fetch does with it.
func kindOf(mediaType string) kind {
	switch mediaType {
	case "text/html", "application/xhtml+xml":
		return kindHTML
	case "text/plain", "text/markdown", "text/x-markdown", "text/csv", "application/json",
		"text/xml", "application/xml":
		return kindText
	}
	if strings.HasPrefix(mediaType, "application/") &&
		(strings.HasSuffix(mediaType, "+json") || strings.HasSuffix(mediaType, "+xml")) {
		return kindText // application/ld+json, application/rss+xml, application/atom+xml…
	}
	return kindOther
}

// contentType parses the Content-Type header, sniffing the body when the
// header is missing or unparsable.
func contentType(header string, body []byte) (string, map[string]string) {
	if header != "" {
		if mt, params, err := mime.ParseMediaType(header); err == nil {
			return strings.ToLower(mt), params
		}
	}
	mt, params, _ := mime.ParseMediaType(http.DetectContentType(body))
	return mt, params
}
