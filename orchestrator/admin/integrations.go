package admin

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/airlockhq/airlock/orchestrator/auth"
	"github.com/airlockhq/airlock/orchestrator/integration"
	"github.com/airlockhq/airlock/orchestrator/store"
)

// External MCP servers (issue 15), shared by the Integrations page and the
// API: the integration service owns every rule; these only parse and map
// its errors.

// integrations returns the service, or a 404 when there is none.
func (s *Server) integrations() (*integration.Service, error) {
	if s.Integrations == nil {
		return nil, errorf(http.StatusNotFound, "not found")
	}
	return s.Integrations, nil
}

// integrationError maps the service's errors: its public ones name the
// field or the problem and hold no secret.
func integrationError(err error) error {
	var pe *integration.PublicError
	switch {
	case errors.As(err, &pe):
		code := http.StatusBadRequest
		if strings.HasPrefix(pe.Msg, "no tool ") {
			code = http.StatusNotFound
		}
		return errorf(code, pe.Msg)
	case errors.Is(err, store.ErrNotFound):
		return errorf(http.StatusNotFound, "no such MCP server")
	}
	return err
}

// toolDecision is an approve or deny request.
type toolDecision struct {
	// Tool names the tool when the URL does not (tool names may hold '/').
	Tool   string `json:"tool"`
	SHA256 string `json:"sha256"`
	// DailyCap is the tool's calls per day (0: no cap); nil keeps it.
	DailyCap *int `json:"daily_cap"`
}

func (s *Server) decideTool(r *http.Request, d toolDecision) error {
	svc, err := s.integrations()
	if err != nil {
		return err
	}
	approve := strings.HasSuffix(r.URL.Path, "/approve")
	capv := -1
	if d.DailyCap != nil {
		if *d.DailyCap < 0 {
			return errorf(http.StatusBadRequest, "daily_cap: 0 (no cap) or more")
		}
		capv = *d.DailyCap
	}
	if approve && len(d.SHA256) != 64 {
		return errorf(http.StatusBadRequest, "sha256: the definition's SHA-256 shown with the tool (64 hex digits)")
	}
	tool, err := decisionTool(r, d)
	if err != nil {
		return err
	}
	err = svc.Decide(r.Context(), r.PathValue("name"), tool, approve, d.SHA256, capv, who(r).actor())
	return integrationError(err)
}

// decisionTool is the tool a decision names: in the URL
// (/tools/{tool}/approve) or, for names a path cannot carry, in the body
// (/tools/approve with tool).
func decisionTool(r *http.Request, d toolDecision) (string, error) {
	tool := r.PathValue("tool")
	switch {
	case tool != "" && d.Tool != "" && d.Tool != tool:
		return "", errorf(http.StatusBadRequest, "tool: the body names another tool than the URL")
	case tool == "" && d.Tool == "":
		return "", errorf(http.StatusBadRequest, "tool: the name of the tool to decide on")
	case tool == "":
		tool = d.Tool
	}
	return tool, nil
}

func (s *Server) apiListMCPServers(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.integrations()
	if err != nil {
		return err
	}
	vs, err := svc.List(r.Context())
	if err != nil {
		return err
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"servers": vs})
	return nil
}

