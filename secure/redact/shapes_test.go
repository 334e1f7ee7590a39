package redact

import (
	"strings"
	"testing"
)

const (
	pemBody = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n" +
		"VJTUt9Us8cKjMzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu\n"
	jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)

// TestShapes gives positive and negative examples of every detector. A
// positive example must come out exactly as "<" + marker + ">".
func TestShapes(t *testing.T) {
	tests := []struct {
		name, in string
		shape    string // "" for a negative example
	}{
		{"openai project", "sk-proj-" + strings.Repeat("aB3_-", 30), "OPENAI_KEY"},
		{"openai service account", "sk-svcacct-" + strings.Repeat("Zz9", 20), "OPENAI_KEY"},
		{"openai admin", "sk-admin-" + strings.Repeat("Q1", 20), "OPENAI_KEY"},
		{"openai legacy", "sk-" + strings.Repeat("a1B2", 12), "OPENAI_KEY"},
		{"anthropic", "sk-ant-api03-" + strings.Repeat("x_Y-9", 19) + "AA", "ANTHROPIC_KEY"},
		{"github classic", "ghp_" + strings.Repeat("aZ9", 12), "GITHUB_TOKEN"},
		{"github oauth", "gho_" + strings.Repeat("aZ9", 12), "GITHUB_TOKEN"},
		{"github user-to-server", "ghu_" + strings.Repeat("aZ9", 12), "GITHUB_TOKEN"},
		{"github server-to-server", "ghs_" + strings.Repeat("aZ9", 12), "GITHUB_TOKEN"},
		{"github refresh", "ghr_" + strings.Repeat("aZ9", 12), "GITHUB_TOKEN"},
		{"github fine-grained", "github_pat_11ABCDEFG0123456789abc_" + strings.Repeat("x", 59), "GITHUB_TOKEN"},
		{"slack bot", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "SLACK_TOKEN"},
		{"slack user", "xoxp-123456789012-1234567890123-123456789012-abcdef0123456789abcdef0123456789", "SLACK_TOKEN"},
		{"aws access key", "AKIAIOSFODNN7EXAMPLE", "AWS_ACCESS_KEY"},
		{"aws temporary key", "ASIAY34FZKBOKMUTVV7A", "AWS_ACCESS_KEY"},
		{"discord", "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB", "DISCORD_TOKEN"},
		{"discord 18 digits", "ODEyMzQ1Njc4OTAxMjM0NTY3.YAbCdE.abcdefghijklmnopqrstuvwxyz0", "DISCORD_TOKEN"},
		{"jwt", jwt, "JWT"},
		{"jwt alg none", "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.", "JWT"},
		{"pem rsa", "-----BEGIN RSA PRIVATE KEY-----\n" + pemBody + "-----END RSA PRIVATE KEY-----", "PRIVATE_KEY"},
		{"pem pkcs8", "-----BEGIN PRIVATE KEY-----\n" + pemBody + "-----END PRIVATE KEY-----", "PRIVATE_KEY"},
		{"pem openssh", "-----BEGIN OPENSSH PRIVATE KEY-----\n" + pemBody + "-----END OPENSSH PRIVATE KEY-----", "PRIVATE_KEY"},
		{"pem json-escaped", `-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg\n-----END EC PRIVATE KEY-----`, "PRIVATE_KEY"},
		{"pem without END", "-----BEGIN PRIVATE KEY-----\n" + pemBody, "PRIVATE_KEY"},

		{"sk- too short", "sk-abc123", ""},
		{"sk- in prose", "ask-me-anything about task-tracking", ""},
		{"anthropic too short", "sk-ant-short", ""},
		{"github too short", "ghp_abc123", ""},
		{"github wrong prefix", "ghx_" + strings.Repeat("aZ9", 12), ""},
		{"slack too short", "xoxb-12345", ""},
		{"slack without digits", "xoxo-hugs-and-kisses-to-everyone-today", ""},
		{"aws too short", "AKIA1234", ""},
		{"aws lower case", "AKIAiosfodnn7example", ""},
		{"discord id not digits", "aGVsbG8gd29ybGQgaGVsbG8gd29y.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB", ""},
		{"discord middle too long", "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GhIjKlm.abcdefghijklmnopqrstuvwxyz0123456789AB", ""},
		{"jwt one part", "eyJhbGciOiJIUzI1NiJ9", ""},
		{"jwt payload not json", "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.sig", ""},
		{"pem public key", "-----BEGIN PUBLIC KEY-----\n" + pemBody + "-----END PUBLIC KEY-----", ""},
		{"pem certificate", "-----BEGIN CERTIFICATE-----\n" + pemBody + "-----END CERTIFICATE-----", ""},
		{"version numbers", "go1.26.8 and 10.0.0.42 and v1.2.3-rc.1", ""},
	}
	var r *Redactor // shapes only
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := "<" + tt.in + ">"
			want := in
			if tt.shape != "" {
				want = "<[REDACTED:" + tt.shape + "]>"
			}
			if got := r.String(in); got != want {
				t.Errorf("String(%q)\n= %q\nwant %q", in, got, want)
			}
		})
	}
}

// TestPEMStopsAtEnd: the text after the END line stays.
func TestPEMStopsAtEnd(t *testing.T) {
	in := "key:\n-----BEGIN PRIVATE KEY-----\n" + pemBody + "-----END PRIVATE KEY-----\nand then some text"
	want := "key:\n[REDACTED:PRIVATE_KEY]\nand then some text"
	if got := (*Redactor)(nil).String(in); got != want {
		t.Errorf("got %q", got)
	}
}

// TestMarkersAreInert: no detector and no secret pattern fires on a
// marker.
func TestMarkersAreInert(t *testing.T) {
	r := mustNew(t, Secret{"OPENAI_API_KEY", "sk-proj-" + strings.Repeat("k", 40)}, Secret{"DISCORD_BOT", jwt})
	for _, m := range r.markers {
		if r.Contains(m) || r.String(m) != m {
			t.Errorf("marker %s is matched", m)
		}
	}
}
