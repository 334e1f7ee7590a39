package integration

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/airlockhq/airlock/internal/utf8cut"
	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/store"
)

// Result is the outcome of one call: the server's text (not yet wrapped,
// already capped) and whether the server reported a tool error.
type Result struct {
	Text    string
	IsError bool
}

// Call runs the tool the model knows as exposed (<server>__<tool>) with
// args, a JSON object the caller has already redacted. Problems the model
// may read are PublicError. Every call is audited.
func (s *Service) Call(ctx context.Context, exposed string, args json.RawMessage) (Result, error) {
	start := s.cfg.Now()
	sum := sha256.Sum256(args)
	ev := audit.Event{Actor: "worker", Action: "mcp_tool.call", Target: exposed, Outcome: audit.OutcomeOK,
		Details: map[string]any{"args_sha256": hex.EncodeToString(sum[:]), "args_bytes": len(args)}}
	res, t, err := s.call(ctx, exposed, args)
	if t.Server != "" {
		ev.Target = t.Server + "/" + t.Name
		ev.Details["server"], ev.Details["tool"] = t.Server, t.Name
	}
	ev.Details["result_bytes"] = len(res.Text)
	ev.Details["ms"] = s.cfg.Now().Sub(start).Milliseconds()
	var pe *PublicError
	switch {
	case err != nil && errors.As(err, &pe):
		ev.Outcome, ev.Details["error"] = audit.OutcomeDenied, pe.Msg
	case err != nil:
		ev.Outcome, ev.Details["error"] = audit.OutcomeError, s.cfg.Redact(err.Error())
	case res.IsError:
		ev.Outcome = audit.OutcomeError
	}
	s.cfg.Audit(context.WithoutCancel(ctx), ev)
	return res, err
}

func (s *Service) call(ctx context.Context, exposed string, args json.RawMessage) (Result, store.MCPTool, error) {
	if len(args) > tools.MaxRemoteArgBytes {
		return Result{}, store.MCPTool{}, publicf("the arguments are %d bytes; at most %d are allowed", len(args), tools.MaxRemoteArgBytes)
	}
	var argMap map[string]any
	dec := json.NewDecoder(bytes.NewReader(args))
	dec.UseNumber()
	if len(args) == 0 {
		argMap = map[string]any{}
	} else if err := dec.Decode(&argMap); err != nil || argMap == nil {
		return Result{}, store.MCPTool{}, publicf("the arguments must be a JSON object")
	}
	t, err := s.find(ctx, exposed)
	if err != nil {
		return Result{}, t, err
	}
	if c := s.live(t.Server); c != nil && (c.relist.Load() || s.stale(t.Server)) {
		// The server announced a change, or its listing is old: list
		// before calling, so a changed definition cannot be called on the
		// old approval.
		if err := s.Refresh(ctx, t.Server); err == nil {
			if t, err = s.find(ctx, exposed); err != nil {
				return Result{}, t, err
			}
		}
	}
	c := s.live(t.Server)
	if c == nil {
		s.Kick()
		srv, _ := s.cfg.Store.GetMCPServer(ctx, t.Server)
		if srv.State == store.MCPNeedsAuth {
			return Result{}, t, needsAuthTool(t.Server)
		}
		why := ""
		if srv.LastError != "" {
			why = " (" + srv.LastError + ")"
		}
		return Result{}, t, publicf("the MCP server %q is not reachable right now%s; try again later", t.Server, why)
	}
	if err := s.cfg.Store.CountMCPCall(ctx, t.Server, t.Name); errors.Is(err, store.ErrCapReached) {
		return Result{}, t, publicf("the tool %s has used its %d calls for today", exposed, t.DailyCap)
	} else if err != nil {
		return Result{}, t, err
	}
	cctx, cancel := context.WithTimeout(ctx, s.cfg.CallTimeout)
	defer cancel()
	req := mcp.CallToolRequest{}
	req.Params.Name = t.Name
	req.Params.Arguments = argMap
	out, err := c.mc.CallTool(cctx, req)
	if err != nil {
		return Result{}, t, s.callError(ctx, cctx, t, c, err)
	}
	return Result{Text: s.resultText(out), IsError: out.IsError}, t, nil
}

