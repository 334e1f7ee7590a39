package discord

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/approval"
	"github.com/bwmarrin/discordgo"
)

var shaRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// NotifyScriptProposed DMs every admin a link to the review page of the
// proposed script version. The message carries only the script's name and
// hash, never the model-written description or source, and offers no way
// to approve: approval happens only in the admin UI. It returns the joined
// errors of the DMs that failed.
func (b *Bot) NotifyScriptProposed(ctx context.Context, si tools.ScriptInfo) error {
	if !approval.ValidName(si.Name) || !shaRE.MatchString(si.SHA256) {
		return fmt.Errorf("discord: notify script proposed: invalid name or sha256")
	}
	text := fmt.Sprintf("The assistant proposed a script for review: `%s` (version %s).\n"+
		"Review it in the admin UI: %s\nIt cannot run until an admin approves this exact version there.",
		si.Name, si.SHA256[:12], b.ReviewLink(si.Name, si.SHA256))
	var errs []error
	for _, admin := range b.cfg.Admins {
		if err := b.dm(ctx, admin, text); err != nil {
			errs = append(errs, fmt.Errorf("discord: notify admin %s: %w", admin, err))
		}
	}
	return errors.Join(errs...)
}

// maxSummaryNames caps the script names listed in one summary.
const maxSummaryNames = 20

// NotifyScriptsPending DMs every admin one summary of the versions
// proposed during a notification window ("3 more script versions await
// review: `a`, `b` (2 versions)") with a link to the scripts page. Like
// NotifyScriptProposed it carries names only (versions with an invalid
// name are counted, not named) and offers no way to approve.
func (b *Bot) NotifyScriptsPending(ctx context.Context, sis []tools.ScriptInfo) error {
	if len(sis) == 0 {
		return nil
	}
	counts := map[string]int{}
	var names []string
	for _, si := range sis {
		if !approval.ValidName(si.Name) {
			continue
		}
		if counts[si.Name] == 0 {
			names = append(names, si.Name)
		}
		counts[si.Name]++
	}
	var list []string
	for _, n := range names[:min(len(names), maxSummaryNames)] {
		item := "`" + n + "`"
		if c := counts[n]; c > 1 {
			item += fmt.Sprintf(" (%d versions)", c)
		}
		list = append(list, item)
	}
	if extra := len(names) - len(list); extra > 0 {
		list = append(list, fmt.Sprintf("and %d more", extra))
	}
	noun := "script versions await"
	if len(sis) == 1 {
		noun = "script version awaits"
	}
	text := fmt.Sprintf("%d more %s review: %s.\nReview them in the admin UI: %s\n"+
		"None can run until an admin approves it there.",
		len(sis), noun, strings.Join(list, ", "), strings.TrimRight(b.cfg.ReviewBaseURL, "/")+"/scripts")
	var errs []error
	for _, admin := range b.cfg.Admins {
		if err := b.dm(ctx, admin, text); err != nil {
			errs = append(errs, fmt.Errorf("discord: notify admin %s: %w", admin, err))
		}
	}
	return errors.Join(errs...)
}

// ReviewLink returns the admin UI's review page of a script version:
// <ReviewBaseURL>/scripts/<name>?sha256=<sha>.
func (b *Bot) ReviewLink(name, sha string) string {
	base := strings.TrimRight(b.cfg.ReviewBaseURL, "/")
	return base + "/scripts/" + url.PathEscape(name) + "?sha256=" + url.QueryEscape(sha)
}

// dm sends text to a user's DM channel, opening it the first time.
func (b *Bot) dm(ctx context.Context, userID, text string) error {
	b.mu.Lock()
	ch := b.dms[userID]
	b.mu.Unlock()
	if ch == "" {
		c, err := b.session.UserChannelCreate(userID, discordgo.WithContext(ctx))
		if err != nil {
			return err
		}
		ch = c.ID
		b.kinds.put(ch, true)
		b.mu.Lock()
		b.dms[userID] = ch
		b.mu.Unlock()
	}
	return b.post(ctx, ch, text, nil)
}
