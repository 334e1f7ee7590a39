// Package jobs is scheduled work (issue 14): the schedule maths (cron
// expressions and descriptors, in the admin's time zone, across daylight
// saving), the rules of a job definition, and the scheduler that starts
// due runs, records every run, backs off after failures and pauses a job
// that keeps failing.
//
// Invariants:
//   - Only an admin makes a job runnable: a job the assistant proposes is
//     stored as proposed, with no next run, until an admin approves it.
//   - A job's next run is persisted before its run starts, in the same
//     transaction as the run's record, so a crash never runs one due time
//     twice; a run left running by a crash is marked failed at start.
//   - A run due while the job's previous run is still running is skipped
//     and recorded as skipped.
//   - The scheduler reads the due jobs through an index on next_run: a
//     tick costs the same with ten jobs or ten thousand.
package jobs
