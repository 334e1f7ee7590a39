package discord

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// Scheduled jobs (issue 14) deliver their results through the runner:
// to an allowed channel, or to an admin's DM, and nowhere else.

// errNoBot is returned while no bot runs (no token, or a restart failed).
var errNoBot = errors.New("discord: the bot is not running")

// runningBot returns the running bot, waiting out a restart in progress.
func (r *Runner) runningBot() *Bot {
	r.life.Lock()
	r.mu.Lock()
	bot := r.bot
	r.mu.Unlock()
	r.life.Unlock()
	return bot
}

// SendChannel posts a job's result to a channel, which must be in the
// allowed channels (checked again here, whatever the job says).
func (r *Runner) SendChannel(ctx context.Context, channelID, text string) error {
	bot := r.runningBot()
	if bot == nil {
		return errNoBot
	}
	if !slices.Contains(bot.cfg.AllowedChannels, channelID) {
		return fmt.Errorf("discord: channel %s is not an allowed channel", channelID)
	}
	return bot.post(ctx, channelID, text, nil)
}

// SendDM sends a job's result to an admin's DM; any other user is refused.
func (r *Runner) SendDM(ctx context.Context, userID, text string) error {
	bot := r.runningBot()
	if bot == nil {
		return errNoBot
	}
	if !slices.Contains(bot.cfg.Admins, userID) {
		return fmt.Errorf("discord: user %s is not an admin", userID)
	}
	return bot.dm(ctx, userID, text)
}

// NotifyAdmins DMs every admin text, in its own goroutine, as the script
// notices are sent.
func (r *Runner) NotifyAdmins(text string) {
	r.notify(func(ctx context.Context, bot *Bot) error {
		var errs []error
		for _, admin := range bot.cfg.Admins {
			if err := bot.dm(ctx, admin, text); err != nil {
				errs = append(errs, fmt.Errorf("discord: notify admin %s: %w", admin, err))
			}
		}
		return errors.Join(errs...)
	})
}
