package admin

import (
	"net/http"

	"github.com/go-chi/chi/v5"
)

// Handler returns the server's routes, all in one place.
func (s *Server) Handler() http.Handler {
	r := chi.NewRouter()
	r.Use(s.recoverer, securityHeaders, s.reserveOnly, s.checkHost, s.readBody)
	r.NotFound(s.handle(func(w http.ResponseWriter, r *http.Request) error {
		return errorf(http.StatusNotFound, "not found")
	}))
	r.MethodNotAllowed(s.handle(func(w http.ResponseWriter, r *http.Request) error {
		return errorf(http.StatusMethodNotAllowed, "method not allowed")
	}))

	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.handle(s.readyz))
	r.Method(http.MethodGet, "/metrics", s.metricsHandler())
	r.Method(http.MethodGet, "/static/*", staticHandler())

	// Signed-out pages: first-run setup and login.
	r.Group(func(r chi.Router) {
		r.Use(s.checkOrigin, s.csrfSignedOut)
		r.Get("/setup", s.handle(s.showSetup))
		r.Post("/setup", s.handle(s.setup))
		r.Get("/login", s.handle(s.showLogin))
		r.Post("/login", s.handle(s.login))
	})

	// Signed-in pages.
	r.Group(func(r chi.Router) {
		r.Use(s.checkOrigin, s.requireSession, s.csrfSession)
		r.Get("/", s.handle(s.showDashboard))
		r.Post("/logout", s.handle(s.logout))
		r.Get("/welcome/llm", s.handle(s.showWelcomeLLM))
		r.Post("/welcome/llm", s.handle(s.saveWelcomeLLM))
		r.Get("/welcome/discord", s.handle(s.showWelcomeDiscord))
		r.Post("/welcome/discord", s.handle(s.saveWelcomeDiscord))

		r.Get("/scripts", s.handle(s.showScripts))
		r.Get("/scripts/{name}", s.handle(s.showReview))
		r.Post("/scripts/{name}/versions/{sha256}/approve", s.handle(s.pageApprove))
		r.Post("/scripts/{name}/versions/{sha256}/reject", s.handle(s.pageReject))
		r.Post("/scripts/{name}/revoke", s.handle(s.pageRevoke))
		r.Post("/scripts/{name}/test", s.handle(s.pageTestRun))

		r.Get("/secrets", s.handle(s.showSecrets))
		r.Post("/secrets", s.handle(s.pageSaveSecret))
		r.Post("/secrets/{name}/delete", s.handle(s.pageDeleteSecret))

		r.Get("/chat", s.handle(s.showChat))
		r.Post("/chat", s.handle(s.pageNewChat))
		r.Get("/chat/{id}", s.handle(s.showChat))
		r.Post("/chat/{id}/messages", s.handle(s.pageSendMessage))
		r.Get("/chat/{id}/events", s.handle(s.chatEvents))

		r.Get("/memory", s.handle(s.showMemory))
		r.Post("/memory/{id}/share", s.handle(s.pageShareMemory))
		r.Post("/memory/{id}/delete", s.handle(s.pageDeleteMemory))

		r.Get("/settings", s.handle(s.showSettings))
		r.Post("/settings", s.handle(s.pageSaveSettings))
		r.Post("/settings/test-llm", s.handle(s.pageTestLLM))

		r.Get("/audit", s.handle(s.showAudit))
		r.Get("/audit/export", s.handle(s.exportAudit))

		r.Get("/account", s.handle(s.showAccount))
		r.Post("/account/password", s.handle(s.pageChangePassword))
		r.Post("/account/sessions/revoke-others", s.handle(s.pageSignOutOthers))
		r.Post("/account/sessions/{id}/revoke", s.handle(s.pageRevokeSession))
	})

	r.Route("/api/v1", func(r chi.Router) {
		r.Use(s.apiOrigin)
		r.Get("/setup", s.handle(s.apiSetupState))
		r.Post("/setup", s.handle(s.apiSetup))
		r.Post("/auth/login", s.handle(s.apiLogin))
		r.Group(func(r chi.Router) {
			r.Use(s.requireAPI)
			r.Post("/auth/logout", s.handle(s.apiLogout))
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
			r.Get("/memory", s.handle(s.listMemory))
			r.Post("/memory/{id}/share", s.handle(s.shareMemory))
			r.Delete("/memory/{id}", s.handle(s.deleteMemory))
			r.Get("/settings", s.handle(s.apiSettings))
			r.Put("/settings", s.handle(s.apiSaveSettings))
			r.Get("/audit", s.handle(s.listAudit))
			r.Get("/audit/verify", s.handle(s.verifyAudit))
		})
	})
	return r
}
