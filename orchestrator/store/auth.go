package store

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrAdminExists is returned by PutSetupCode and CreateSetupAdmin once an
// admin exists: first-run setup is over.
var ErrAdminExists = errors.New("an admin already exists")

// ErrPasswordChanged is returned by ChangeAdminPassword when the stored
// password hash is no longer the one the caller verified.
var ErrPasswordChanged = errors.New("the password changed meanwhile")

// Admin is an admin account row. PasswordHash and TokenKey are secrets.
type Admin struct {
	ID           string
	Username     string
	PasswordHash string
	TokenKey     []byte
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// AdminSession is a session row: the server side of one token. RevokedAt
// is zero while the session is not revoked.
type AdminSession struct {
	ID, AdminID, Type     string
	CreatedAt, LastSeenAt time.Time
	ExpiresAt, RevokedAt  time.Time
	UserAgent, IP         string
}

// NewAdminSession describes a session to create, at At.
type NewAdminSession struct {
	AdminID, Type, UserAgent, IP string
	At, ExpiresAt                time.Time
}

// SetupCode is the setup row. UsedAt is zero until the code is redeemed.
type SetupCode struct {
	Hash                         []byte
	CreatedAt, ExpiresAt, UsedAt time.Time
}

const adminColumns = "id, username, password_hash, token_key, created_at, updated_at"

const sessionColumns = "id, admin_id, type, created_at, last_seen_at, expires_at, revoked_at, user_agent, ip"

// CountAdmins returns the number of admins.
func (s *Store) CountAdmins(ctx context.Context) (int, error) {
	var n int
	if err := s.reader.QueryRowContext(ctx, "SELECT count(*) FROM admins").Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count admins: %w", err)
	}
	return n, nil
}

// AdminByID returns an admin, or an error matching ErrNotFound.
func (s *Store) AdminByID(ctx context.Context, id string) (Admin, error) {
	a, err := scanAdmin(s.reader.QueryRowContext(ctx, "SELECT "+adminColumns+" FROM admins WHERE id = ?", id))
	if err != nil {
		return Admin{}, fmt.Errorf("store: get admin %q: %w", id, err)
	}
	return a, nil
}

// AdminByUsername returns an admin, or an error matching ErrNotFound.
func (s *Store) AdminByUsername(ctx context.Context, username string) (Admin, error) {
	a, err := scanAdmin(s.reader.QueryRowContext(ctx,
		"SELECT "+adminColumns+" FROM admins WHERE username = ?", username))
	if err != nil {
		return Admin{}, fmt.Errorf("store: get admin %q: %w", username, err)
	}
	return a, nil
}

func scanAdmin(sc scanner) (Admin, error) {
	var a Admin
	var created, updated int64
	if err := sc.Scan(&a.ID, &a.Username, &a.PasswordHash, &a.TokenKey, &created, &updated); err != nil {
		return Admin{}, errNoRows(err)
	}
	a.CreatedAt, a.UpdatedAt = fromDB(created), fromDB(updated)
	return a, nil
}

