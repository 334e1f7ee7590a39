package discord

import (
	"regexp"
	"slices"
	"strings"

	"github.com/bwmarrin/discordgo"
)

// Links in what the bot posts. Discord fetches every URL of a message to
// build its preview the moment the message is posted, without a click, so
// a prompt-injected model could send data out in a URL's query. Every
// message is therefore posted with embeds suppressed, unless previews are
// on and each of its links points to an allowlisted host. Masked links
// ([your bank](https://evil.example)) are shown with their real target.

// maskedRE matches a masked link whose target is an http(s) URL, with an
// optional <...> around the target and an optional title.
var maskedRE = regexp.MustCompile(`\[([^\[\]]*)\]\(\s*<?\s*((?i:https?)://(?:\([^()\s]*\)|[^\s()<>])*)\s*>?(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)`)

// leftoverRE finds what could still be read as a masked link's target.
var leftoverRE = regexp.MustCompile(`\]\(\s*<?\s*[a-zA-Z][a-zA-Z0-9+.-]*:`)

// unmask rewrites every masked link [label](url) as "label (url)", so the
// target is what the reader sees, repeating until none is left (a label
// may itself hold a link), and escapes any "](" that could still start a
// masked link's target. Code is not spared: a masked link is rare there.
func unmask(text string) string {
	for range 64 {
		next := maskedRE.ReplaceAllString(text, "$1 ($2)")
		if next == text {
			break
		}
		text = next
	}
	return leftoverRE.ReplaceAllStringFunc(text, func(m string) string { return `]\(` + m[2:] })
}

// urlRE finds the URLs Discord would link (and preview) in plain text.
var urlRE = regexp.MustCompile(`(?i)https?://[^\s<]+`)

// messageFlags returns the flags to post text with: embeds suppressed,
// unless previews is on and every URL in text has a host in hosts.
func messageFlags(text string, previews bool, hosts []string) discordgo.MessageFlags {
	if previews && allLinksTo(text, hosts) {
		return 0
	}
	return discordgo.MessageFlagsSuppressEmbeds
}

// allLinksTo reports whether every URL in text has exactly one of hosts
// (lower case) as its host: no user info, no backslash, no odd character,
// at most a port after it.
func allLinksTo(text string, hosts []string) bool {
	for _, u := range urlRE.FindAllString(text, -1) {
		rest := u[strings.Index(u, "://")+3:]
		end := strings.IndexAny(rest, "/?#")
		if end < 0 {
			end = len(rest)
		}
		auth := strings.ToLower(rest[:end])
		if host, port, ok := strings.Cut(auth, ":"); ok {
			if port == "" || strings.Trim(port, "0123456789") != "" {
				return false
			}
			auth = host
		}
		auth = strings.TrimSuffix(auth, ".")
		if !slices.Contains(hosts, auth) {
			return false
		}
	}
	return true
}
