package main

import (
	"context"
	"errors"
	"time"

	"github.com/airlockhq/airlock/orchestrator/approval"
	"github.com/airlockhq/airlock/orchestrator/jobs"
)

// scriptCheck tells the jobs service whether a script has an approved
// version.
type scriptCheck struct{ s *approval.Service }

func (c scriptCheck) IsApprovedName(ctx context.Context, name string) (bool, error) {
	if !approval.ValidName(name) {
		return false, nil
	}
	_, err := c.s.Approved(ctx, name)
	if errors.Is(err, approval.ErrNotApproved) || errors.Is(err, approval.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// buildJobs builds the scheduled jobs service (issue 14); start runs its
// scheduler.
func (a *app) buildJobs(opts options) error {
	var err error
	a.jobs, err = jobs.New(jobs.Deps{Store: a.st, Audit: a.audit, Scripts: scriptCheck{a.scripts}, Runner: a.core,
		Deliver: a.bot, Notify: a.bot.NotifyAdmins, Env: a.jobsEnv, Logger: a.logger.With("component", "jobs"),
		Tick: opts.jobsTick})
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
		Channels: cur.Discord.AllowedChannels, Admins: cur.Discord.Admins}
}
