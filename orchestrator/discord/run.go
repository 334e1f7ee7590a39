package discord

import (
	"context"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/airlockhq/airlock/internal/backoff"
)

// Gateway intents: guild messages (mentions) and DMs. Message content is a
// privileged intent the bot does not need: Discord delivers the content of
// DMs and of messages that mention the bot without it.
const intents = discordgo.IntentsGuildMessages | discordgo.IntentsDirectMessages

// Backoff between failed first connections; discordgo reconnects by itself
// once connected.
const (
	minBackoff = time.Second
	maxBackoff = 2 * time.Minute
)

// newSession builds the discordgo session; it holds the only copy of the
// token outside the Config.
func (b *Bot) newSession() *discordgo.Session {
	tok := string(b.cfg.Token)
	if !strings.HasPrefix(tok, "Bot ") {
		tok = "Bot " + tok
	}
	s, _ := discordgo.New(tok) // never fails
	if b.deps.HTTPClient != nil {
		s.Client = b.deps.HTTPClient
	}
	s.Identify.Intents = intents
	s.StateEnabled = false
	// Handlers run in order on the gateway goroutine (READY before the first
	// message); each hands slow work to its own goroutine.
	s.SyncEvents = true
	// Pinned: discordgo's debug lines print the IDENTIFY packet, token
	// included (TestLibraryLogLevelPinned).
	s.LogLevel = discordgo.LogWarning
	// Every handler recovers a panic (see guard).
	s.AddHandler(guarded(b, "READY", b.onReady))
	s.AddHandler(guarded(b, "RESUMED", b.onResumed))
	s.AddHandler(guarded(b, "connect", b.onConnect))
	s.AddHandler(guarded(b, "disconnect", b.onDisconnect))
	s.AddHandler(guarded(b, "MESSAGE_CREATE", b.onMessage))
	s.AddHandler(guarded(b, "INTERACTION_CREATE", b.onInteraction))
	return s
}

// Run connects, registers the /new command and serves until ctx ends; then
// it disconnects, waits for the messages being answered and returns nil.
// A failed first connection is retried with backoff (see Status); after
// that, discordgo reconnects and resumes by itself. Run may be called once.
func (b *Bot) Run(ctx context.Context) error {
	b.mu.Lock()
	if b.started {
		b.mu.Unlock()
		return ErrRunning
	}
	b.started, b.runCtx = true, ctx
	b.mu.Unlock()

	if err := b.connect(ctx); err != nil {
		b.shutdown()
		return nil
	}
	b.registerCommands(ctx)
	<-ctx.Done()
	b.shutdown()
	return nil
}

// connect opens the gateway session, retrying until it succeeds or ctx ends.
func (b *Bot) connect(ctx context.Context) error {
	wait := backoff.Doubling{Min: minBackoff, Max: maxBackoff}
	for {
		err := b.session.Open()
		if err == nil {
			b.log.Info("discord: connected")
			return nil
		}
		d := wait.Next()
		b.fail("connect", err, "retry_in", d)
		if err := backoff.Sleep(ctx, d); err != nil {
			return err
		}
	}
}

// shutdown stops new work, closes the session and waits for in-flight
// answers.
func (b *Bot) shutdown() {
	b.mu.Lock()
	b.closing = true
	b.mu.Unlock()
	if err := b.session.Close(); err != nil {
		b.log.Warn("discord: close", "err", err)
	}
	b.tasks.Wait()
	b.setConnected(false)
}

// spawn runs fn in a goroutine tracked by shutdown, unless shutting down;
// a panic in fn is recovered (see guard).
func (b *Bot) spawn(fn func(ctx context.Context)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closing || b.runCtx == nil {
		return
	}
	ctx := b.runCtx
	b.tasks.Add(1)
	go func() {
		defer b.tasks.Done()
		defer b.guard("task")
		fn(ctx)
	}()
}

// registerCommands declares the /new slash command, usable in guilds and
// in DMs with the bot. Failure is logged: "!new" still works.
func (b *Bot) registerCommands(ctx context.Context) {
	b.mu.Lock()
	app := b.appID
	b.mu.Unlock()
	contexts := []discordgo.InteractionContextType{discordgo.InteractionContextGuild, discordgo.InteractionContextBotDM}
	cmds := []*discordgo.ApplicationCommand{{Name: cmdNew, Type: discordgo.ChatApplicationCommand,
		Description: "Start a new conversation with the assistant in this channel", Contexts: &contexts}}
	if _, err := b.session.ApplicationCommandBulkOverwrite(app, "", cmds, discordgo.WithContext(ctx)); err != nil {
		b.fail("register slash commands", err)
	}
}

func (b *Bot) onReady(_ *discordgo.Session, r *discordgo.Ready) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if r.User != nil {
		b.botID, b.status.User = r.User.ID, r.User.Username
		b.appID = r.User.ID
	}
	if r.Application != nil && r.Application.ID != "" {
		b.appID = r.Application.ID
	}
	b.status.Connected = true
}

func (b *Bot) onResumed(*discordgo.Session, *discordgo.Resumed) {
	b.log.Info("discord: session resumed")
	b.setConnected(true)
}

func (b *Bot) onConnect(*discordgo.Session, *discordgo.Connect) { b.setConnected(true) }

func (b *Bot) onDisconnect(*discordgo.Session, *discordgo.Disconnect) {
	b.log.Info("discord: disconnected")
	b.setConnected(false)
}

func (b *Bot) setConnected(v bool) {
	b.mu.Lock()
	b.status.Connected = v
	b.mu.Unlock()
}

// me returns the bot's user id (empty before READY).
func (b *Bot) me() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.botID
}
