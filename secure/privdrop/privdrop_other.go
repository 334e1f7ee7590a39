//go:build !linux

package privdrop

import "errors"

// Exec is Linux only.
func Exec(s Spec) error {
	if err := s.Validate(); err != nil {
		return err
	}
	return errors.New("exec-as: Linux only")
}
