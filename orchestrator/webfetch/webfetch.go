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
	"net/url"
	"slices"
	"strconv"
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
	// Errors name the host the caller asked for: after a redirect the final
	// host is the server's choice, and error text reaches the model
	// outside the untrusted-data markers.
	host := requestedHost(rawURL, resp.URL)
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
		return Page{}, fmt.Errorf("%w: %s sent %s; only HTML, plain text, Markdown, CSV, JSON and XML can be read",
			ErrUnsupportedType, host, shownType(mediaType))
	}
	var cut bool
	page.Text, cut = capText(page.Text, maxTextBytes)
	page.Truncated = page.Truncated || cut
	return page, nil
}

// requestedHost names the host of rawURL, noting when the answer came
// from elsewhere after a redirect.
func requestedHost(rawURL string, final *url.URL) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "the server"
	}
	if !strings.EqualFold(u.Hostname(), final.Hostname()) {
		return u.Hostname() + " (after a redirect)"
	}
	return u.Hostname()
}

// wellKnownTypes are the non-text media types an error may name as they
// are; they are this list's strings, not the server's.
var wellKnownTypes = []string{
	"application/pdf", "application/octet-stream", "application/zip", "application/gzip", "application/x-gzip",
	"application/x-tar", "application/x-7z-compressed", "application/x-rar-compressed", "application/msword",
	"application/vnd.ms-excel", "application/vnd.ms-powerpoint",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	"application/vnd.openxmlformats-officedocument.presentationml.presentation",
	"application/vnd.oasis.opendocument.text", "application/epub+zip", "application/wasm",
	"application/javascript", "text/javascript", "text/css", "application/x-shockwave-flash",
	"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/svg+xml", "image/x-icon",
	"image/vnd.microsoft.icon", "image/bmp", "image/tiff", "audio/mpeg", "audio/ogg", "audio/wav", "audio/webm",
	"video/mp4", "video/webm", "video/ogg", "font/woff", "font/woff2", "font/ttf", "font/otf",
}

// topLevelTypes are the registered top-level media types.
var topLevelTypes = []string{"application", "audio", "font", "image", "message", "model", "multipart", "text", "video"}

// shownType is what an error says about a media type the server chose:
// the type itself only when it is well known, else at most its registered
// top-level type. A Content-Type header is up to 64 KiB of the server's
// own text, so it is never echoed to the model.
func shownType(mediaType string) string {
	if slices.Contains(wellKnownTypes, mediaType) {
		return strconv.Quote(mediaType)
	}
	top, _, _ := strings.Cut(mediaType, "/")
	if slices.Contains(topLevelTypes, top) {
		return "an unlisted " + top + "/ type"
	}
	return "an unrecognised content type"
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
