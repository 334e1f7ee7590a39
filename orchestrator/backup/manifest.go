package backup

import (
	"encoding/json"
	"fmt"
	"time"
)

// FormatVersion is the version of the backup layout this package writes
// and reads.
const FormatVersion = 1

// Entry names inside the tar stream.
const (
	manifestName  = "MANIFEST.json"
	dbName        = "secure/airlock.db"
	keyName       = "secure/master.key"
	configName    = "secure/config.yaml"
	workspaceRoot = "workspace"
)

// maxManifestBytes bounds the manifest read from a backup.
const maxManifestBytes = 64 << 20

// Manifest describes a backup; it is the last entry of the tar stream.
type Manifest struct {
	Format int `json:"format"`
	// Schema is the database's schema version (PRAGMA user_version).
	Schema  int       `json:"schema"`
	Created time.Time `json:"created"`
	// Encryption is "passphrase" or "recipient".
	Encryption string `json:"encryption"`
	// MasterKeyIncluded says whether secure/master.key is in the backup;
	// without it, restoring needs the original key file.
	MasterKeyIncluded bool   `json:"master_key_included"`
	Files             []File `json:"files"`
}

// File is one file of the backup.
type File struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Bytes is the total size of the files.
func (m Manifest) Bytes() int64 {
	var n int64
	for _, f := range m.Files {
		n += f.Size
	}
	return n
}

func parseManifest(b []byte) (Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return Manifest{}, fmt.Errorf("%w: manifest is not valid JSON", ErrCorrupt)
	}
	if m.Format != FormatVersion {
		return Manifest{}, fmt.Errorf("%w: backup format %d is not one this binary reads (%d)", ErrCorrupt, m.Format, FormatVersion)
	}
	return m, nil
}
