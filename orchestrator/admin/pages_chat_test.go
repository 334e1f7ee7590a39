package admin

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/airlockhq/airlock/orchestrator/live"
	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/secure/redact"
)

// TestChatEventsStream: a viewer of /chat/{id}/events receives the
// conversation's live events as server-sent events, each passed through
// the redactor, and nothing of other conversations.
func TestChatEventsStream(t *testing.T) {
	hub := live.New()
	e := newEnv(t, func(d *Deps) {
		d.Live = hub
		r, err := redact.New([]redact.Secret{{Name: "X", Value: "s3cr3t-value"}})
		if err != nil {
			t.Fatal(err)
		}
		d.Redactor = &redact.Holder{}
		d.Redactor.Store(r)
	})
	e.setup()
	b := e.login()
	ctx := context.Background()
	conv, _ := e.store.CreateConversation(ctx, store.SourceWeb, "")
	other, _ := e.store.CreateConversation(ctx, store.SourceWeb, "")

	resp, cancel := openEvents(t, b, hub, conv.ID)
	defer cancel()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	hub.Publish(live.Event{Type: live.TypeDelta, ConversationID: other.ID, Text: "not for you"})
	hub.Publish(live.Event{Type: live.TypeTask, ConversationID: conv.ID, TaskID: "t_1"})
	hub.Publish(live.Event{Type: live.TypeDone, ConversationID: conv.ID, TaskID: "t_1", Text: "the key is s3cr3t-value"})

	sc := bufio.NewScanner(resp.Body)
	var got []string
	for sc.Scan() && len(got) < 4 {
		if l := sc.Text(); strings.HasPrefix(l, "event: ") || strings.HasPrefix(l, "data: ") {
			got = append(got, l)
		}
	}
	all := strings.Join(got, "\n")
	if len(got) != 4 || got[0] != "event: task" || got[2] != "event: done" || !strings.Contains(got[3], "[REDACTED:X]") ||
		strings.Contains(all, "s3cr3t-value") || strings.Contains(all, "not for you") {
		t.Fatalf("events:\n%s", all)
	}
	cancel()
	waitFor(t, func() bool { return hub.Subscribers(conv.ID) == 0 })
}

// TestChatSend: a message from chat.js is accepted at once (202) and
// titles the conversation; a Discord conversation is read-only here, for
// the page and the API; bad messages are refused.
func TestChatSend(t *testing.T) {
	e := newEnv(t, func(d *Deps) { d.Live = live.New() })
	e.setup()
	b := e.login()
	ctx := context.Background()
	c, loc, _ := b.post("/chat", nil)
	if c != http.StatusSeeOther || !strings.HasPrefix(loc, "/chat/c_") {
		t.Fatalf("new conversation: %d %s", c, loc)
	}
	id := strings.TrimPrefix(loc, "/chat/")
	send := func(id, text string) int { return chatPost(t, b, id, text) }
	if code := send(id, "  What is   the weather\nin Paris today?  "); code != http.StatusAccepted {
		t.Fatalf("send: %d", code)
	}
	if conv, _ := e.store.GetConversation(ctx, id); conv.Title != "What is the weather in Paris today?" {
		t.Errorf("title %q", conv.Title)
	}
	waitFor(t, func() bool {
		msgs, _ := e.store.Messages(ctx, id)
		return len(msgs) == 1 && msgs[0].Content == "  What is   the weather\nin Paris today?  "
	})
	if code := send(id, "   "); code != http.StatusBadRequest {
		t.Errorf("an empty message: %d; want 400", code)
	}
	dc, err := e.store.ExternalConversation(ctx, store.SourceDiscord, "300000000000000001", "#general")
	if err != nil {
		t.Fatal(err)
	}
	if code := send(dc.ID, "hello"); code != http.StatusConflict {
		t.Errorf("posting into a Discord conversation from the page: %d; want 409", code)
	}
	if code := e.api(e.apiToken(), "POST", "/api/v1/conversations/"+dc.ID+"/messages", map[string]string{"text": "hi"}, nil); code != http.StatusConflict {
		t.Errorf("posting into a Discord conversation through the API: %d; want 409", code)
	}
	_, body := b.get("/chat/" + dc.ID)
	if !strings.Contains(body, "read-only") || strings.Contains(body, `id="composer"`) {
		t.Error("a Discord conversation's page offers a composer")
	}
	if msgs, _ := e.store.Messages(ctx, dc.ID); len(msgs) != 0 {
		t.Errorf("the Discord conversation got %d messages from the web", len(msgs))
	}
	// The store's title limit reaches the API as a 400.
	long := map[string]string{"title": strings.Repeat("t", store.MaxTitleBytes+1)}
	if code := e.api(e.apiToken(), "POST", "/api/v1/conversations", long, nil); code != http.StatusBadRequest {
		t.Errorf("a conversation with a %d-byte title: %d; want 400", store.MaxTitleBytes+1, code)
	}
}

