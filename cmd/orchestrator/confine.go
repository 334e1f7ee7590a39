package main

import (
	"log/slog"
	"os"
	"path/filepath"

	"github.com/airlockhq/airlock/orchestrator/config"
	"github.com/airlockhq/airlock/secure/confine"
)

// landlockEnv turns the orchestrator's own Landlock off when set to
// "off". It exists for tests that run run() inside the test process,
// where a Landlock domain would confine the whole test binary for the
// rest of its life. Documented in docs/security.md.
const landlockEnv = "AIRLOCK_ORCHESTRATOR_LANDLOCK"

// confineOrchestrator limits the orchestrator's own files with Landlock
// (secure/confine.Orchestrator), best effort: its data directory, the
// socket directory, the temporary directory, its executable and the
// worker's, the files its configuration names, CA certificates and name
// resolution files. The network stays open. Call it once everything is
// opened; it returns nil when turned off.
func confineOrchestrator(cfg config.Config, getenv func(string) string, logger *slog.Logger) *confine.Report {
	if getenv(landlockEnv) == "off" {
		logger.Warn("the orchestrator's own Landlock is off (" + landlockEnv + "=off); only tests should do this")
		return nil
	}
	var programs []string
	if self, err := os.Executable(); err == nil {
		programs = append(programs, resolved(self))
	}
	if cfg.Dev {
		if bin, err := workerBinary(cfg); err == nil {
			programs = append(programs, resolved(bin))
		}
	}
	read := []string{cfg.MasterKeyPath()}
	for _, f := range []string{cfg.File, cfg.LLM.APIKeyFile, getenv("SSL_CERT_FILE"), getenv("SSL_CERT_DIR"),
		cfg.Backup.PassphraseFile} {
		if f != "" {
			read = append(read, f)
		}
	}
	rep := confine.Orchestrator(confine.OrchestratorPaths{
		// /tmp too: a dev-mode worker (whose environment has no TMPDIR)
		// makes its temporary directory there, inside this domain.
		// The backups directory too (issue 18): scheduled backups are
		// written there, and it may be a mount outside the data directory.
		ReadWrite: []string{resolved(cfg.DataDir), os.TempDir(), "/tmp", resolved(cfg.BackupDir())},
		Sockets:   []string{resolved(filepath.Dir(cfg.Socket))},
		Programs:  programs,
		Read:      read,
	})
	if rep.LandlockFiles {
		logger.Info("the orchestrator's files are limited by Landlock", "landlock_abi", rep.LandlockABI)
	} else {
		logger.Error("THE ORCHESTRATOR'S FILES ARE NOT LIMITED: Landlock could not be applied", "problems", rep.Problems)
	}
	return &rep
}

// resolved is path with its symbolic links followed, or path itself.
func resolved(path string) string {
	if p, err := filepath.EvalSymlinks(path); err == nil {
		return p
	}
	return path
}
