package integration

import (
	"context"
	"errors"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/store"
)

// install makes c the live connection of server, closing any previous one.
func (s *Service) install(server string, c *conn) {
	c.mc.OnNotification(func(n mcp.JSONRPCNotification) {
		if n.Method == string(mcp.MethodNotificationToolsListChanged) {
			c.relist.Store(true) // re-listed before the next call, and by Run at once
			s.Kick()
		}
	})
	c.mc.OnConnectionLost(func(error) {
		c.broken.Store(true)
		s.Kick()
	})
	s.mu.Lock()
	old := s.conns[server]
	s.conns[server] = c
	s.mu.Unlock()
	if old != nil && old != c {
		old.close()
	}
}

// live returns the server's connection, or nil when it has none usable.
func (s *Service) live(server string) *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.conns[server]
	if c == nil || c.broken.Load() {
		return nil
	}
	return c
}

// drop forgets c as server's connection after a transport failure.
func (s *Service) drop(server string, c *conn) {
	s.mu.Lock()
	if s.conns[server] == c {
		delete(s.conns, server)
	}
	s.mu.Unlock()
	c.close()
	s.Kick()
}

// Kick makes Run look at every server now.
func (s *Service) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Close closes every connection.
func (s *Service) Close() {
	s.mu.Lock()
	cs := s.conns
	s.conns = map[string]*conn{}
	s.mu.Unlock()
	for _, c := range cs {
		c.close()
	}
}

// minRelist is the shortest interval between two listings Run makes for a
// server's change notices.
const minRelist = 5 * time.Second

// Run keeps a connection to every server until ctx ends: it reconnects
// with backoff (doubling from one second to MaxBackoff) and re-lists each
// server's tools every RefreshEvery and whenever the server says its list
// changed.
func (s *Service) Run(ctx context.Context) {
	defer s.Close()
	type retry struct {
		at   time.Time
		wait time.Duration
	}
	retries := map[string]*retry{}
	listed := map[string]time.Time{}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		srvs, err := s.cfg.Store.ListMCPServers(ctx)
		if err != nil && ctx.Err() == nil {
			s.cfg.Logger.Error("listing MCP servers failed", "err", err)
		}
		now := s.cfg.Now()
		for _, srv := range srvs {
			if srv.State == store.MCPNeedsAuth {
				// Only an admin's authorization brings it back.
				delete(retries, srv.Name)
				continue
			}
			r := retries[srv.Name]
			c := s.live(srv.Name)
			// A server announcing changes non-stop is listed at most every
			// minRelist by Run; a call still lists first (see Service.call).
			since := now.Sub(listed[srv.Name])
			due := c == nil || c.relist.Load() && since >= minRelist || since >= s.cfg.RefreshEvery
			if !due || (r != nil && now.Before(r.at)) {
				continue
			}
			if err := s.Refresh(ctx, srv.Name); err != nil {
				if r == nil {
					r = &retry{wait: time.Second}
					retries[srv.Name] = r
				} else {
					r.wait = min(r.wait*2, s.cfg.MaxBackoff)
				}
				r.at = now.Add(r.wait)
				continue
			}
			delete(retries, srv.Name)
			listed[srv.Name] = now
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-s.kick:
		}
	}
}

// Refresh lists a server's tools again, over its live connection or a new
// one, and records changes: a changed definition of an approved tool
// withdraws it (and the admins are told), a new tool arrives pending.
func (s *Service) Refresh(ctx context.Context, name string) error {
	srv, err := s.cfg.Store.GetMCPServer(ctx, name)
	if err != nil {
		return err
	}
	var listed []store.MCPTool
	c := s.live(name)
	if c != nil {
		c.relist.Store(false)
		lctx, cancel := context.WithTimeout(ctx, s.cfg.ConnectTimeout)
		res, lerr := c.mc.ListTools(lctx, mcp.ListToolsRequest{})
		cancel()
		if lerr == nil {
			listed, err = s.definitions(name, res.Tools)
		} else {
			s.drop(name, c)
			c = nil
		}
	}
	if c == nil {
		c, listed, err = s.connect(ctx, srv)
		if err == nil {
			s.install(name, c)
		}
	}
	if err != nil {
		state := store.MCPError
		if errors.Is(err, ErrAuthorizationNeeded) {
			state = store.MCPNeedsAuth
		}
		s.setState(ctx, srv, state, err)
		return err
	}
	changes, err := s.cfg.Store.SyncMCPTools(ctx, name, listed)
	if err != nil {
		return err
	}
	s.markListed(name)
	s.setState(ctx, srv, store.MCPConnected, nil)
	s.report(ctx, name, changes)
	return nil
}

// markListed records that server's tools were just listed.
func (s *Service) markListed(server string) {
	s.mu.Lock()
	s.listed[server] = s.cfg.Now()
	s.mu.Unlock()
}

// stale reports whether server's listing is older than ListBeforeCall.
func (s *Service) stale(server string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg.Now().Sub(s.listed[server]) > s.cfg.ListBeforeCall
}

// setState records a server's state; a change of state is logged.
func (s *Service) setState(ctx context.Context, srv store.MCPServer, state string, err error) {
	msg := ""
	if err != nil {
		msg = s.cfg.Redact(err.Error())
	}
	if srv.State != state || srv.LastError != msg {
		if err != nil {
			s.cfg.Logger.Warn("MCP server unreachable", "server", srv.Name, "err", msg)
		} else {
			s.cfg.Logger.Info("MCP server connected", "server", srv.Name)
		}
	}
	if werr := s.cfg.Store.SetMCPServerState(context.WithoutCancel(ctx), srv.Name, state, msg); werr != nil {
		s.cfg.Logger.Error("recording an MCP server's state failed", "server", srv.Name, "err", werr)
	}
}

// report audits what a listing changed and tells the admins of withdrawn
// tools.
func (s *Service) report(ctx context.Context, server string, changes []store.MCPToolChange) {
	var withdrawn, added []string
	for _, ch := range changes {
		switch {
		case ch.Withdrawn:
			withdrawn = append(withdrawn, ch.Tool)
			s.cfg.Audit(ctx, audit.Event{Actor: "system", Action: "mcp_tool.withdrawn", Target: server + "/" + ch.Tool,
				Outcome: audit.OutcomeDenied, Details: map[string]any{"reason": "the server changed the approved definition"}})
		case ch.New:
			added = append(added, ch.Tool)
		}
	}
	if len(added) > 0 {
		s.cfg.Audit(ctx, audit.Event{Actor: "system", Action: "mcp_tool.listed", Target: server, Outcome: audit.OutcomeOK,
			Details: map[string]any{"new_tools": added, "status": "pending"}})
	}
	if len(withdrawn) > 0 {
		s.cfg.Logger.Warn("MCP tool definitions changed; withdrawn until an admin approves them again on the Integrations page",
			"server", server, "tools", withdrawn)
		if s.cfg.Notify != nil {
			s.cfg.Notify(ctx, server, withdrawn)
		}
	}
}
