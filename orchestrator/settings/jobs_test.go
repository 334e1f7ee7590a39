package settings

import (
	"errors"
	"testing"
)

func TestJobsSettingsValidated(t *testing.T) {
	good := defaults()
	good.Jobs = Jobs{TimeZone: "Europe/Berlin", MinIntervalSeconds: MinJobsMinInterval, MaxFailures: MaxJobsMaxFailures}
	if err := good.Validate(); err != nil {
		t.Fatalf("good jobs settings refused: %v", err)
	}
	tests := []struct {
		field string
		mut   func(*Jobs)
	}{
		{"jobs.time_zone", func(j *Jobs) { j.TimeZone = "Mars/Olympus" }},
		{"jobs.time_zone", func(j *Jobs) { j.TimeZone = "Local" }},
		{"jobs.min_interval_seconds", func(j *Jobs) { j.MinIntervalSeconds = MinJobsMinInterval - 1 }},
		{"jobs.min_interval_seconds", func(j *Jobs) { j.MinIntervalSeconds = MaxJobsMinInterval + 1 }},
		{"jobs.max_failures", func(j *Jobs) { j.MaxFailures = 0 }},
	}
	for _, tt := range tests {
		s := defaults()
		tt.mut(&s.Jobs)
		var ve *ValidationError
		if err := s.Validate(); !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Field != tt.field {
			t.Errorf("%+v: got %v, want one problem naming %s", s.Jobs, err, tt.field)
		}
	}
}
