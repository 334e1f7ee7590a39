package discord

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/bwmarrin/discordgo"
)

// LibraryLogger returns a function to assign, once, in main, to
// discordgo.Logger (a package variable of discordgo), so that the
// library's own log lines go to l (which should redact secrets) instead of
// the standard logger. The session logs warnings and errors only, none of
// which carries the token.
func LibraryLogger(l *slog.Logger) func(msgL, caller int, format string, a ...any) {
	return func(msgL, _ int, format string, a ...any) {
		level := slog.LevelDebug
		switch msgL {
		case discordgo.LogError:
			level = slog.LevelError
		case discordgo.LogWarning:
			level = slog.LevelWarn
		case discordgo.LogInformational:
			level = slog.LevelInfo
		}
		l.Log(context.Background(), level, "discordgo: "+fmt.Sprintf(format, a...))
	}
}
