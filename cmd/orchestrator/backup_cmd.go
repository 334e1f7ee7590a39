package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/backup"
	"github.com/airlockhq/airlock/orchestrator/config"
	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/secure/redact"
)

// commandFlags are the flags every command shares with the server: --dev
// and --config, given before or after the command name.
type commandFlags struct {
	fs      *flag.FlagSet
	dev     *bool
	cfgPath *string
}

func newCommandFlags(name string, dev bool, cfgPath string, stderr io.Writer) commandFlags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return commandFlags{fs: fs,
		dev:     fs.Bool("dev", dev, "development mode: data under ./.airlock"),
		cfgPath: fs.String("config", cfgPath, "configuration file (default $AIRLOCK_CONFIG or <data>/secure/config.yaml)")}
}

// parse parses args, allowing one positional argument anywhere among the
// flags (restore FILE --force); it returns the positional ones.
func (c commandFlags) parse(args []string) ([]string, error) {
	var pos []string
	for {
		if err := c.fs.Parse(args); err != nil {
			return nil, err
		}
		if c.fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, c.fs.Arg(0))
		args = c.fs.Args()[1:]
	}
}

// load loads the configuration the way the server does.
func (c commandFlags) load(getenv func(string) string) (config.Config, error) {
	path, explicit := *c.cfgPath, *c.cfgPath != ""
	if !explicit {
		path, explicit = config.DefaultPath(*c.dev, getenv), getenv("AIRLOCK_CONFIG") != ""
	}
	return config.Load(path, explicit, getenv, *c.dev)
}

// runBackup is `orchestrator backup --out FILE [--passphrase-file F |
// --recipient R [--without-master-key]]` and `orchestrator backup --verify
// FILE [--passphrase-file F | --identity FILE]`.
func runBackup(ctx context.Context, args []string, dev bool, cfgPath string, getenv func(string) string, stdout, stderr io.Writer) error {
	c := newCommandFlags("backup", dev, cfgPath, stderr)
	out := c.fs.String("out", "", "write a backup to this file")
	verify := c.fs.String("verify", "", "check this backup without restoring it")
	passFile := c.fs.String("passphrase-file", "", "file whose first line is the passphrase")
	recipient := c.fs.String("recipient", "", "age recipient (age1...) to encrypt to")
	identity := c.fs.String("identity", "", "age identity file to decrypt with (--verify)")
	noKey := c.fs.Bool("without-master-key", false, "with --recipient: leave the master key out of the backup")
	pos, err := c.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("backup: unexpected argument %q", pos[0])
	}
	cfg, err := c.load(getenv)
	if err != nil {
		return err
	}
	switch {
	case (*out == "") == (*verify == ""):
		return errors.New("backup: give exactly one of --out FILE or --verify FILE")
	case *verify != "":
		if *recipient != "" || *noKey {
			return errors.New("backup --verify: --recipient and --without-master-key are for --out")
		}
		return verifyBackup(ctx, cfg, *verify, *passFile, *identity, stdout)
	}
	if *identity != "" {
		return errors.New("backup --out: --identity is for --verify and restore; encrypt with --recipient")
	}
	enc, err := encryption(*passFile, *recipient, *noKey)
	if err != nil {
		return err
	}
	return createBackup(ctx, cfg, *out, enc, stdout)
}

// encryption builds the encryption the flags ask for.
func encryption(passFile, recipient string, noKey bool) (backup.Encryption, error) {
	switch {
	case (passFile == "") == (recipient == ""):
		return backup.Encryption{}, errors.New("backup: give exactly one of --passphrase-file F or --recipient AGE_RECIPIENT")
	case recipient != "":
		enc, err := backup.Recipient(recipient)
		if err == nil && noKey {
			enc, err = enc.WithoutMasterKey()
		}
		return enc, err
	case noKey:
		return backup.Encryption{}, errors.New("backup: --without-master-key needs --recipient: a passphrase backup always includes the key")
	}
	pass, err := backup.ReadPassphraseFile(passFile)
	if err != nil {
		return backup.Encryption{}, err
	}
	return backup.Passphrase(pass, 0)
}

// decryption builds the decryption the flags ask for.
func decryption(passFile, identity string) (backup.Decryption, error) {
	if (passFile == "") == (identity == "") {
		return backup.Decryption{}, errors.New("give exactly one of --passphrase-file F or --identity FILE")
	}
	if identity != "" {
		b, err := os.ReadFile(identity)
		if err != nil {
			return backup.Decryption{}, fmt.Errorf("identity file: %w", err)
		}
		return backup.IdentityDecryption(b)
	}
	pass, err := backup.ReadPassphraseFile(passFile)
	if err != nil {
		return backup.Decryption{}, err
	}
	return backup.PassphraseDecryption(pass)
}

