//go:build !linux

package privdrop

import "errors"

// Exec is Linux only.
func Exec(s Spec) error {
	if err := s.validate(); err != nil {
		return err
	}
	return errors.New("exec-as: Linux only")
}
