package main

import (
	"fmt"
	"path/filepath"

	"github.com/airlockhq/airlock/orchestrator/backup"
	"github.com/airlockhq/airlock/orchestrator/config"
)

// scrypt work factors of scheduled backups (2^N; memory 128 bytes × 8 ×
// 2^N): a configured passphrase may be a human one, so it gets 2^16 (64
// MiB, within the container's memory limit next to everything else); the
// generated one has 160 random bits, for which 2^15 adds nothing to lose.
const (
	scheduledLogN = 16
	generatedLogN = 15
)

// buildBackups builds the scheduled backups (issue 18): into the
// configured directory, encrypted to the configured recipient or
// passphrase, else to a passphrase generated once into
// <data>/secure/backup.passphrase.
func (a *app) buildBackups() error {
	enc, dec, err := scheduledEncryption(a.cfg)
	if err != nil {
		return err
	}
	a.backups, err = backup.NewScheduler(backup.SchedulerConfig{Dir: a.cfg.BackupDir(), Source: backupSource(a.cfg),
		Encryption: enc, Decryption: dec, Audit: a.auditFn, Logger: a.logger.With("component", "backup")})
	if err != nil {
		return err
	}
	b := a.settings.Get().Backup
	a.backups.SetPolicy(b.Interval, b.Keep)
	return nil
}

// generatedPassphrasePath is where the generated backup passphrase lives.
func generatedPassphrasePath(cfg config.Config) string {
	return filepath.Join(cfg.SecureDir(), "backup.passphrase")
}

// scheduledEncryption is how scheduled backups are encrypted, and how they
// are opened to be verified (nil: they cannot be, with a recipient).
func scheduledEncryption(cfg config.Config) (backup.Encryption, *backup.Decryption, error) {
	if cfg.Backup.Recipient != "" {
		enc, err := backup.Recipient(cfg.Backup.Recipient)
		if err != nil {
			return enc, nil, fmt.Errorf("config: backup.recipient: %w", err)
		}
		return enc, nil, nil
	}
	logN, pass, err := scheduledLogN, "", error(nil)
	if cfg.Backup.PassphraseFile != "" {
		pass, err = backup.ReadPassphraseFile(cfg.Backup.PassphraseFile)
	} else {
		logN = generatedLogN
		pass, err = backup.GeneratedPassphrase(generatedPassphrasePath(cfg))
	}
	if err != nil {
		return backup.Encryption{}, nil, err
	}
	enc, err := backup.Passphrase(pass, logN)
	if err != nil {
		return enc, nil, fmt.Errorf("config: backup.passphrase_file: %w", err)
	}
	dec, err := backup.PassphraseDecryption(pass)
	if err != nil {
		return enc, nil, err
	}
	return enc, &dec, nil
}