func (s *Server) apiMCPServer(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.integrations()
	if err != nil {
		return err
	}
	v, err := svc.Get(r.Context(), r.PathValue("name"))
	if err != nil {
		return integrationError(err)
	}
	s.writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) apiAddMCPServer(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.integrations()
	if err != nil {
		return err
	}
	var in integration.ServerInput
	if err := s.decodeJSON(w, r, &in); err != nil {
		return err
	}
	if _, err := svc.Add(r.Context(), in, who(r).actor()); err != nil {
		return integrationError(err)
	}
	v, err := svc.Get(r.Context(), strings.TrimSpace(in.Name))
	if err != nil {
		return err
	}
	s.writeJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Server) apiDeleteMCPServer(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.integrations()
	if err != nil {
		return err
	}
	if err := svc.Delete(r.Context(), r.PathValue("name"), who(r).actor()); err != nil {
		return integrationError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiRefreshMCPServer(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.integrations()
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	if err := svc.Refresh(r.Context(), name); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return integrationError(err)
		}
		var pe *integration.PublicError
		if errors.As(err, &pe) {
			return errorf(http.StatusBadGateway, pe.Msg)
		}
		return err
	}
	v, err := svc.Get(r.Context(), name)
	if err != nil {
		return err
	}
	s.writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) apiDecideMCPTool(w http.ResponseWriter, r *http.Request) error {
	var d toolDecision
	if r.ContentLength != 0 {
		if err := s.decodeJSON(w, r, &d); err != nil {
			return err
		}
	}
	if err := s.decideTool(r, d); err != nil {
		return err
	}
	svc, _ := s.integrations()
	v, err := svc.Get(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	s.writeJSON(w, http.StatusOK, v)
	return nil
}

// integrationsData is the Integrations page.
type integrationsData struct {
	Servers []integration.ServerView
	Form    integration.ServerInput // kept after a refusal; never a secret value
}

func (s *Server) pageIntegrations(w http.ResponseWriter, r *http.Request) error {
	return s.renderIntegrations(w, r, http.StatusOK, "", integration.ServerInput{Transport: integration.TransportStreamable,
		AuthKind: integration.AuthNone, HeaderName: "Authorization", HeaderPrefix: "Bearer "})
}

func (s *Server) renderIntegrations(w http.ResponseWriter, r *http.Request, code int, errMsg string, form integration.ServerInput) error {
	svc, err := s.integrations()
	if err != nil {
		return err
	}
	vs, err := svc.List(r.Context())
	if err != nil {
		return err
	}
	s.render(w, r, code, "integrations", view{Title: "Integrations", Nav: "integrations", Error: errMsg,
		Script: "confirm.js", Data: integrationsData{Servers: vs, Form: form}})
	return nil
}

// integrationsFormError shows a refusal on the page; other errors go to
// fail.
func (s *Server) integrationsFormError(w http.ResponseWriter, r *http.Request, err error, form integration.ServerInput) error {
	var he *httpError
	if !errors.As(integrationError(err), &he) {
		return err
	}
	return s.renderIntegrations(w, r, he.Code, he.Msg, form)
}

func (s *Server) pageAddMCPServer(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.integrations()
	if err != nil {
		return err
	}
	in := integration.ServerInput{Name: r.PostFormValue("name"), URL: r.PostFormValue("url"),
		Transport: r.PostFormValue("transport"), AuthKind: r.PostFormValue("auth_kind"),
		HeaderName: r.PostFormValue("header_name"), HeaderPrefix: r.PostFormValue("header_prefix"),
		SecretName: r.PostFormValue("secret_name"), ClientID: r.PostFormValue("client_id"),
		ClientSecretName: r.PostFormValue("client_secret_name"), Scopes: r.PostFormValue("scopes")}
	srv, err := svc.Add(r.Context(), in, who(r).actor())
	if err != nil {
		return s.integrationsFormError(w, r, err, in)
	}
	if srv.AuthKind == integration.AuthOAuth {
		s.redirect(w, r, "/integrations#server-"+srv.Name, "Added "+srv.Name+". Press Authorize to sign in at its authorization server; "+
			"nothing is connected until you do.")
		return nil
	}
	s.redirect(w, r, "/integrations", "Connected to "+srv.Name+". Review its tools below: none is offered to the assistant until you approve it.")
	return nil
}

func (s *Server) pageDeleteMCPServer(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.integrations()
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	if err := svc.Delete(r.Context(), name, who(r).actor()); err != nil {
		return s.integrationsFormError(w, r, err, integration.ServerInput{})
	}
	s.redirect(w, r, "/integrations", "Removed "+name+".")
	return nil
}

func (s *Server) pageRefreshMCPServer(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.integrations()
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	if err := svc.Refresh(r.Context(), name); err != nil {
		return s.integrationsFormError(w, r, err, integration.ServerInput{})
	}
	s.redirect(w, r, "/integrations", "Listed the tools of "+name+" again.")
	return nil
}

func (s *Server) pageDecideMCPTool(w http.ResponseWriter, r *http.Request) error {
	d := toolDecision{SHA256: r.PostFormValue("sha256"), Tool: r.PostFormValue("tool")}
	if v := strings.TrimSpace(r.PostFormValue("daily_cap")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return s.renderIntegrations(w, r, http.StatusBadRequest, "daily_cap: a whole number (0: no cap)", integration.ServerInput{})
		}
		d.DailyCap = &n
	}
	if err := s.decideTool(r, d); err != nil {
		var he *httpError
		if errors.As(err, &he) {
			return s.renderIntegrations(w, r, he.Code, he.Msg, integration.ServerInput{})
		}
		return err
	}
	verb := "Denied"
	if strings.HasSuffix(r.URL.Path, "/approve") {
		verb = "Approved"
	}
	tool, _ := decisionTool(r, d)
	s.redirect(w, r, "/integrations", verb+" "+r.PathValue("name")+" / "+tool+".")
	return nil
}

