package client

import (
	"encoding/json"
	"testing"
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
