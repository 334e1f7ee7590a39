package scan

// Phrase reports whether text reads like prompt injection (text addressed
// to a reviewer or a model, chat-template role markers), with the first
// matching phrase and its severity. It applies the phrase rules the script
// scanner uses on comments and strings to any text, such as the
// description of an external MCP server's tool.
func Phrase(text string) (severity, phrase string, ok bool) {
	return matchPhrase(text)
}

// Hidden reports whether text carries invisible or bidirectional-control
// characters.
func Hidden(text string) bool { return stripHidden(text) != text }
