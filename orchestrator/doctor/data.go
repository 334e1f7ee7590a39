package doctor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"strings"
	"time"

	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/secure/egress"
)

// Script grant thresholds.
const (
	manyHosts      = 5
	pendingTooLong = 7 * 24 * time.Hour
)

func scriptChecks() []check {
	return []check{
		{"scripts.secrets", "Approved scripts granted secrets", Info,
			"review each script's secret grants on its review page; revoke the ones you no longer need",
			scriptsCheck(func(approved []store.ScriptVersion) (Status, string) {
				var with []string
				for _, v := range approved {
					if len(v.Grants.Secrets) > 0 {
						with = append(with, fmt.Sprintf("%s (%s)", v.Name, strings.Join(v.Grants.Secrets, ", ")))
					}
				}
				if len(with) > 0 {
					return warnf("%d approved script(s) may use secrets: %s", len(with), listed(with))
				}
				return okf("%d approved script(s), none granted a secret", len(approved))
			})},
		{"scripts.hosts", "Approved scripts are granted few, specific hosts", Medium,
			"revoke and re-approve the script with only the hosts it needs (no wildcard, no IP address)",
			scriptsCheck(func(approved []store.ScriptVersion) (Status, string) {
				var wide []string
				for _, v := range approved {
					if len(v.Grants.Hosts) > manyHosts {
						wide = append(wide, fmt.Sprintf("%s (%d hosts)", v.Name, len(v.Grants.Hosts)))
					}
					for _, h := range v.Grants.Hosts {
						if strings.Contains(h, "*") {
							wide = append(wide, fmt.Sprintf("%s (%s)", v.Name, h))
						}
					}
				}
				if len(wide) > 0 {
					return warnf("%s", listed(wide))
				}
				return okf("%d approved script(s), each with at most %d named hosts", len(approved), manyHosts)
			})},
		{"scripts.hosts_egress", "Hosts granted to scripts need no egress exception", Medium,
			"grant scripts public host names; an internal address needs an egress allowlist entry, which every request of the AI then shares",
			func(ctx context.Context, e *Env) (Status, string) {
				approved, err := approvedScripts(ctx, e)
				if err != nil {
					return skipf("%v", err)
				}
				allow, _ := egress.ParseAllow(e.Settings.EgressAllow)
				var inner []string
				for _, v := range approved {
					for _, h := range v.Grants.Hosts {
						ip, perr := netip.ParseAddr(h)
						internal := h == "localhost" || strings.HasSuffix(h, ".internal") || strings.HasSuffix(h, ".local") ||
							perr == nil && (ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast())
						if internal {
							state := "refused by the egress guard"
							if allow.AllowsHost(h) || perr == nil && allow.AllowsAddr(ip) {
								state = "reached through the egress allowlist"
							}
							inner = append(inner, fmt.Sprintf("%s: %s (%s)", v.Name, h, state))
						}
					}
				}
				if len(inner) > 0 {
					return warnf("%s", listed(inner))
				}
				return okf("no approved script is granted an internal host")
			}},
		{"scripts.pending_old", "No script proposal waits more than a week", Low,
			"review or reject the pending versions on the Scripts page",
			func(ctx context.Context, e *Env) (Status, string) {
				if e.Store == nil {
					return skipf("no database")
				}
				pending, err := e.Store.PendingScriptVersions(ctx)
				if err != nil {
					return failf("%v", err)
				}
				var old []string
				for _, v := range pending {
					if e.Now().Sub(v.CreatedAt) > pendingTooLong {
						old = append(old, fmt.Sprintf("%s@%.12s", v.Name, v.SHA256))
					}
				}
				if len(old) > 0 {
					return warnf("%d pending for more than a week: %s", len(old), listed(old))
				}
				return okf("%d pending, none older than a week", len(pending))
			}},
	}
}

