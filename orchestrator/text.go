package orchestrator

// CheckText returns the error HandleMessage would give for a message text
// (ErrEmptyMessage, ErrMessageTooLarge or ErrInvalidText), or nil, so that
// callers can refuse a bad message before starting work for it.
func CheckText(s string) error { return validateText(s) }