// PutSetupCode stores the hash of a new setup code, replacing any earlier
// one, unless an admin exists (ErrAdminExists).
func (s *Store) PutSetupCode(ctx context.Context, codeHash []byte, at, expiresAt time.Time) error {
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		if err := noAdmins(ctx, tx); err != nil {
			return err
		}
		_, err := s.exec(ctx, tx, "INSERT INTO setup (id, code_hash, created_at, expires_at, used_at, admin_id)"+
			" VALUES (1, ?, ?, ?, 0, '') ON CONFLICT (id) DO UPDATE SET code_hash = excluded.code_hash,"+
			" created_at = excluded.created_at, expires_at = excluded.expires_at, used_at = 0, admin_id = ''",
			codeHash, toDB(at), toDB(expiresAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: put setup code: %w", err)
	}
	return nil
}

// GetSetupCode returns the setup row, or an error matching ErrNotFound.
func (s *Store) GetSetupCode(ctx context.Context) (SetupCode, error) {
	var c SetupCode
	var created, expires, used int64
	err := s.reader.QueryRowContext(ctx, "SELECT code_hash, created_at, expires_at, used_at FROM setup WHERE id = 1").
		Scan(&c.Hash, &created, &expires, &used)
	if err != nil {
		return SetupCode{}, fmt.Errorf("store: get setup code: %w", errNoRows(err))
	}
	c.CreatedAt, c.ExpiresAt, c.UsedAt = fromDB(created), fromDB(expires), optTime(used)
	return c, nil
}

// CreateSetupAdmin creates the first admin and redeems the setup code, in
// one transaction, if no admin exists (else ErrAdminExists) and the stored
// code is codeHash, unused and unexpired at a.CreatedAt (else ErrNotFound).
// a.ID is assigned; the returned Admin is the stored row.
func (s *Store) CreateSetupAdmin(ctx context.Context, codeHash []byte, a Admin) (Admin, error) {
	a.ID = newID("adm_")
	a.UpdatedAt = a.CreatedAt
	at := toDB(a.CreatedAt)
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		if err := noAdmins(ctx, tx); err != nil {
			return err
		}
		var stored []byte
		err := tx.QueryRowContext(ctx, "SELECT code_hash FROM setup WHERE id = 1 AND used_at = 0 AND expires_at > ?",
			at).Scan(&stored)
		if err != nil {
			return errNoRows(err)
		}
		if subtle.ConstantTimeCompare(stored, codeHash) != 1 {
			return ErrNotFound
		}
		if _, err := s.exec(ctx, tx, "INSERT INTO admins ("+adminColumns+", created_by) VALUES (?, ?, ?, ?, ?, ?, 'setup')",
			a.ID, a.Username, a.PasswordHash, a.TokenKey, at, at); err != nil {
			return err
		}
		res, err := s.exec(ctx, tx, "UPDATE setup SET used_at = ?, admin_id = ? WHERE id = 1 AND used_at = 0", at, a.ID)
		if err != nil {
			return err
		}
		return expectOneRow(res)
	})
	if err != nil {
		return Admin{}, fmt.Errorf("store: create setup admin %q: %w", a.Username, err)
	}
	a.CreatedAt, a.UpdatedAt = fromDB(at), fromDB(at)
	return a, nil
}

// noAdmins returns ErrAdminExists if the admins table has a row.
func noAdmins(ctx context.Context, tx *sql.Tx) error {
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM admins").Scan(&n); err != nil {
		return err
	}
	if n != 0 {
		return ErrAdminExists
	}
	return nil
}

// ChangeAdminPassword replaces an admin's password hash and token key,
// revokes every session of the admin and creates ns, in one transaction.
// The stored hash must still be oldHash (else ErrPasswordChanged); an
// unknown admin is ErrNotFound.
func (s *Store) ChangeAdminPassword(ctx context.Context, adminID, oldHash, newHash string, newTokenKey []byte,
	ns NewAdminSession) (AdminSession, error) {
	var out AdminSession
	at := toDB(ns.At)
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		var cur string
		err := tx.QueryRowContext(ctx, "SELECT password_hash FROM admins WHERE id = ?", adminID).Scan(&cur)
		if err != nil {
			return errNoRows(err)
		}
		if subtle.ConstantTimeCompare([]byte(cur), []byte(oldHash)) != 1 {
			return ErrPasswordChanged
		}
		if _, err := s.exec(ctx, tx, "UPDATE admins SET password_hash = ?, token_key = ?, updated_at = ? WHERE id = ?",
			newHash, newTokenKey, at, adminID); err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx, "UPDATE sessions SET revoked_at = ? WHERE admin_id = ? AND revoked_at = 0",
			at, adminID); err != nil {
			return err
		}
		ns.AdminID = adminID
		out, err = s.insertSession(ctx, tx, ns)
		return err
	})
	if err != nil {
		return AdminSession{}, fmt.Errorf("store: change password of admin %q: %w", adminID, err)
	}
	return out, nil
}

// CreateAdminSession stores a new session and returns it; an unknown
// admin is ErrNotFound.
func (s *Store) CreateAdminSession(ctx context.Context, ns NewAdminSession) (AdminSession, error) {
	var out AdminSession
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = s.insertSession(ctx, tx, ns)
		return err
	})
	if err != nil {
		return AdminSession{}, fmt.Errorf("store: create session for admin %q: %w", ns.AdminID, err)
	}
	return out, nil
}

