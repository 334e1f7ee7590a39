package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/airlockhq/airlock/internal/utf8cut"
)

// Memory audiences: who may read a note. A note written by a task gets the
// audience of the task's conversation, never one the model chooses.
const (
	// AudienceAdmin is the admin's web chat and API conversations. They
	// read every note; their own notes reach no one else until the admin
	// shares them.
	AudienceAdmin = "admin"
	// AudienceEveryone is every conversation. Only the admin makes a note
	// this wide, by sharing it.
	AudienceEveryone = "everyone"

	audienceDiscordUser    = "discord-user:"
	audienceDiscordChannel = "discord-channel:"
)

// DiscordUserAudience is the audience of a Discord DM with the user id:
// that user's DMs with the bot.
func DiscordUserAudience(userID string) string { return audienceDiscordUser + userID }

// DiscordChannelAudience is the audience of a Discord channel: the
// conversations of that channel.
func DiscordChannelAudience(channelID string) string { return audienceDiscordChannel + channelID }

// ErrInvalidAudience is matched by the error of an audience that is not
// one of the forms above.
var ErrInvalidAudience = errors.New("invalid memory audience")

// ErrMemoryFull is matched by the error of a note that would take an
// audience's notes past their caps; the error's text says which.
var ErrMemoryFull = errors.New("memory is full")

// Memory caps. MemoryLimits.AudienceBytes comes from the configuration.
const (
	// MaxNotesPerAudience caps the notes of one audience.
	MaxNotesPerAudience = 500
	// MaxMemoryNotes caps the notes of all audiences together.
	MaxMemoryNotes = 10000
	// DefaultMemoryAudienceBytes caps the bytes of one audience's notes
	// when the caller gives no cap.
	DefaultMemoryAudienceBytes = 64 << 10
	// MaxImportBytes caps the MEMORY.md text one import takes (the
	// migration's text check is 1 MiB).
	MaxImportBytes = 1 << 20
)

// CheckAudience returns nil if a is an audience a note may have.
func CheckAudience(a string) error {
	switch {
	case a == AudienceAdmin, a == AudienceEveryone:
		return nil
	case strings.HasPrefix(a, audienceDiscordUser) && discordID(a[len(audienceDiscordUser):]):
		return nil
	case strings.HasPrefix(a, audienceDiscordChannel) && discordID(a[len(audienceDiscordChannel):]):
		return nil
	}
	return fmt.Errorf("%w %q", ErrInvalidAudience, truncateForError(a))
}

