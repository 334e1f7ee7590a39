package admin

import (
	"bytes"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/airlockhq/airlock/internal/logref"
	"github.com/airlockhq/airlock/internal/utf8cut"
	"github.com/airlockhq/airlock/orchestrator/llm"
	"github.com/airlockhq/airlock/orchestrator/settings"
	"github.com/airlockhq/airlock/orchestrator/store"
)

//go:embed templates static
var assets embed.FS

// pageSet holds one parsed template per page: the layout plus the page.
type pageSet map[string]*template.Template

var funcs = template.FuncMap{
	"short": func(s string) string {
		if len(s) > 12 {
			return s[:12]
		}
		return s
	},
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	"ago":    ago,
	"join":   strings.Join,
	"lines":  lines,
	"role":   roleClass,
	"money":  llm.FormatMoney,
	"cost":   costText,
	"prices": settings.FormatPrices,
	// anchor is a check ID as a GitHub heading anchor in docs/doctor.md.
	"anchor": func(id string) string { return strings.ReplaceAll(id, ".", "") },
	// runcost is a job run's cost (issue 14), "" without model calls.
	"runcost": runCostText,
}

// costText renders the cost of t: "unknown" when none of its calls had a
// price, else the known part.
func costText(t store.UsageTotals) string {
	if t.CostNanos == 0 && t.UnknownCostCalls > 0 {
		return "unknown"
	}
	return llm.FormatMoney(t.CostNanos)
}

// ago renders how long ago t was, roughly.
func ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%d days ago", int(d/(24*time.Hour)))
}

// mustParsePages parses every page under templates/ with the layout.
func mustParsePages() pageSet {
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(assets, "templates/layout.html",
		"templates/partials/*.html"))
	names, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		panic(err)
	}
	ps := pageSet{}
	for _, n := range names {
		base := path.Base(n)
		if base == "layout.html" {
			continue
		}
		t := template.Must(layout.Clone())
		ps[strings.TrimSuffix(base, ".html")] = template.Must(t.ParseFS(assets, n))
	}
	return ps
}

// view is what every page template gets.
type view struct {
	Title  string
	Nav    string // the active nav entry
	Admin  string // the signed-in admin's username; empty when signed out
	CSRF   string
	Flash  string
	Error  string
	Data   any
	Script string // a page script under /static/, if any
}

// render writes page name with v. Errors after the first byte cannot be
// reported, so the page is rendered to a buffer first. The body passes the
// redactor.
func (s *Server) render(w http.ResponseWriter, r *http.Request, code int, name string, v view) {
	t, ok := s.pages[name]
	if !ok {
		s.Logger.Error("no such page template", "page", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if p := who(r); p.Admin.ID != "" {
		v.Admin, v.CSRF = p.Admin.Username, s.csrfToken(p.Session.ID)
	}
	if v.Flash == "" {
		v.Flash = s.takeFlash(w, r)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		ref := logref.New()
		s.Logger.Error("rendering a page failed", "page", name, "ref", ref, "err", err)
		http.Error(w, "internal error (reference "+ref+")", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(s.redact(buf.Bytes()))
}

// errorPage renders an error for a person.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, code int, msg string) {
	s.render(w, r, code, "error", view{Title: http.StatusText(code), Data: map[string]any{"Code": code, "Message": msg}})
}

const flashCookie = "airlock_flash"

// flash shows msg on the next page the browser renders.
func (s *Server) flash(w http.ResponseWriter, r *http.Request, msg string) {
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: encodeFlash(msg), Path: "/", HttpOnly: true,
		Secure: s.secure(r), SameSite: http.SameSiteStrictMode, MaxAge: 60})
}

func (s *Server) takeFlash(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return ""
	}
	clearCookie(w, flashCookie, s.secure(r))
	return decodeFlash(c.Value)
}

// redirect answers a form post with 303 See Other to target, with a flash.
func (s *Server) redirect(w http.ResponseWriter, r *http.Request, target, msg string) {
	if msg != "" {
		s.flash(w, r, msg)
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// staticHandler serves the embedded static files.
func staticHandler() http.Handler {
	sub, err := fs.Sub(assets, "static")
	if err != nil {
		panic(err)
	}
	fsrv := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fsrv.ServeHTTP(w, r)
	})
}

const maxFlashBytes = 300

func encodeFlash(s string) string {
	s = utf8cut.Prefix(s, maxFlashBytes)
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

func decodeFlash(v string) string {
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(b) > maxFlashBytes || !utf8.Valid(b) {
		return ""
	}
	return string(b)
}

// safeNext returns target if it is a path on this origin, else "/": a
// login's ?next= must not send the admin to another site. Browsers drop
// tabs and newlines from a Location and read a backslash as a slash, so
// "/<tab>/evil.example" would be "//evil.example", another host: control
// characters and backslashes are refused, raw or percent-encoded in the
// path, and what is kept is parsed with net/url and re-encoded from its
// path, query and fragment only.
func safeNext(target string) string {
	bad := func(s string) bool {
		return strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == '\\' })
	}
	if target == "" || bad(target) {
		return "/"
	}
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || bad(u.Path) ||
		!strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") || strings.HasPrefix(u.EscapedPath(), "//") {
		return "/"
	}
	local := url.URL{Path: u.Path, RawPath: u.RawPath, RawQuery: u.RawQuery, Fragment: u.Fragment}
	out := local.String()
	if !strings.HasPrefix(out, "/") || strings.HasPrefix(out, "//") {
		return "/"
	}
	return out
}
