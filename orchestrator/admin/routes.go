package admin

import (
	"net/http"

	"github.com/go-chi/chi/v5"
)

// Handler returns the server's routes, all in one place. Handlers that
// render HTML are named page* and live in pages_*.go; handlers of the
// JSON API are named api* and live in api_*.go. Both only parse, call the
// service that owns the rule (approval, auth, secrets, the core) and
// render.
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
		r.Get("/setup", s.handle(s.pageSetupForm))
		r.Post("/setup", s.handle(s.pageSetup))
		r.Get("/login", s.handle(s.pageLoginForm))
		r.Post("/login", s.handle(s.pageLogin))
	})

	// The OAuth callback of an external MCP server: the authorization
	// server's redirect arrives cross-site, without the session cookie;
	// oauthResume sends it back from this site, with it.
	r.Group(func(r chi.Router) {
		r.Use(s.checkOrigin, s.oauthResume, s.requireSession, s.csrfSession)
		r.Get("/integrations/{name}/oauth/callback", s.handle(s.pageOAuthCallback))
	})

	// Signed-in pages.
	r.Group(func(r chi.Router) {
		r.Use(s.checkOrigin, s.requireSession, s.csrfSession)
		r.Get("/", s.handle(s.pageDashboard))
		r.Post("/logout", s.handle(s.pageLogout))
		r.Get("/welcome/llm", s.handle(s.pageWelcomeLLM))
		r.Post("/welcome/llm", s.handle(s.pageSaveWelcomeLLM))
		r.Get("/welcome/discord", s.handle(s.pageWelcomeDiscord))
		r.Post("/welcome/discord", s.handle(s.pageSaveWelcomeDiscord))

		r.Get("/scripts", s.handle(s.pageScripts))
		r.Get("/scripts/{name}", s.handle(s.pageReview))
		r.Post("/scripts/{name}/versions/{sha256}/approve", s.handle(s.pageApproveScript))
		r.Post("/scripts/{name}/versions/{sha256}/reject", s.handle(s.pageRejectScript))
		r.Post("/scripts/{name}/revoke", s.handle(s.pageRevokeScript))
		r.Post("/scripts/{name}/test", s.handle(s.pageTestScript))

		r.Get("/secrets", s.handle(s.pageSecrets))
		r.Post("/secrets", s.handle(s.pageSaveSecret))
		r.Post("/secrets/{name}/delete", s.handle(s.pageDeleteSecret))

		r.Get("/chat", s.handle(s.pageChat))
		r.Post("/chat", s.handle(s.pageNewChat))
		r.Get("/chat/{id}", s.handle(s.pageChat))
		r.Post("/chat/{id}/messages", s.handle(s.pageSendMessage))
		r.Get("/chat/{id}/events", s.handle(s.pageChatEvents))

		r.Get("/memory", s.handle(s.pageMemory))
		r.Post("/memory/{id}/share", s.handle(s.pageShareMemory))
		r.Post("/memory/{id}/delete", s.handle(s.pageDeleteMemory))
		// Memory under review (issue 16).
		r.Get("/memory/history", s.handle(s.pageMemoryHistory))
		r.Get("/memory/versions/{id}", s.handle(s.pageMemoryVersion))
		r.Post("/memory/versions/{id}/restore", s.handle(s.pageRestoreMemoryVersion))
		r.Post("/memory/{id}/edit", s.handle(s.pageEditMemory))
		r.Post("/memory/{id}/pin", s.handle(s.pagePinMemory))
		r.Post("/memory/pending/{id}/approve", s.handle(s.pageDecideMemory(true)))
		r.Post("/memory/pending/{id}/reject", s.handle(s.pageDecideMemory(false)))

		r.Get("/settings", s.handle(s.pageSettings))
		r.Post("/settings", s.handle(s.pageSaveSettings))
		r.Post("/settings/test-llm", s.handle(s.pageTestLLM))

		// External MCP servers (issue 15).
		r.Get("/integrations", s.handle(s.pageIntegrations))
		r.Post("/integrations", s.handle(s.pageAddMCPServer))
		r.Post("/integrations/{name}/delete", s.handle(s.pageDeleteMCPServer))
		r.Post("/integrations/{name}/refresh", s.handle(s.pageRefreshMCPServer))
		r.Post("/integrations/{name}/tools/{tool}/approve", s.handle(s.pageDecideMCPTool))
		r.Post("/integrations/{name}/tools/{tool}/deny", s.handle(s.pageDecideMCPTool))
		// The tool named by the form field tool (names may hold '/').
		r.Post("/integrations/{name}/tools/approve", s.handle(s.pageDecideMCPTool))
		r.Post("/integrations/{name}/tools/deny", s.handle(s.pageDecideMCPTool))
		r.Post("/integrations/{name}/oauth/authorize", s.handle(s.pageAuthorizeMCPServer))
		// Scheduled jobs (issue 14).
		r.Get("/jobs", s.handle(s.pageJobs))
		r.Post("/jobs", s.handle(s.pageCreateJob))
		r.Get("/jobs/{id}", s.handle(s.pageJob))
		r.Post("/jobs/{id}", s.handle(s.pageUpdateJob))
		r.Post("/jobs/{id}/{action}", s.handle(s.pageJobAction))

		r.Get("/audit", s.handle(s.pageAudit))
		r.Get("/audit/export", s.handle(s.pageExportAudit))

		r.Get("/account", s.handle(s.pageAccount))
		r.Post("/account/password", s.handle(s.pageChangePassword))
		r.Post("/account/sessions/revoke-others", s.handle(s.pageSignOutOthers))
		r.Post("/account/sessions/{id}/revoke", s.handle(s.pageRevokeSession))

		// Backups (issue 18).
		r.Get("/backups", s.handle(s.pageBackups))
		r.Post("/backups", s.handle(s.pageCreateBackup))
		r.Post("/backups/{name}/download", s.handle(s.pageDownloadBackup))
	})

	r.Route("/api/v1", func(r chi.Router) {
		r.Use(s.apiOrigin)
		r.Get("/setup", s.handle(s.apiSetupState))
		r.Post("/setup", s.handle(s.apiSetup))
		r.Post("/auth/login", s.handle(s.apiLogin))
		r.Group(func(r chi.Router) {
			r.Use(s.requireAPI)
			r.Post("/auth/logout", s.handle(s.apiLogout))
			r.Get("/status", s.handle(s.apiStatus))
			r.Get("/conversations", s.handle(s.apiListConversations))
			r.Post("/conversations", s.handle(s.apiCreateConversation))
			r.Get("/conversations/{id}", s.handle(s.apiConversation))
			r.Post("/conversations/{id}/messages", s.handle(s.apiPostMessage))
			r.Get("/scripts", s.handle(s.apiListScripts))
			r.Get("/scripts/{name}", s.handle(s.apiScript))
			r.Post("/scripts/{name}/versions/{sha256}/approve", s.handle(s.apiApproveScript))
			r.Post("/scripts/{name}/versions/{sha256}/reject", s.handle(s.apiRejectScript))
			r.Post("/scripts/{name}/revoke", s.handle(s.apiRevokeScript))
			r.Post("/scripts/{name}/test", s.handle(s.apiTestScript))
			r.Get("/secrets", s.handle(s.apiListSecrets))
			r.Put("/secrets/{name}", s.handle(s.apiSaveSecret))
			r.Delete("/secrets/{name}", s.handle(s.apiDeleteSecret))
			r.Get("/memory", s.handle(s.apiListMemory))
			r.Post("/memory/{id}/share", s.handle(s.apiShareMemory))
			r.Delete("/memory/{id}", s.handle(s.apiDeleteMemory))
			// Memory under review (issue 16).
			r.Put("/memory/{id}", s.handle(s.apiEditMemory))
			r.Post("/memory/{id}/pin", s.handle(s.apiPinMemory))
			r.Get("/memory/versions", s.handle(s.apiMemoryVersions))
			r.Get("/memory/versions/{id}", s.handle(s.apiMemoryVersion))
			r.Get("/memory/versions/{id}/diff", s.handle(s.apiMemoryVersionDiff))
			r.Post("/memory/versions/{id}/restore", s.handle(s.apiRestoreMemoryVersion))
			r.Get("/memory/pending", s.handle(s.apiPendingMemory))
			r.Post("/memory/pending/{id}/approve", s.handle(s.apiDecideMemory(true)))
			r.Post("/memory/pending/{id}/reject", s.handle(s.apiDecideMemory(false)))
			r.Get("/settings", s.handle(s.apiSettings))
			r.Put("/settings", s.handle(s.apiSaveSettings))
			// External MCP servers (issue 15).
			r.Get("/mcp-servers", s.handle(s.apiListMCPServers))
			r.Post("/mcp-servers", s.handle(s.apiAddMCPServer))
			r.Get("/mcp-servers/{name}", s.handle(s.apiMCPServer))
			r.Delete("/mcp-servers/{name}", s.handle(s.apiDeleteMCPServer))
			r.Post("/mcp-servers/{name}/refresh", s.handle(s.apiRefreshMCPServer))
			r.Post("/mcp-servers/{name}/tools/{tool}/approve", s.handle(s.apiDecideMCPTool))
			r.Post("/mcp-servers/{name}/tools/{tool}/deny", s.handle(s.apiDecideMCPTool))
			r.Post("/mcp-servers/{name}/tools/approve", s.handle(s.apiDecideMCPTool))
			r.Post("/mcp-servers/{name}/tools/deny", s.handle(s.apiDecideMCPTool))
			// Scheduled jobs (issue 14).
			r.Get("/jobs", s.handle(s.apiListJobs))
			r.Post("/jobs", s.handle(s.apiCreateJob))
			r.Get("/jobs/{id}", s.handle(s.apiJob))
			r.Put("/jobs/{id}", s.handle(s.apiUpdateJob))
			r.Delete("/jobs/{id}", s.handle(s.apiDeleteJob))
			r.Post("/jobs/{id}/{action}", s.handle(s.apiJobAction))
			r.Get("/audit", s.handle(s.apiListAudit))
			r.Get("/audit/verify", s.handle(s.apiVerifyAudit))
			// Cost and tokens (issue 16).
			r.Get("/usage", s.handle(s.apiUsage))

			// Issue 17: the deployment audit.
			r.Get("/doctor", s.handle(s.apiDoctor))
			// Backups (issue 18).
			r.Get("/backups", s.handle(s.apiListBackups))
			r.Post("/backups", s.handle(s.apiCreateBackup))
			r.Post("/backups/{name}/download", s.handle(s.apiDownloadBackup))
		})
	})
	return r
}
