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

// TestResultText checks the one-pass result decoding against results as
// mcp-go's server encodes them: text items concatenated, other content
// ignored, structured content only when there is no text.
func TestResultText(t *testing.T) {
	tests := []struct {
		name, result, want string
		isError            bool
	}{
		{"one text", `{"content":[{"type":"text","text":"{\"a\":1}"}]}`, `{"a":1}`, false},
		{"texts and an image", `{"content":[{"type":"text","text":"a"},{"type":"image","data":"AA==","mimeType":"image/png"},{"type":"text","text":"b"}]}`, "ab", false},
		{"error", `{"content":[{"type":"text","text":"no such task"}],"isError":true}`, "no such task", true},
		{"structured only", `{"content":[],"structuredContent":{ "n": 2 }}`, `{"n":2}`, false},
		{"text wins over structured", `{"content":[{"type":"text","text":"t"}],"structuredContent":{"n":2}}`, "t", false},
		{"nothing", `{"content":[],"structuredContent":null}`, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r callResult
			if err := json.Unmarshal([]byte(tt.result), &r); err != nil {
				t.Fatal(err)
			}
			if got := resultText(&r); got != tt.want || r.IsError != tt.isError {
				t.Errorf("resultText = %q (error %v), want %q (error %v)", got, r.IsError, tt.want, tt.isError)
			}
		})
	}
}