func createBackup(ctx context.Context, cfg config.Config, out string, enc backup.Encryption, stdout io.Writer) error {
	start := time.Now()
	m, err := backup.Create(ctx, backupSource(cfg), out, enc, start)
	if err != nil {
		auditBeside(ctx, cfg, audit.Event{Actor: "cli", Action: "backup.created", Target: out, Outcome: audit.OutcomeError,
			Details: map[string]any{"error": err.Error()}})
		return err
	}
	fi, err := os.Stat(out)
	if err != nil {
		return err
	}
	auditBeside(ctx, cfg, audit.Event{Actor: "cli", Action: "backup.created", Target: out, Outcome: audit.OutcomeOK,
		Details: map[string]any{"bytes": fi.Size(), "schema": m.Schema, "master_key_included": m.MasterKeyIncluded}})
	fmt.Fprintf(stdout, "backup written: %s (%d bytes, %d files, schema %d, %s encryption, %s)\n",
		out, fi.Size(), len(m.Files), m.Schema, m.Encryption, time.Since(start).Round(time.Millisecond))
	printKeyNote(stdout, m, cfg)
	return nil
}

func printKeyNote(w io.Writer, m backup.Manifest, cfg config.Config) {
	if m.MasterKeyIncluded {
		fmt.Fprintln(w, "master key: INCLUDED (the backup restores on its own; guard it like the key itself)")
		return
	}
	fmt.Fprintf(w, "master key: NOT INCLUDED: restoring needs the key file %s, kept separately\n", cfg.MasterKeyPath())
}

// backupSource is what a backup of cfg's data holds.
func backupSource(cfg config.Config) backup.Source {
	return backup.Source{DataDir: cfg.DataDir, KeyPath: cfg.MasterKeyPath(), ConfigFile: cfg.File}
}

// auditBeside appends e to the audit log of the database a serving
// orchestrator may hold open, without disturbing it; failures are reported
// on stderr-free best effort (the backup itself is what matters).
func auditBeside(ctx context.Context, cfg config.Config, e audit.Event) {
	st, err := store.OpenBeside(ctx, cfg.DBPath(), slog.New(slog.DiscardHandler))
	if err != nil {
		return
	}
	defer st.Close()
	_, _ = audit.New(st, time.Now, &redact.Holder{}).Append(ctx, e)
}

func verifyBackup(ctx context.Context, cfg config.Config, file, passFile, identity string, stdout io.Writer) error {
	dec, err := decryption(passFile, identity)
	if err != nil {
		return fmt.Errorf("backup --verify: %w", err)
	}
	scratch := cfg.DataDir
	if _, err := os.Stat(scratch); err != nil {
		scratch = os.TempDir()
	}
	rep, err := backup.Verify(ctx, file, scratch, dec, backup.CheckOptions{KeyPath: existing(cfg.MasterKeyPath())})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup OK: %s\ncreated %s, schema %d%s, %d files (%d bytes), %d audit entries verified, %d secrets open\n",
		file, rep.Manifest.Created.Format(time.RFC3339), rep.Manifest.Schema, migratedNote(rep.Migrated),
		len(rep.Manifest.Files), rep.Manifest.Bytes(), rep.AuditEntries, rep.Secrets)
	printKeyNote(stdout, rep.Manifest, cfg)
	return nil
}

func migratedNote(m bool) string {
	if m {
		return " (older: migrated when restored)"
	}
	return ""
}

// existing is path if a file is there, else "".
func existing(path string) string {
	if _, err := os.Stat(path); err != nil {
		return ""
	}
	return path
}

// runRestore is `orchestrator restore FILE [--force] [--passphrase-file F
// | --identity FILE]`.
func runRestore(ctx context.Context, args []string, dev bool, cfgPath string, getenv func(string) string, stdout, stderr io.Writer) error {
	c := newCommandFlags("restore", dev, cfgPath, stderr)
	force := c.fs.Bool("force", false, "restore into a data directory that holds data, moving that data aside")
	passFile := c.fs.String("passphrase-file", "", "file whose first line is the passphrase")
	identity := c.fs.String("identity", "", "age identity file to decrypt with")
	pos, err := c.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("restore: usage: orchestrator restore FILE [--force] [--passphrase-file F | --identity FILE]")
	}
	cfg, err := c.load(getenv)
	if err != nil {
		return err
	}
	dec, err := decryption(*passFile, *identity)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if serving(cfg.Socket) {
		return fmt.Errorf("restore: an orchestrator is serving on %s; stop it first (docker compose stop airlock)", cfg.Socket)
	}
	var keyPath string
	if cfg.MasterKeyFile != "" {
		keyPath = existing(cfg.MasterKeyFile)
	}
	res, err := backup.Restore(ctx, pos[0], cfg.DataDir, dec, backup.RestoreOptions{Force: *force,
		CheckOptions: backup.CheckOptions{KeyPath: keyPath}})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s into %s: created %s, schema %d%s, %d audit entries verified, %d secrets open\n",
		pos[0], cfg.DataDir, res.Manifest.Created.Format(time.RFC3339), res.Manifest.Schema, migratedNote(res.Migrated),
		res.AuditEntries, res.Secrets)
	if res.Aside != "" {
		fmt.Fprintf(stdout, "the previous data was moved aside, not deleted: %s\n", res.Aside)
	}
	return nil
}

// serving reports whether something accepts connections on the socket.
func serving(socket string) bool {
	if socket == "" {
		return false
	}
	if _, err := os.Stat(socket); errors.Is(err, fs.ErrNotExist) {
		return false
	}
	c, err := net.DialTimeout("unix", socket, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
