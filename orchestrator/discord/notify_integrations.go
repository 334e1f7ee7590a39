package discord

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// safeToolName is what a third-party tool name must look like to be named
// in a DM: no markdown, mention or link can ride in on it.
var safeToolName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// NotifyToolsWithdrawn DMs every admin that an external MCP server changed
// the definition of approved tools, which are withdrawn until approved
// again on the Integrations page (issue 15). Names that are not plain are
// counted, not written out: they come from the server.
func (b *Bot) NotifyToolsWithdrawn(ctx context.Context, server string, names []string) error {
	if !safeToolName.MatchString(server) {
		return fmt.Errorf("discord: notify tools withdrawn: invalid server name")
	}
	var list []string
	odd := 0
	for _, n := range names {
		if safeToolName.MatchString(n) && len(list) < maxSummaryNames {
			list = append(list, "`"+n+"`")
		} else {
			odd++
		}
	}
	if odd > 0 {
		list = append(list, fmt.Sprintf("%d more", odd))
	}
	text := fmt.Sprintf("The MCP server `%s` changed the definition of approved tools: %s.\n"+
		"They are withdrawn from the assistant until an admin reviews and approves them again: %s",
		server, strings.Join(list, ", "), strings.TrimRight(b.cfg.ReviewBaseURL, "/")+"/integrations")
	var errs []error
	for _, admin := range b.cfg.Admins {
		if err := b.dm(ctx, admin, text); err != nil {
			errs = append(errs, fmt.Errorf("discord: notify admin %s: %w", admin, err))
		}
	}
	return errors.Join(errs...)
}

// NotifyToolsWithdrawn DMs the admins, as NotifyProposed does, that an
// external MCP server's approved tools were withdrawn.
func (r *Runner) NotifyToolsWithdrawn(server string, names []string) {
	r.notify(func(ctx context.Context, bot *Bot) error {
		return bot.NotifyToolsWithdrawn(ctx, server, names)
	})
}
