package main

import (
	"context"
	"time"

	"github.com/airlockhq/airlock/orchestrator/jobs"
)

// buildJobs builds the scheduled jobs service (issue 14); start runs its
// scheduler.
func (a *app) buildJobs(opts options) error {
	var err error
	a.jobs, err = jobs.New(jobs.Deps{Store: a.st, Audit: a.audit, Scripts: jobs.ApprovedScripts(a.scripts), Runner: a.core,
		Deliver: a.bot, Notify: a.bot.NotifyAdmins, Env: a.jobsEnv, Logger: a.logger.With("component", "jobs"),
		Tick: opts.jobsTick})
	if err == nil {
		a.core.SetJobs(a.jobs) // job_propose, job_list
		// Revoking a script pauses its jobs at once.
		a.scripts.OnRevoked(func(name string) { a.jobs.ScriptRevoked(context.Background(), name) })
	}
	return err
}

// jobsEnv reads the settings jobs are checked and scheduled against.
func (a *app) jobsEnv() jobs.Env {
	cur := a.settings.Get()
	loc, err := jobs.LoadLocation(cur.Jobs.TimeZone)
	if err != nil {
		loc = time.UTC // the settings validate the zone; a zone the system lacks falls back
	}
	return jobs.Env{Location: loc, Floor: cur.Jobs.MinInterval(), MaxFailures: cur.Jobs.MaxFailures,
		Channels: cur.Discord.AllowedChannels, Admins: cur.Discord.Admins, LinkBase: cur.Discord.ReviewBaseURL}
}