func (s *Store) insertSession(ctx context.Context, tx *sql.Tx, ns NewAdminSession) (AdminSession, error) {
	at, exp := toDB(ns.At), toDB(ns.ExpiresAt)
	as := AdminSession{ID: newID("ses_"), AdminID: ns.AdminID, Type: ns.Type, CreatedAt: fromDB(at),
		LastSeenAt: fromDB(at), ExpiresAt: fromDB(exp), UserAgent: ns.UserAgent, IP: ns.IP}
	_, err := s.exec(ctx, tx, "INSERT INTO sessions ("+sessionColumns+") VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)",
		as.ID, as.AdminID, as.Type, at, at, exp, as.UserAgent, as.IP)
	return as, mapFK(err)
}

// GetAdminSession returns a session, revoked and expired ones included, or
// an error matching ErrNotFound.
func (s *Store) GetAdminSession(ctx context.Context, id string) (AdminSession, error) {
	as, err := scanSession(s.reader.QueryRowContext(ctx, "SELECT "+sessionColumns+" FROM sessions WHERE id = ?", id))
	if err != nil {
		return AdminSession{}, fmt.Errorf("store: get session %q: %w", id, err)
	}
	return as, nil
}

// ActiveAdminSessions returns an admin's sessions that are neither revoked
// nor expired at now, most recently seen first.
func (s *Store) ActiveAdminSessions(ctx context.Context, adminID string, now time.Time) ([]AdminSession, error) {
	rows, err := s.reader.QueryContext(ctx, "SELECT "+sessionColumns+" FROM sessions"+
		" WHERE admin_id = ? AND revoked_at = 0 AND expires_at > ? ORDER BY last_seen_at DESC, id", adminID, toDB(now))
	if err != nil {
		return nil, fmt.Errorf("store: list sessions of admin %q: %w", adminID, err)
	}
	out, err := collect(rows, scanSession)
	if err != nil {
		return nil, fmt.Errorf("store: list sessions of admin %q: %w", adminID, err)
	}
	return out, nil
}

func scanSession(sc scanner) (AdminSession, error) {
	var as AdminSession
	var created, seen, expires, revoked int64
	err := sc.Scan(&as.ID, &as.AdminID, &as.Type, &created, &seen, &expires, &revoked, &as.UserAgent, &as.IP)
	if err != nil {
		return AdminSession{}, errNoRows(err)
	}
	as.CreatedAt, as.LastSeenAt, as.ExpiresAt = fromDB(created), fromDB(seen), fromDB(expires)
	as.RevokedAt = optTime(revoked)
	return as, nil
}

// TouchAdminSession sets a session's last-seen time; an unknown session is
// ErrNotFound.
func (s *Store) TouchAdminSession(ctx context.Context, id string, at time.Time) error {
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, "UPDATE sessions SET last_seen_at = ? WHERE id = ?", toDB(at), id)
		if err != nil {
			return err
		}
		return expectOneRow(res)
	})
	if err != nil {
		return fmt.Errorf("store: touch session %q: %w", id, err)
	}
	return nil
}

// RevokeAdminSession revokes a session at at. Revoking a revoked session
// keeps the first time and returns nil; an unknown one is ErrNotFound.
func (s *Store) RevokeAdminSession(ctx context.Context, id string, at time.Time) error {
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, "UPDATE sessions SET revoked_at = CASE revoked_at WHEN 0 THEN ? ELSE revoked_at END"+
			" WHERE id = ?", toDB(at), id)
		if err != nil {
			return err
		}
		return expectOneRow(res)
	})
	if err != nil {
		return fmt.Errorf("store: revoke session %q: %w", id, err)
	}
	return nil
}

// RevokeOtherAdminSessions revokes, at at, every unrevoked session of an
// admin except keepID, and returns how many it revoked.
func (s *Store) RevokeOtherAdminSessions(ctx context.Context, adminID, keepID string, at time.Time) (int, error) {
	var n int64
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, "UPDATE sessions SET revoked_at = ? WHERE admin_id = ? AND id <> ? AND revoked_at = 0",
			toDB(at), adminID, keepID)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: revoke other sessions of admin %q: %w", adminID, err)
	}
	return int(n), nil
}

// DeleteStaleAdminSessions deletes the sessions that expired, or were
// revoked, before before, and returns how many.
func (s *Store) DeleteStaleAdminSessions(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, "DELETE FROM sessions WHERE expires_at < ?1 OR (revoked_at <> 0 AND revoked_at < ?1)",
			toDB(before))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: delete stale sessions: %w", err)
	}
	return int(n), nil
}

// optTime converts a stored time where 0 means "not set".
func optTime(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return fromDB(n)
}
