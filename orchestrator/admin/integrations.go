package admin

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

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
	err = svc.Decide(r.Context(), r.PathValue("name"), r.PathValue("tool"), approve, d.SHA256, capv, who(r).actor())
	return integrationError(err)
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
		SecretName: r.PostFormValue("secret_name")}
	srv, err := svc.Add(r.Context(), in, who(r).actor())
	if err != nil {
		return s.integrationsFormError(w, r, err, in)
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
	d := toolDecision{SHA256: r.PostFormValue("sha256")}
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
	s.redirect(w, r, "/integrations", verb+" "+r.PathValue("name")+" / "+r.PathValue("tool")+".")
	return nil
}
