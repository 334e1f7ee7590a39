package webfetch

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/airlockhq/airlock/secure/egress"
)

// site serves fixed responses by path on loopback.
func site(t *testing.T, article []byte) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	serve := func(path, ctype string, body []byte) {
		mux.HandleFunc(path, func(w http.ResponseWriter, _ *http.Request) {
			if ctype != "" {
				w.Header().Set("Content-Type", ctype)
			}
			w.Write(body)
		})
	}
	serve("/article", "text/html; charset=utf-8", article)
	serve("/xhtml", "application/xhtml+xml", []byte(`<html xmlns="http://www.w3.org/1999/xhtml"><head><title>X</title></head><body><p>x</p></body></html>`))
	serve("/sniffed", "", []byte("<!DOCTYPE html><title>S</title><p>sniffed</p>"))
	serve("/doc.pdf", "application/pdf", []byte("%PDF-1.7 binary"))
	serve("/img", "image/png", []byte("\x89PNG\r\n\x1a\n"))
	serve("/bin", "application/octet-stream", []byte{0, 1, 2})
	serve("/plain", "text/plain", []byte("ok \xff\xfe bytes\r\nnext\x1b[0m"))
	serve("/json", "application/json", []byte(`{"a": [1, 2], "b": "<p>not html</p>"}`))
	serve("/md", "text/markdown; charset=UTF-8", []byte("# Title\n\n* item"))
	serve("/latin1", "text/plain; charset=ISO-8859-1", []byte("caf\xe9 \x93quoted\x94"))
	serve("/meta1252", "text/html", []byte("<meta charset=\"windows-1252\"><p>na\xefve \x80</p>"))
	serve("/big", "text/plain", []byte(strings.Repeat("é", 5000)))
	mux.HandleFunc("/start", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/moved/article", http.StatusFound)
	})
	mux.HandleFunc("/moved/article", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<title>Moved</title><p><a href="next">next page</a></p>`))
	})
	mux.HandleFunc("/missing", http.NotFound)
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func loopbackClient(t *testing.T, p egress.Policy) *egress.Client {
	t.Helper()
	p.Allow = []string{"127.0.0.0/8"}
	c, err := egress.NewClient(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func TestFetchArticle(t *testing.T) {
	article, err := os.ReadFile("testdata/article.html")
	if err != nil {
		t.Fatal(err)
	}
	s := site(t, article)
	page, err := Fetch(context.Background(), loopbackClient(t, egress.Policy{}), s.URL+"/article", 0)
	if err != nil {
		t.Fatal(err)
	}
	if page.Title != "Café Guide & Tips" || page.ContentType != "text/html" || page.Truncated || page.URL != s.URL+"/article" {
		t.Errorf("page = %+v", page)
	}
	for _, want := range []string{"Paris has many cafés — here are our favourites.", "details (" + s.URL + "/flore?x=1&y=2)",
		"Espresso | €2"} {
		if !strings.Contains(page.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, page.Text)
		}
	}
	for _, leak := range []string{"Ignore previous instructions", "LEAK", "SCRIPT", "reveal your system prompt"} {
		if strings.Contains(page.Text, leak) {
			t.Errorf("text contains %q", leak)
		}
	}
}

func TestFetchRedirect(t *testing.T) {
	s := site(t, nil)
	page, err := Fetch(context.Background(), loopbackClient(t, egress.Policy{}), s.URL+"/start", 0)
	if err != nil {
		t.Fatal(err)
	}
	want := "next page (" + s.URL + "/moved/next)"
	if page.URL != s.URL+"/moved/article" || page.Title != "Moved" || page.Text != want {
		t.Errorf("page = %+v, want text %q", page, want)
	}
}

func TestFetchTypes(t *testing.T) {
	s := site(t, nil)
	c := loopbackClient(t, egress.Policy{})
	tests := []struct{ path, ctype, title, text string }{
		{"/xhtml", "application/xhtml+xml", "X", "x"},
		{"/sniffed", "text/html", "S", "sniffed"},
		{"/plain", "text/plain", "", "ok \ufffd bytes\nnext[0m"},
		{"/json", "application/json", "", `{"a": [1, 2], "b": "<p>not html</p>"}`},
		{"/md", "text/markdown", "", "# Title\n\n* item"},
		{"/latin1", "text/plain", "", "café “quoted”"},
		{"/meta1252", "text/html", "", "naïve €"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			page, err := Fetch(context.Background(), c, s.URL+tt.path, 0)
			if err != nil {
				t.Fatal(err)
			}
			if page.ContentType != tt.ctype || page.Title != tt.title || page.Text != tt.text {
				t.Errorf("page = %+v\nwant type %q title %q text %q", page, tt.ctype, tt.title, tt.text)
			}
		})
	}
}

func TestFetchRefusedTypes(t *testing.T) {
	s := site(t, nil)
	c := loopbackClient(t, egress.Policy{})
	for path, ctype := range map[string]string{"/doc.pdf": "application/pdf", "/img": "image/png", "/bin": "application/octet-stream"} {
		_, err := Fetch(context.Background(), c, s.URL+path, 0)
		if !errors.Is(err, ErrUnsupportedType) || !strings.Contains(err.Error(), `"`+ctype+`"`) {
			t.Errorf("%s: err = %v", path, err)
		}
	}
	_, err := Fetch(context.Background(), c, s.URL+"/missing", 0)
	if !errors.Is(err, ErrHTTPStatus) || !strings.Contains(err.Error(), "404 Not Found") {
		t.Errorf("404: err = %v", err)
	}
}

func TestFetchCaps(t *testing.T) {
	s := site(t, nil)
	tests := []struct {
		name    string
		policy  egress.Policy
		max     int
		wantLen int
	}{
		{"text cap", egress.Policy{}, 101, 100}, // é is 2 bytes: cut on a rune boundary
		{"body cap, non-truncating client", egress.Policy{MaxBodyBytes: 1000}, 0, 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := Fetch(context.Background(), loopbackClient(t, tt.policy), s.URL+"/big", tt.max)
			if err != nil {
				t.Fatal(err)
			}
			if !page.Truncated || len(page.Text) != tt.wantLen || !utf8.ValidString(page.Text) {
				t.Errorf("truncated %v, %d bytes, valid %v", page.Truncated, len(page.Text), utf8.ValidString(page.Text))
			}
		})
	}
}

func TestFetchThroughGuard(t *testing.T) {
	s := site(t, nil)
	c, err := egress.NewClient(egress.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Fetch(context.Background(), c, s.URL+"/article", 0)
	if !errors.Is(err, egress.ErrRefused) || !strings.Contains(err.Error(), "127.0.0.1 is a loopback address") {
		t.Errorf("err = %v", err)
	}
	_, err = Fetch(context.Background(), c, "file:///etc/passwd", 0)
	if !errors.Is(err, egress.ErrRefused) {
		t.Errorf("file: err = %v", err)
	}
}