// OAuth (auth_kind "oauth"): the admin starts an authorization with a POST
// (CSRF-checked), which shows a link to the authorization server (a form
// whose answer redirected there would be blocked by the CSP's form-action);
// the server sends the browser back to the callback.

// oauthData is the OAuth page: a link to the authorization server, the
// page that resumes a cross-site callback, or a refusal.
type oauthData struct {
	Server  string
	AuthURL string
	ASHost  string
	Resume  string
	Message string
}

// oauthRedirect is server's redirect URI: under the review URL setting
// (discord.review_base_url) when one is set, else under the request's
// scheme and Host, which checkHost has matched to a name the server
// answers (loopback, AllowedHosts).
func (s *Server) oauthRedirect(r *http.Request, name string) (string, error) {
	path := "/integrations/" + url.PathEscape(name) + "/oauth/callback"
	if s.Settings != nil {
		if base := strings.TrimRight(s.Settings.Get().Discord.ReviewBaseURL, "/"); base != "" {
			return base + path, nil
		}
	}
	if !s.hostAllowed(r.Host) {
		return "", errorf(http.StatusBadRequest, "redirect URI: this host name is not one Airlock serves; set the review URL setting")
	}
	scheme := "http"
	if s.secure(r) {
		scheme = "https"
	}
	return scheme + "://" + r.Host + path, nil
}

func (s *Server) pageAuthorizeMCPServer(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.integrations()
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	redirect, err := s.oauthRedirect(r, name)
	if err != nil {
		return s.integrationsFormError(w, r, err, integration.ServerInput{})
	}
	authURL, err := svc.BeginAuthorization(r.Context(), name, who(r).Session.ID, redirect, who(r).actor())
	if err != nil {
		return s.integrationsFormError(w, r, err, integration.ServerInput{})
	}
	u, err := url.Parse(authURL)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "oauth", view{Title: "Authorize " + name, Nav: "integrations",
		Data: oauthData{Server: name, AuthURL: authURL, ASHost: u.Host}})
	return nil
}

// oauthResume answers the authorization server's redirect when it came
// without the session cookie (a cross-site navigation does not carry a
// SameSite=Strict cookie): a page that sends the browser to the same URL
// again, from this site, marked resume=1. Nothing is checked or consumed
// here; a request that still has no session then goes to sign-in.
func (s *Server) oauthResume(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if _, err := s.sessionOf(r); err != nil && (errors.Is(err, auth.ErrInvalidToken) || errors.Is(err, http.ErrNoCookie)) &&
			q.Get("resume") == "" && q.Get("state") != "" {
			q.Set("resume", "1")
			s.render(w, r, http.StatusOK, "oauth", view{Title: "Authorizing", Script: "oauth.js",
				Data: oauthData{Server: r.PathValue("name"), Resume: r.URL.Path + "?" + q.Encode()}})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) pageOAuthCallback(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.integrations()
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	q := r.URL.Query()
	err = svc.CompleteAuthorization(r.Context(), name, who(r).Session.ID, integration.Callback{State: q.Get("state"),
		Code: q.Get("code"), Issuer: q.Get("iss"), Error: q.Get("error")}, who(r).actor())
	var pe *integration.PublicError
	switch {
	case err == nil:
		s.redirect(w, r, "/integrations#server-"+name, "Authorized "+name+" and connected. Review its tools below: none is offered to the assistant until you approve it.")
	case errors.Is(err, integration.ErrAuthorizationRefused) && errors.As(err, &pe):
		s.render(w, r, http.StatusBadRequest, "oauth", view{Title: "Authorization refused", Nav: "integrations",
			Data: oauthData{Server: name, Message: pe.Msg}})
	case errors.As(err, &pe):
		s.redirect(w, r, "/integrations#server-"+name, "Authorized "+name+", but connecting failed: "+pe.Msg)
	default:
		return err
	}
	return nil
}
