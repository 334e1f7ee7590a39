package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"
)

// maxFileBytes bounds the config file and secret files.
const maxFileBytes = 1 << 20

// Load builds the configuration: Defaults(dev), then the YAML file at path
// ("" means DefaultPath), then the environment read through getenv, then
// secrets, then Validate. A missing file is fine unless explicit (the path
// came from AIRLOCK_CONFIG or a flag).
func Load(path string, explicit bool, getenv func(string) string, dev bool) (Config, error) {
	if path == "" {
		path = DefaultPath(dev, getenv)
	}
	cfg := Defaults(dev)
	data, err := readConfigFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !explicit:
		// No file: defaults and environment only.
	case err != nil:
		return Config{}, err
	default:
		if err := decodeYAML(data, path, &cfg); err != nil {
			return Config{}, err
		}
		cfg.File = path
	}
	if err := applyEnv(&cfg, getenv); err != nil {
		return Config{}, err
	}
	cfg.derive()
	if err := loadSecrets(&cfg, getenv); err != nil {
		return Config{}, err
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// readConfigFile reads path, refusing anything but a regular file that
// only its owner can write.
func readConfigFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: open %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("config: stat %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("config: %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return nil, fmt.Errorf("config: %s is group- or world-writable (mode %04o) and it controls security settings; run chmod go-w on it", path, perm)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("config: read %s: %w", path, err)
	}
	if len(data) > maxFileBytes {
		return nil, fmt.Errorf("config: %s is larger than %d bytes", path, maxFileBytes)
	}
	return data, nil
}

// decodeYAML decodes data over cfg with unknown keys refused, and turns
// yaml's errors into messages that name the key and line.
func decodeYAML(data []byte, file string, cfg *Config) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("config: %s: %w", file, err)
	}
	if len(doc.Content) == 0 {
		return nil // empty or comments only
	}
	keys := indexKeys(doc.Content[0], "")
	if err := refuseInlineSecrets(file, keys); err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return translate(file, keys, err)
	}
	return nil
}

// resolveFile resolves a relative path set in the config file against the
// file's directory; paths from the environment stay relative to the working
// directory.
func (c *Config) resolveFile(key, p string) string {
	if p == "" || filepath.IsAbs(p) || c.File == "" || c.origin[key] != "" {
		return p
	}
	return filepath.Join(filepath.Dir(c.File), p)
}

// derive fills the defaults that depend on other settings and makes paths
// absolute.
func (c *Config) derive() {
	c.DataDir = absOr(c.DataDir)
	if c.Socket == "" {
		c.Socket = filepath.Join(c.DataDir, "run", "mcp.sock")
	}
	c.Socket = absOr(c.Socket)
	if c.WorkerBinary != "" {
		c.WorkerBinary = absOr(c.resolveFile("worker_binary", c.WorkerBinary))
	}
	if c.MasterKeyFile != "" {
		c.MasterKeyFile = absOr(c.resolveFile("master_key_file", c.MasterKeyFile))
	}
	if c.Backup.PassphraseFile != "" {
		c.Backup.PassphraseFile = absOr(c.resolveFile("backup.passphrase_file", c.Backup.PassphraseFile))
	}
	if c.LLM.APIKeyFile != "" {
		c.LLM.APIKeyFile = absOr(c.resolveFile("llm.api_key_file", c.LLM.APIKeyFile))
	}
}