func approvedScripts(ctx context.Context, e *Env) ([]store.ScriptVersion, error) {
	if e.Store == nil {
		return nil, errors.New("no database")
	}
	list, err := e.Store.ListScripts(ctx)
	if err != nil {
		return nil, err
	}
	var out []store.ScriptVersion
	for _, s := range list {
		if s.Approved != nil {
			out = append(out, *s.Approved)
		}
	}
	return out, nil
}

func scriptsCheck(f func([]store.ScriptVersion) (Status, string)) func(context.Context, *Env) (Status, string) {
	return func(ctx context.Context, e *Env) (Status, string) {
		approved, err := approvedScripts(ctx, e)
		if err != nil {
			return skipf("%v", err)
		}
		return f(approved)
	}
}

func discordChecks() []check {
	return []check{
		{"discord.allowlist", "Someone may talk to the Discord bot", Info,
			"add your Discord user id to the allowed users in Settings (empty means nobody)",
			func(_ context.Context, e *Env) (Status, string) {
				if !e.DiscordToken {
					return skipf("no Discord token")
				}
				if len(e.Settings.Discord.AllowedUsers) == 0 {
					return warnf("a token is set but the allowlist is empty: the bot answers nobody")
				}
				return okf("%d allowed user(s)", len(e.Settings.Discord.AllowedUsers))
			}},
		{"discord.channels", "Replies in server channels are seen by every member", Info,
			"allow only private channels; answers in a channel are visible to everyone who can read it",
			func(_ context.Context, e *Env) (Status, string) {
				if !e.DiscordToken {
					return skipf("no Discord token")
				}
				if n := len(e.Settings.Discord.AllowedChannels); n > 0 {
					note := "run with --deep to see whether they are in public servers (discord.public_servers)"
					if e.Deep {
						note = "whether they are in public servers: see discord.public_servers"
					}
					return warnf("%d allowed channel(s): %s; answers there are readable by every member; %s", n,
						listed(e.Settings.Discord.AllowedChannels), note)
				}
				return okf("no channel: direct messages only")
			}},
		{"discord.public_servers", "No allowed channel is in a public Discord server", Medium,
			"remove the channel from the allowed channels in Settings, or use a channel of a private server",
			deep(publicServers)},
	}
}

// publicMembers is the member count from which a server counts as
// public even without the COMMUNITY or DISCOVERABLE feature.
const publicMembers = 50

// maxChannelLookups bounds the Discord requests of discord.public_servers.
const maxChannelLookups = 25

// publicServers looks up the server of each allowed channel (live, with
// the bot's token) and warns for a public one: a Community or
// discoverable server, or one of publicMembers members or more.
func publicServers(ctx context.Context, e *Env) (Status, string) {
	if !e.DiscordToken {
		return skipf("no Discord token")
	}
	chans := e.Settings.Discord.AllowedChannels
	if len(chans) == 0 {
		return okf("no channel: direct messages only")
	}
	if e.Probes.DiscordChannel == nil {
		return skipf("no Discord probe")
	}
	var public, private, failed []string
	for i, id := range chans {
		if i == maxChannelLookups {
			failed = append(failed, fmt.Sprintf("%d more not looked up", len(chans)-i))
			break
		}
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		ch, err := e.Probes.DiscordChannel(pctx, id)
		cancel()
		switch {
		case err != nil:
			failed = append(failed, fmt.Sprintf("%s (%s)", id, probeError(err)))
		case ch.GuildID == "":
			private = append(private, id+" (not in a server)")
		default:
			var why []string
			for _, f := range ch.Features {
				if f == "COMMUNITY" || f == "DISCOVERABLE" {
					why = append(why, f)
				}
			}
			if ch.Members >= publicMembers {
				why = append(why, fmt.Sprintf("about %d members", ch.Members))
			}
			where := fmt.Sprintf("%s in server %q (%s)", id, shorten(ch.GuildName, 60), ch.GuildID)
			if len(why) > 0 {
				public = append(public, where+": "+strings.Join(why, ", "))
			} else {
				private = append(private, fmt.Sprintf("%s, %d members", where, ch.Members))
			}
		}
	}
	switch {
	case len(public) > 0:
		ev := "public server: " + strings.Join(public, "; ")
		if len(failed) > 0 {
			ev += "; not looked up: " + strings.Join(failed, "; ")
		}
		return warnf("%s", ev)
	case len(failed) > 0:
		return skipf("could not look up: %s", strings.Join(failed, "; "))
	}
	return okf("private: %s", strings.Join(private, "; "))
}

