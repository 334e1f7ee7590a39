package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// StoredSettings is the one settings row: the JSON document of the runtime
// settings an admin set (package orchestrator/settings gives it meaning)
// and who wrote it last.
type StoredSettings struct {
	Doc       string    // a JSON object; "{}" until the first write
	Version   int64     // 0 until the first write, then +1 per write
	UpdatedAt time.Time // zero until the first write
	UpdatedBy string    // the actor of the last write, "" until the first
}

// maxSettingsBytes bounds the settings document.
const maxSettingsBytes = 1 << 20

// Settings returns the stored settings row.
func (s *Store) Settings(ctx context.Context) (StoredSettings, error) {
	r, err := scanSettings(s.reader.QueryRowContext(ctx, settingsQuery))
	if err != nil {
		return StoredSettings{}, fmt.Errorf("store: settings: %w", errNoRows(err))
	}
	return r, nil
}

// UpdateSettings replaces the settings document in one write transaction.
// next receives the row as stored when the transaction began and returns
// the new document and whether to write it at all; when it returns false
// (or an error, returned as is) nothing is written. A write increments the
// version and records updatedBy and the time. It returns the row as it is
// after the call and whether it was written.
//
// next runs while the writer connection is held: it must be quick and must
// not call the Store.
func (s *Store) UpdateSettings(ctx context.Context, updatedBy string,
	next func(cur StoredSettings) (doc string, write bool, err error)) (StoredSettings, bool, error) {
	if updatedBy == "" || len(updatedBy) > 256 {
		return StoredSettings{}, false, fmt.Errorf("store: update settings: updatedBy must be 1 to 256 bytes")
	}
	var (
		row     StoredSettings
		written bool
	)
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		cur, err := scanSettings(tx.QueryRowContext(ctx, settingsQuery))
		if err != nil {
			return errNoRows(err)
		}
		doc, write, err := next(cur)
		if err != nil {
			return err
		}
		if !write {
			row = cur
			return nil
		}
		if err := checkSettingsDoc(doc); err != nil {
			return err
		}
		row = StoredSettings{Doc: doc, Version: cur.Version + 1,
			UpdatedAt: fromDB(toDB(s.now())), UpdatedBy: updatedBy}
		res, err := s.exec(ctx, tx,
			"UPDATE settings SET doc = ?, version = ?, updated_at = ?, updated_by = ? WHERE id = 1 AND version = ?",
			row.Doc, row.Version, toDB(row.UpdatedAt), row.UpdatedBy, cur.Version)
		if err != nil {
			return err
		}
		written = true
		return expectOneRow(res)
	})
	if err != nil {
		return StoredSettings{}, false, fmt.Errorf("store: update settings: %w", err)
	}
	return row, written, nil
}

// settingsQuery selects the settings row.
const settingsQuery = "SELECT doc, version, updated_at, updated_by FROM settings WHERE id = 1"

func scanSettings(sc scanner) (StoredSettings, error) {
	var (
		r  StoredSettings
		at int64
	)
	if err := sc.Scan(&r.Doc, &r.Version, &at, &r.UpdatedBy); err != nil {
		return StoredSettings{}, err
	}
	if at != 0 {
		r.UpdatedAt = fromDB(at)
	}
	return r, nil
}

// checkSettingsDoc refuses a document that is not a JSON object or is too
// large, before the database's own CHECK would.
func checkSettingsDoc(doc string) error {
	if len(doc) > maxSettingsBytes {
		return fmt.Errorf("settings document is %d bytes, more than %d", len(doc), maxSettingsBytes)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &obj); err != nil || obj == nil {
		return fmt.Errorf("settings document is not a JSON object")
	}
	return nil
}
