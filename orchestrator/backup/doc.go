// Package backup makes, checks and restores encrypted backups of an
// Airlock data directory.
//
// A backup is one age-encrypted file (filippo.io/age) holding a tar
// stream:
//
//	secure/airlock.db    a consistent snapshot of the database (VACUUM INTO)
//	secure/master.key    the vault master key, when included (see below)
//	secure/config.yaml   the configuration file, when there is one
//	workspace/...        the assistant's workspace files
//	MANIFEST.json        last: format and schema versions, creation time,
//	                     whether the master key is included, and the size
//	                     and SHA-256 of every file above
//
// Invariants:
//
//   - A backup is encrypted and authenticated as a whole: to a passphrase
//     (scrypt) or to an age X25519 recipient. Passphrase backups always
//     include the master key, so they restore on their own; recipient
//     backups include it unless made with WithoutMasterKey, and the
//     manifest's master_key_included says which.
//   - A backup is written to a temporary file in the destination directory,
//     synced, then renamed: a crash leaves at most a ".tmp" file, which
//     Verify refuses (age detects the missing end of the stream).
//   - Verify and Restore accept a backup only if it decrypts completely,
//     every file matches the manifest, the database passes PRAGMA
//     integrity_check, its schema is not newer than this binary's (an older
//     one is migrated), the audit chain verifies and every vault secret
//     opens with the master key.
//   - Restore writes only into a staging directory until every check has
//     passed; a non-empty data directory is replaced only with Force, and
//     its old contents are moved aside, never deleted.
//   - No secret value and no passphrase appears in an error or a report.
package backup
