package admin

import (
	"net/http"

	"github.com/go-chi/chi/v5"
)

// Handler returns the server's routes, all in one place.
func (s *Server) Handler() http.Handler {
	r := chi.NewRouter()
	r.Use(s.recoverer, securityHeaders)
	r.NotFound(s.handle(func(w http.ResponseWriter, r *http.Request) error {
		return errorf(http.StatusNotFound, "not found")
	}))
	r.MethodNotAllowed(s.handle(func(w http.ResponseWriter, r *http.Request) error {
		return errorf(http.StatusMethodNotAllowed, "method not allowed")
	}))

	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.handle(s.readyz))

	r.Route("/api/v1", func(r chi.Router) {
		r.Use(s.requireToken)
		r.Get("/status", s.handle(s.showStatus))
		r.Get("/conversations", s.handle(s.listConversations))
		r.Post("/conversations", s.handle(s.createConversation))
		r.Get("/conversations/{id}", s.handle(s.showConversation))
		r.Post("/conversations/{id}/messages", s.handle(s.postMessage))
		r.Get("/scripts", s.handle(s.listScripts))
		r.Get("/scripts/{name}", s.handle(s.showScript))
		r.Post("/scripts/{name}/versions/{sha256}/approve", s.handle(s.approveScript))
		r.Post("/scripts/{name}/versions/{sha256}/reject", s.handle(s.rejectScript))
		r.Post("/scripts/{name}/revoke", s.handle(s.revokeScript))
		r.Post("/scripts/{name}/test", s.handle(s.testScript))
		r.Get("/secrets", s.handle(s.listSecrets))
		r.Put("/secrets/{name}", s.handle(s.saveSecret))
		r.Delete("/secrets/{name}", s.handle(s.deleteSecret))
		r.Get("/audit", s.handle(s.listAudit))
		r.Get("/audit/verify", s.handle(s.verifyAudit))
	})
	return r
}
