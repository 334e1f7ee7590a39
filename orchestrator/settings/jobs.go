package settings

import "time"

// Jobs are the settings of scheduled jobs (issue 14).
type Jobs struct {
	// TimeZone is the IANA zone schedules are read in; "" is UTC.
	TimeZone string `json:"time_zone"`
	// MinIntervalSeconds is the floor on the interval between two runs
	// of one job.
	MinIntervalSeconds int `json:"min_interval_seconds"`
	// MaxFailures is how many consecutive failed runs pause a job (and
	// notify the admins).
	MaxFailures int `json:"max_failures"`
}

// Defaults and bounds of the Jobs settings.
const (
	DefaultJobsMinInterval = 60
	DefaultJobsMaxFailures = 5
	MinJobsMinInterval     = 10
	MaxJobsMinInterval     = 86400
	MaxJobsMaxFailures     = 100
)

// MinInterval returns the floor as a duration.
func (j Jobs) MinInterval() time.Duration { return time.Duration(j.MinIntervalSeconds) * time.Second }

func defaultJobs() Jobs {
	return Jobs{MinIntervalSeconds: DefaultJobsMinInterval, MaxFailures: DefaultJobsMaxFailures}
}

func (v *validator) jobs(j Jobs) {
	if len(j.TimeZone) > 64 {
		v.fail("jobs.time_zone", "must be an IANA time zone name such as Europe/Berlin (at most 64 bytes)")
	} else if _, err := time.LoadLocation(j.TimeZone); err != nil || j.TimeZone == "Local" {
		v.fail("jobs.time_zone", "must be an IANA time zone name such as Europe/Berlin, or empty for UTC, got %q", truncate(j.TimeZone))
	}
	v.intRange("jobs.min_interval_seconds", j.MinIntervalSeconds, MinJobsMinInterval, MaxJobsMinInterval)
	v.intRange("jobs.max_failures", j.MaxFailures, 1, MaxJobsMaxFailures)
}
