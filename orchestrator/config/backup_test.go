package config

import (
	"strings"
	"testing"
)

func TestBackupConfigValidation(t *testing.T) {
	const rcpt = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"
	tests := []struct {
		name string
		set  func(*BackupConfig)
		want string // "" means valid
	}{
		{"defaults", func(*BackupConfig) {}, ""},
		{"absolute dir", func(b *BackupConfig) { b.Dir = "/mnt/backups" }, ""},
		{"relative dir", func(b *BackupConfig) { b.Dir = "backups" }, "backup.dir: must be an absolute path"},
		{"relative passphrase file", func(b *BackupConfig) { b.PassphraseFile = "pass" }, "backup.passphrase_file: must be an absolute path"},
		{"recipient", func(b *BackupConfig) { b.Recipient = rcpt }, ""},
		{"bad recipient", func(b *BackupConfig) { b.Recipient = "age1nope" }, "backup.recipient: must be an age X25519 recipient"},
		{"both", func(b *BackupConfig) { b.Recipient, b.PassphraseFile = rcpt, "/p" }, "backup.recipient: set either"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Defaults(false)
			tt.set(&c.Backup)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate = %v, want %q", err, tt.want)
			}
		})
	}
	c := Defaults(false)
	if got := c.BackupDir(); got != "/data/backups" {
		t.Errorf("BackupDir = %q, want /data/backups", got)
	}
}