// chatPost posts a message as chat.js does and returns the status.
func chatPost(t *testing.T, b *browser, id, text string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", b.e.srv.URL+"/chat/"+id+"/messages", strings.NewReader(url.Values{"text": {text}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-CSRF-Token", b.csrf)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestChatPostsAreBounded: a post from chat.js to a conversation whose
// reply is still being written is refused at once (409), not queued;
// replies written in the background are capped over all conversations
// (429 beyond); Close cancels them (rather than waiting for their
// deadline) and their failure is stored.
func TestChatPostsAreBounded(t *testing.T) {
	e := newEnv(t, func(d *Deps) { d.Live = live.New() })
	e.setup()
	b := e.login()
	ctx := context.Background()
	var convs []string
	for range maxBackgroundPosts + 1 {
		c, err := e.store.CreateConversation(ctx, store.SourceWeb, "")
		if err != nil {
			t.Fatal(err)
		}
		convs = append(convs, c.ID)
	}
	if code := chatPost(t, b, convs[0], "first"); code != http.StatusAccepted {
		t.Fatalf("first post: %d", code)
	}
	if code := chatPost(t, b, convs[0], "second"); code != http.StatusConflict {
		t.Errorf("a second post while the reply is written: %d; want 409", code)
	}
	for _, id := range convs[1:maxBackgroundPosts] {
		if code := chatPost(t, b, id, "hello"); code != http.StatusAccepted {
			t.Fatalf("post to another conversation: %d", code)
		}
	}
	if code := chatPost(t, b, convs[maxBackgroundPosts], "one too many"); code != http.StatusTooManyRequests {
		t.Errorf("a post past the cap: %d; want 429", code)
	}
	if msgs, _ := e.store.Messages(ctx, convs[maxBackgroundPosts]); len(msgs) != 0 {
		t.Errorf("the refused post stored %d messages", len(msgs))
	}
	e.server.Close()
	if n := strings.Count(e.logs.String(), "cancelled: the orchestrator is shutting down"); n != maxBackgroundPosts {
		t.Errorf("%d tasks cancelled by Close; want %d:\n%s", n, maxBackgroundPosts, e.logs.String())
	}
	for _, id := range convs[:maxBackgroundPosts] {
		msgs, _ := e.store.Messages(ctx, id)
		if len(msgs) != 2 || !msgs[1].IsError {
			t.Errorf("conversation %s after Close: %+v; want the message and a failure", id, msgs)
		}
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestChatEventsEndWithSession: an open event stream stops delivering
// once its session is revoked (logout, password change, sign-out).
func TestChatEventsEndWithSession(t *testing.T) {
	hub := live.New()
	e := newEnv(t, func(d *Deps) { d.Live = hub })
	e.setup()
	b := e.login()
	ctx := context.Background()
	conv, _ := e.store.CreateConversation(ctx, store.SourceWeb, "")
	resp, cancel := openEvents(t, b, hub, conv.ID)
	defer cancel()
	sessions, err := e.auth.Sessions(ctx, mustAdminID(t, e))
	if err != nil {
		t.Fatal(err)
	}
	for _, ss := range sessions {
		if err := e.auth.Logout(ctx, ss.ID); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(sseRecheck + 100*time.Millisecond)
	hub.Publish(live.Event{Type: live.TypeDone, ConversationID: conv.ID, TaskID: "t_1", Text: "after logout"})
	body, _ := io.ReadAll(resp.Body) // ends when the server closes the stream
	if strings.Contains(string(body), "after logout") {
		t.Fatalf("a revoked session still received an event:\n%s", body)
	}
	waitFor(t, func() bool { return hub.Subscribers(conv.ID) == 0 })
}

func mustAdminID(t *testing.T, e *env) string {
	t.Helper()
	a, err := e.store.AdminByUsername(context.Background(), adminUser)
	if err != nil {
		t.Fatal(err)
	}
	return a.ID
}

// openEvents opens a conversation's event stream in the browser and waits
// until the server has subscribed it; cancel closes it.
func openEvents(t *testing.T, b *browser, hub *live.Hub, convID string) (*http.Response, func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	req, _ := http.NewRequestWithContext(ctx, "GET", b.e.srv.URL+"/chat/"+convID+"/events", nil)
	resp, err := b.c.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	waitFor(t, func() bool { return hub.Subscribers(convID) == 1 })
	return resp, func() { resp.Body.Close(); cancel() }
}
