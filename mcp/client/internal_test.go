package client

import (
	"encoding/json"
	"testing"
	"time"
)

func TestObjectArgs(t *testing.T) {
	var nilMap map[string]any
	tests := []struct {
		name    string
		args    any
		want    string
		wantErr bool
	}{
		{"nil", nil, `{}`, false},
		{"nil map", nilMap, `{}`, false},
		{"map", map[string]any{"a": 1}, `{"a":1}`, false},
		{"struct", struct {
			WaitMS int64 `json:"wait_ms"`
		}{30000}, `{"wait_ms":30000}`, false},
		{"raw object", json.RawMessage(` {"x":true}`), `{"x":true}`, false},
		{"string", "hello", "", true},
		{"array", []int{1}, "", true},
		{"number", 3, "", true},
		{"unencodable", map[string]any{"f": func() {}}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := objectArgs(tt.args)
			if (err != nil) != tt.wantErr {
				t.Fatalf("objectArgs error = %v, wantErr %v", err, tt.wantErr)
			}
			if string(got) != tt.want {
				t.Fatalf("objectArgs = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestBackoffBounds(t *testing.T) {
	const lo, hi = 100 * time.Millisecond, 5 * time.Second
	for attempt := range 12 {
		d := lo << attempt
		if d > hi || d <= 0 {
			d = hi
		}
		for range 50 {
			got := backoff(attempt, lo, hi)
			if got < d/2 || got > d {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v]", attempt, got, d/2, d)
			}
		}
	}
}
