package backup

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"filippo.io/age"
)

// MinPassphraseLen is the shortest passphrase accepted, in characters.
const MinPassphraseLen = 12

// Encryption says how a backup is encrypted. Build it with Passphrase or
// Recipient.
type Encryption struct {
	recipient  age.Recipient
	kind       string
	includeKey bool
}

// Passphrase encrypts to a passphrase (age scrypt, work factor logN; 0 means
// age's default, 18). Passphrase backups include the master key.
func Passphrase(pass string, logN int) (Encryption, error) {
	if err := checkPassphrase(pass); err != nil {
		return Encryption{}, err
	}
	r, err := age.NewScryptRecipient(pass)
	if err != nil {
		return Encryption{}, fmt.Errorf("backup: passphrase: %w", err)
	}
	if logN > 0 {
		r.SetWorkFactor(logN)
	}
	return Encryption{recipient: r, kind: "passphrase", includeKey: true}, nil
}

// Recipient encrypts to an age X25519 recipient ("age1..."). The backup
// includes the master key unless WithoutMasterKey is applied.
func Recipient(s string) (Encryption, error) {
	r, err := age.ParseX25519Recipient(strings.TrimSpace(s))
	if err != nil {
		return Encryption{}, fmt.Errorf("backup: recipient: not an age X25519 recipient (age1...)")
	}
	return Encryption{recipient: r, kind: "recipient", includeKey: true}, nil
}

// WithoutMasterKey returns e leaving the master key out of the backup; only
// recipient backups may, since a passphrase backup must restore on its own.
func (e Encryption) WithoutMasterKey() (Encryption, error) {
	if e.kind != "recipient" {
		return Encryption{}, errors.New("backup: only a recipient backup may leave the master key out")
	}
	e.includeKey = false
	return e, nil
}

// Decryption is what opens a backup: a passphrase or age identities.
type Decryption struct {
	ids []age.Identity
}

// PassphraseDecryption opens passphrase backups.
func PassphraseDecryption(pass string) (Decryption, error) {
	if pass == "" {
		return Decryption{}, errors.New("backup: passphrase: empty")
	}
	id, err := age.NewScryptIdentity(pass)
	if err != nil {
		return Decryption{}, fmt.Errorf("backup: passphrase: %w", err)
	}
	return Decryption{ids: []age.Identity{id}}, nil
}

// IdentityDecryption opens recipient backups with the identities in an age
// identity file's content.
func IdentityDecryption(content []byte) (Decryption, error) {
	ids, err := age.ParseIdentities(bytes.NewReader(content))
	if err != nil {
		return Decryption{}, errors.New("backup: identity file: no age identity (AGE-SECRET-KEY-1...) in it")
	}
	return Decryption{ids: ids}, nil
}

// ReadPassphraseFile reads a passphrase: the file's first line, without
// its line ending. Errors name the file, never its content.
func ReadPassphraseFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("backup: passphrase file: %w", err)
	}
	defer f.Close()
	line, err := bufio.NewReader(io.LimitReader(f, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("backup: passphrase file %s: %w", path, err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("backup: passphrase file %s: the first line is empty", path)
	}
	return line, nil
}

func checkPassphrase(p string) error {
	if n := utf8.RuneCountInString(p); n < MinPassphraseLen {
		return fmt.Errorf("backup: passphrase: too short (%d characters); use at least %d", n, MinPassphraseLen)
	}
	return nil
}

// decrypt opens src with d, turning age's errors into clear ones.
func (d Decryption) decrypt(src io.Reader) (io.Reader, error) {
	if len(d.ids) == 0 {
		return nil, errors.New("backup: no passphrase or identity given")
	}
	r, err := age.Decrypt(src, d.ids...)
	if err != nil {
		var nm *age.NoIdentityMatchError
		if errors.As(err, &nm) {
			return nil, fmt.Errorf("%w: wrong passphrase or identity (or not a passphrase/recipient backup of this kind)", ErrDecrypt)
		}
		return nil, fmt.Errorf("%w: not an age-encrypted Airlock backup, or its header is damaged", ErrCorrupt)
	}
	return r, nil
}