// needsAuthTool is the model's error for a tool of a server whose OAuth
// authorization must be renewed by an admin.
func needsAuthTool(server string) error {
	return &PublicError{Msg: fmt.Sprintf("the MCP server %q needs an admin to authorize Airlock again (Integrations page, Authorize); "+
		"its tools cannot be used until then", server), Err: ErrAuthorizationNeeded}
}

// find returns the offered tool named exposed, or a PublicError.
func (s *Service) find(ctx context.Context, exposed string) (store.MCPTool, error) {
	t, err := s.cfg.Store.MCPToolByExposed(ctx, exposed)
	if errors.Is(err, store.ErrNotFound) {
		return store.MCPTool{}, publicf("there is no tool named %s", exposed)
	}
	if err != nil {
		return store.MCPTool{}, err
	}
	if !t.Offered() {
		return store.MCPTool{}, publicf("the tool %s is not available: it is not approved, or its definition changed and awaits the admin's review", exposed)
	}
	return t, nil
}

// isTimeout reports whether err is a network timeout (net/http's
// Client.Timeout included).
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// callError words a failed call for the model.
func (s *Service) callError(ctx, cctx context.Context, t store.MCPTool, c *conn, err error) error {
	switch {
	case errors.Is(err, ErrAuthorizationNeeded):
		s.drop(t.Server, c)
		return needsAuthTool(t.Server)
	case c.tripped.Load() || errors.Is(err, errTooLarge):
		c.tripped.Store(false)
		s.drop(t.Server, c) // the stream is cut mid-message; start afresh
		return publicf("the MCP server %q sent a response larger than %d bytes; it was refused", t.Server, s.cfg.MaxResponseBytes)
	case ctx.Err() != nil:
		return ctx.Err()
	case cctx.Err() != nil || isTimeout(err):
		// The HTTP client's own timeout (the same length) may fire a moment
		// before the call's context does: the same answer either way.
		return publicf("the MCP server %q did not answer within %s", t.Server, s.cfg.CallTimeout)
	}
	if !isTransport(err) && !strings.Contains(err.Error(), "transport") {
		return publicf("the MCP server %q refused the call: %s", t.Server, clip(s.cfg.Redact(err.Error()), 500))
	}
	s.drop(t.Server, c)
	return publicf("the MCP server %q could not be reached (%s); try again later", t.Server, clip(s.cfg.Redact(err.Error()), 300))
}

func isTransport(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "connection refused") || strings.Contains(msg, "EOF") || strings.Contains(msg, "reset")
}

// resultText flattens a result's content to text, capped at
// MaxResultBytes; content that is not text is named, not passed on.
func (s *Service) resultText(r *mcp.CallToolResult) string {
	var b strings.Builder
	for _, ct := range r.Content {
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		switch v := ct.(type) {
		case mcp.TextContent:
			b.WriteString(v.Text)
		case mcp.ImageContent:
			fmt.Fprintf(&b, "[image content (%s) omitted]", v.MIMEType)
		case mcp.AudioContent:
			fmt.Fprintf(&b, "[audio content (%s) omitted]", v.MIMEType)
		case mcp.EmbeddedResource:
			if tr, ok := v.Resource.(mcp.TextResourceContents); ok {
				b.WriteString(tr.Text)
			} else {
				b.WriteString("[embedded binary resource omitted]")
			}
		default:
			b.WriteString("[content omitted]")
		}
		if b.Len() > s.cfg.MaxResultBytes {
			break
		}
	}
	if b.Len() == 0 && r.StructuredContent != nil {
		if sc, err := json.Marshal(r.StructuredContent); err == nil {
			b.Write(sc)
		}
	}
	text := s.cfg.Redact(b.String())
	if len(text) > s.cfg.MaxResultBytes {
		text = utf8cut.Prefix(text, s.cfg.MaxResultBytes) + fmt.Sprintf("\n[truncated: the result is larger than %d bytes]", s.cfg.MaxResultBytes)
	}
	return text
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return utf8cut.Prefix(s, n) + "…"
}