// shorten cuts s (a server name, outside text) to n runes.
func shorten(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// staleIndexAfter is how long a message may wait for the memory-search
// index before the doctor warns: the store indexes the queue half a second
// after a write.
const staleIndexAfter = 10 * time.Minute

// Disk thresholds.
const (
	minFreeBytes   = 256 << 20
	minFreePercent = 5
)

func dataChecks() []check {
	return []check{
		{"data.audit_chain", "The audit log's hash chain verifies", Critical,
			"restore the database from a backup and find out who wrote to it (the audit page shows the first bad entry)",
			func(ctx context.Context, e *Env) (Status, string) {
				if e.Store == nil {
					return skipf("no database")
				}
				rep, err := audit.New(e.Store, e.Now, nil).Verify(ctx)
				if err != nil {
					return failf("cannot read the audit log: %v", err)
				}
				if !rep.OK {
					return failf("chain broken at entry %d after %d good entries: %s", rep.FirstBadID, rep.Checked, rep.Reason)
				}
				return okf("%d entries verified", rep.Checked)
			}},
		{"data.integrity", "SQLite's integrity check passes", Critical,
			"stop the container and restore the database from a backup",
			func(ctx context.Context, e *Env) (Status, string) {
				if e.StoreErr != nil {
					return failf("the database does not open: %v", e.StoreErr)
				}
				if e.Store == nil {
					return skipf("no database")
				}
				problems, err := e.Store.IntegrityCheck(ctx, e.Deep)
				if err != nil {
					return failf("%v", err)
				}
				kind := "quick_check"
				if e.Deep {
					kind = "integrity_check"
				}
				if len(problems) > 0 {
					return failf("%s: %s", kind, listed(problems))
				}
				return okf("PRAGMA %s: ok", kind)
			}},
		{"data.disk_space", "The data volume has free space", High,
			"free space on the data volume's disk, or give it a larger one",
			func(_ context.Context, e *Env) (Status, string) {
				if e.DiskFree == nil {
					return skipf("no disk probe")
				}
				free, total, err := e.DiskFree(e.Config.DataDir)
				if errors.Is(err, fs.ErrNotExist) {
					return skipf("%s does not exist yet", e.Config.DataDir)
				}
				if err != nil {
					return failf("statfs %s: %v", e.Config.DataDir, err)
				}
				ev := fmt.Sprintf("%s free of %s", bytesIEC(free), bytesIEC(total))
				if free < minFreeBytes || total > 0 && free*100/total < minFreePercent {
					return Warn, ev
				}
				return Pass, ev
			}},
		{"data.search_index", "Memory search's index is up to date", Medium,
			`look in the orchestrator's log for "indexing messages for memory search failed" (a full disk, a damaged database); once the cause is gone the queue is indexed at the next write, search or start`,
			func(ctx context.Context, e *Env) (Status, string) {
				if e.Store == nil {
					return skipf("no database")
				}
				n, oldest, err := e.Store.IndexQueue(ctx)
				if err != nil {
					return failf("%v", err)
				}
				if n == 0 {
					return okf("no message waits for the index")
				}
				ev := fmt.Sprintf("%d messages wait for the index, the oldest stored %s", n, oldest.UTC().Format(time.RFC3339))
				if e.Now().Sub(oldest) > staleIndexAfter {
					return Warn, ev + ": memory search does not find them"
				}
				return Pass, ev
			}},
		{"data.db_size", "The database can still grow", Medium,
			"free space, prune old conversations, or move the data volume to a larger disk",
			func(_ context.Context, e *Env) (Status, string) {
				db, wal, err := store.FileSizes(e.Config.DBPath())
				if err != nil {
					return failf("%v", err)
				}
				if db == 0 {
					return skipf("no database yet")
				}
				ev := fmt.Sprintf("database %s, WAL %s", bytesIEC(uint64(db)), bytesIEC(uint64(wal)))
				if e.DiskFree != nil {
					if free, _, err := e.DiskFree(e.Config.DataDir); err == nil {
						ev += ", " + bytesIEC(free) + " free"
						// A VACUUM or a backup needs about the database's size again.
						if free < uint64(db+wal) {
							return Warn, ev + ": less free space than the database takes"
						}
					}
				}
				return Pass, ev
			}},
	}
}

func bytesIEC(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// Deep probe targets: each must be refused by the egress guard.
var egressProbes = []string{"http://169.254.169.254/latest/meta-data/", "http://127.0.0.1/", "http://10.0.0.1/"}

func deepChecks() []check {
	return []check{
		{"deep.egress_guard", "The egress guard refuses metadata, loopback and private addresses", Critical,
			"remove 169.254.0.0/16, loopback and private ranges from the egress allowlist",
			deep(func(ctx context.Context, e *Env) (Status, string) {
				if e.Probes.Egress == nil {
					return skipf("no egress probe")
				}
				var through, refused []string
				for _, u := range egressProbes {
					pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
					err := e.Probes.Egress(pctx, u)
					cancel()
					host := strings.TrimSuffix(strings.TrimPrefix(u, "http://"), "/latest/meta-data/")
					host = strings.TrimSuffix(host, "/")
					if errors.Is(err, egress.ErrRefused) {
						refused = append(refused, host)
					} else {
						through = append(through, host)
					}
				}
				if len(through) > 0 {
					return failf("not refused by the guard: %s", strings.Join(through, ", "))
				}
				return okf("refused: %s", strings.Join(refused, ", "))
			})},
		{"deep.model", "The configured model answers", Medium,
			"check the model, base URL and key in Settings (the test button shows the provider's answer)",
			deep(func(ctx context.Context, e *Env) (Status, string) {
				if e.Settings.LLM.Model == "" {
					return skipf("no model configured")
				}
				if e.Probes.Model == nil {
					return skipf("no model probe")
				}
				pctx, cancel := context.WithTimeout(ctx, 60*time.Second)
				defer cancel()
				res, err := e.Probes.Model(pctx)
				if errors.Is(err, ErrNotSent) {
					return skipf("not sent, nothing counted: %s", probeError(err))
				}
				if err != nil {
					return failf("%s did not answer: %s", e.Settings.LLM.Model, probeError(err))
				}
				if !res.Counted {
					return okf("%s answered one request; it was NOT counted in today's budget: %s", e.Settings.LLM.Model, res.NotCounted)
				}
				return okf("%s answered one request (recorded in the usage, counted in today's budget)", e.Settings.LLM.Model)
			})},
		{"deep.discord", "The Discord token is valid", Medium,
			"set a fresh bot token in Settings (Discord developer portal, Bot, Reset Token)",
			deep(func(ctx context.Context, e *Env) (Status, string) {
				if !e.DiscordToken {
					return skipf("no Discord token")
				}
				if e.Probes.Discord == nil {
					return skipf("no Discord probe")
				}
				pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
				defer cancel()
				if err := e.Probes.Discord(pctx); err != nil {
					return failf("Discord refused the token or did not answer: %s", probeError(err))
				}
				return okf("Discord accepted the token")
			})},
	}
}

func deep(f func(context.Context, *Env) (Status, string)) func(context.Context, *Env) (Status, string) {
	return func(ctx context.Context, e *Env) (Status, string) {
		if !e.Deep {
			return skipf("live probe: run with --deep")
		}
		return f(ctx, e)
	}
}

// probeError is a probe's error, shortened; probes redact their errors
// (the model and Discord clients never put a key in one).
func probeError(err error) string {
	s := err.Error()
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