// discordID reports whether s looks like a Discord snowflake: 1 to 20
// decimal digits.
func discordID(s string) bool {
	if len(s) == 0 || len(s) > 20 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func truncateForError(s string) string {
	if len(s) > 64 || !utf8.ValidString(s) {
		return "(invalid)"
	}
	return s
}

// CanRead reports whether a conversation of audience reader may read a
// note of audience note: the admin reads everything, everyone reads the
// notes shared with everyone, and each Discord DM or channel reads its
// own. An invalid or empty reader reads only what is shared with everyone.
// Whatever else reads notes for a task (memory_search, when it exists)
// must go through MemoryNotes or this rule.
func CanRead(reader, note string) bool {
	switch {
	case note == AudienceEveryone:
		return true
	case CheckAudience(reader) != nil:
		return false
	case reader == AudienceAdmin:
		return true
	}
	return reader == note
}

// MemoryNote is one note of the assistant's memory.
type MemoryNote struct {
	ID             string    `json:"id"`
	Audience       string    `json:"audience"`
	Text           string    `json:"text"`
	ConversationID string    `json:"conversation_id,omitempty"`
	TaskID         string    `json:"task_id,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
	// Pinned notes are put in the system prompt first, whatever their age.
	Pinned bool `json:"pinned"`
}

const memoryColumns = "id, audience, text, conversation_id, task_id, created_at, updated_at"

// memorySelect are the columns scanMemoryNote reads.
const memorySelect = memoryColumns + ", pinned"

func scanMemoryNote(sc scanner) (MemoryNote, error) {
	var n MemoryNote
	var created, updated int64
	if err := sc.Scan(&n.ID, &n.Audience, &n.Text, &n.ConversationID, &n.TaskID, &created, &updated, &n.Pinned); err != nil {
		return MemoryNote{}, err
	}
	n.CreatedAt, n.UpdatedAt = fromDB(created), fromDB(updated)
	return n, nil
}

// MemoryNotes returns the notes a conversation of audience reader may read
// (CanRead), oldest first.
func (s *Store) MemoryNotes(ctx context.Context, reader string) ([]MemoryNote, error) {
	var rows *sql.Rows
	var err error
	switch {
	case reader == AudienceAdmin:
		rows, err = s.readQuery(ctx, "SELECT "+memorySelect+" FROM memory_notes ORDER BY seq LIMIT ?",
			MaxMemoryNotes)
	case CheckAudience(reader) == nil:
		rows, err = s.readQuery(ctx, "SELECT "+memorySelect+" FROM memory_notes"+
			" WHERE audience IN (?, ?) ORDER BY seq LIMIT ?", AudienceEveryone, reader, MaxMemoryNotes)
	default:
		rows, err = s.readQuery(ctx, "SELECT "+memorySelect+" FROM memory_notes"+
			" WHERE audience = ? ORDER BY seq LIMIT ?", AudienceEveryone, MaxMemoryNotes)
	}
	if err != nil {
		return nil, fmt.Errorf("store: memory notes: %w", err)
	}
	out, err := collect(rows, scanMemoryNote)
	if err != nil {
		return nil, fmt.Errorf("store: memory notes: %w", err)
	}
	return out, nil
}

// MemoryNote returns the note with the id, or an error matching
// ErrNotFound.
func (s *Store) MemoryNote(ctx context.Context, id string) (MemoryNote, error) {
	n, err := scanMemoryNote(s.reader.QueryRowContext(ctx,
		"SELECT "+memorySelect+" FROM memory_notes WHERE id = ?", id))
	if err != nil {
		return MemoryNote{}, fmt.Errorf("store: memory note %q: %w", truncateForError(id), errNoRows(err))
	}
	return n, nil
}

// WriteMemory stores n.Text as a new note of n.Audience (with n's
// conversation and task ids). With replace, the notes of exactly that
// audience are deleted first (notes of other audiences, those shared with
// everyone included, stay), and an empty text only deletes. A note that
// would take the audience past maxBytes (0: the default) or
// MaxNotesPerAudience, or the memory past MaxMemoryNotes, is refused with
// ErrMemoryFull and nothing changes. It returns the note stored (zero
// after a replace with an empty text) and how many notes were deleted.
func (s *Store) WriteMemory(ctx context.Context, n MemoryNote, replace bool, maxBytes int64) (MemoryNote, int, error) {
	if err := CheckAudience(n.Audience); err != nil {
		return MemoryNote{}, 0, fmt.Errorf("store: write memory: %w", err)
	}
	if maxBytes <= 0 {
		maxBytes = DefaultMemoryAudienceBytes
	}
	empty := strings.TrimSpace(n.Text) == ""
	switch {
	case empty && !replace:
		return MemoryNote{}, 0, fmt.Errorf("store: write memory: the note is empty")
	case !utf8.ValidString(n.Text) || strings.ContainsRune(n.Text, 0):
		return MemoryNote{}, 0, fmt.Errorf("store: write memory: the note must be UTF-8 text without NUL bytes")
	case int64(len(n.Text)) > maxBytes:
		return MemoryNote{}, 0, fmt.Errorf("store: write memory: %w: the note is %d bytes, the limit is %d bytes",
			ErrMemoryFull, len(n.Text), maxBytes)
	}
	now := fromDB(toDB(s.now()))
	n.ID, n.CreatedAt, n.UpdatedAt = newID("m_"), now, now
	deleted := 0
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		if replace {
			res, err := s.exec(ctx, tx, "DELETE FROM memory_notes WHERE audience = ?", n.Audience)
			if err != nil {
				return err
			}
			d, err := res.RowsAffected()
			if err != nil {
				return err
			}
			deleted = int(d)
		}
		action := "append"
		if replace {
			action = "replace"
		}
		ch := Change{Actor: ActorModel, Action: action, ConversationID: n.ConversationID, TaskID: n.TaskID}
		if empty {
			return s.recordVersion(ctx, tx, n.Audience, ch)
		}
		var count, bytes, total int64
		if err := tx.QueryRowContext(ctx, "SELECT count(*), coalesce(sum(length(CAST(text AS BLOB))), 0)"+
			" FROM memory_notes WHERE audience = ?", n.Audience).Scan(&count, &bytes); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM memory_notes").Scan(&total); err != nil {
			return err
		}
		switch {
		case bytes+int64(len(n.Text)) > maxBytes:
			return fmt.Errorf("%w: this conversation's notes would be %d bytes, the limit is %d bytes; "+
				"summarise them and write them back with mode \"replace\"", ErrMemoryFull, bytes+int64(len(n.Text)), maxBytes)
		case count+1 > MaxNotesPerAudience:
			return fmt.Errorf("%w: this conversation already has %d notes, the limit; "+
				"summarise them and write them back with mode \"replace\"", ErrMemoryFull, count)
		case total+1 > MaxMemoryNotes:
			return fmt.Errorf("%w: the memory holds %d notes, the limit; the admin can delete notes on the Memory page",
				ErrMemoryFull, total)
		}
		if _, err := s.exec(ctx, tx, "INSERT INTO memory_notes ("+memoryColumns+") VALUES (?, ?, ?, ?, ?, ?, ?)",
			n.ID, n.Audience, n.Text, n.ConversationID, n.TaskID, toDB(n.CreatedAt), toDB(n.UpdatedAt)); err != nil {
			return err
		}
		return s.recordVersion(ctx, tx, n.Audience, ch)
	})
	if err != nil {
		return MemoryNote{}, 0, fmt.Errorf("store: write memory: %w", err)
	}
	if empty {
		return MemoryNote{}, deleted, nil
	}
	return n, deleted, nil
}

// ShareMemoryNote widens the note's audience to everyone and returns the
// note as it was before; an unknown id is ErrNotFound.
func (s *Store) ShareMemoryNote(ctx context.Context, id string) (MemoryNote, error) {
	var before MemoryNote
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		var err error
		before, err = scanMemoryNote(tx.QueryRowContext(ctx, "SELECT "+memorySelect+" FROM memory_notes WHERE id = ?", id))
		if err != nil {
			return errNoRows(err)
		}
		if _, err = s.exec(ctx, tx, "UPDATE memory_notes SET audience = ?, updated_at = ? WHERE id = ?",
			AudienceEveryone, toDB(s.now()), id); err != nil {
			return err
		}
		if err := s.recordVersion(ctx, tx, before.Audience, Change{Actor: ActorAdmin, Action: "share"}); err != nil {
			return err
		}
		return s.recordVersion(ctx, tx, AudienceEveryone, Change{Actor: ActorAdmin, Action: "share"})
	})
	if err != nil {
		return MemoryNote{}, fmt.Errorf("store: share memory note %q: %w", truncateForError(id), err)
	}
	return before, nil
}

// DeleteMemoryNote deletes the note and returns it; an unknown id is
// ErrNotFound.
func (s *Store) DeleteMemoryNote(ctx context.Context, id string) (MemoryNote, error) {
	var n MemoryNote
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		var err error
		n, err = scanMemoryNote(tx.QueryRowContext(ctx, "SELECT "+memorySelect+" FROM memory_notes WHERE id = ?", id))
		if err != nil {
			return errNoRows(err)
		}
		if _, err = s.exec(ctx, tx, "DELETE FROM memory_notes WHERE id = ?", id); err != nil {
			return err
		}
		return s.recordVersion(ctx, tx, n.Audience, Change{Actor: ActorAdmin, Action: "delete"})
	})
	if err != nil {
		return MemoryNote{}, fmt.Errorf("store: delete memory note %q: %w", truncateForError(id), err)
	}
	return n, nil
}

// ImportMemory stores the MEMORY.md text of an earlier version as one
// admin-only note, unless an imported note (one without a conversation)
// with the same text exists, so that an import interrupted before the file
// was emptied is not stored twice. It reports whether it stored a note; a
// blank text stores none. Text beyond 1 MiB is cut.
func (s *Store) ImportMemory(ctx context.Context, text string) (bool, error) {
	text = strings.TrimSpace(strings.ToValidUTF8(strings.ReplaceAll(text, "\x00", ""), "\uFFFD"))
	text = utf8cut.Prefix(text, MaxImportBytes)
	if text == "" {
		return false, nil
	}
	imported := false
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM memory_notes WHERE audience = ?"+
			" AND conversation_id = '' AND text = ?", AudienceAdmin, text).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		now := toDB(s.now())
		if _, err := s.exec(ctx, tx, "INSERT INTO memory_notes ("+memoryColumns+") VALUES (?, ?, ?, '', '', ?, ?)",
			newID("m_"), AudienceAdmin, text, now, now); err != nil {
			return err
		}
		imported = true
		return s.recordVersion(ctx, tx, AudienceAdmin, Change{Actor: ActorSystem, Action: "import"})
	})
	if err != nil {
		return false, fmt.Errorf("store: import memory: %w", err)
	}
	return imported, nil
}
