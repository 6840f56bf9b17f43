package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"yamen/tenants"
)

// sseEvent is one event read from a stream.
type sseEvent struct {
	id, event string
	data      map[string]any
	at        time.Time
}

// openStream opens the inbox stream with a session token and returns its
// events; the stream closes with the test.
func openStream(t testing.TB, url, token string, header ...string) (<-chan sseEvent, *http.Response) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	require.NoError(t, err)
	req.Header.Set("X-Session-Token", token)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { cancel(); resp.Body.Close() })
	events := make(chan sseEvent, 4096)
	if resp.StatusCode != http.StatusOK {
		close(events)
		return events, resp
	}
	go func() {
		defer close(events)
		sc := bufio.NewScanner(resp.Body)
		var e sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if e.data != nil {
					e.at = time.Now()
					events <- e
				}
				e = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				e.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				e.event = line[7:]
			case strings.HasPrefix(line, "data: "):
				_ = json.Unmarshal([]byte(line[6:]), &e.data)
			}
		}
	}()
	return events, resp
}

// An in-app message sent to a member arrives on their open stream, on no
// other member's, and another tenant has no stream for them.
func TestMessageInboxStream(t *testing.T) {
	t.Parallel()
	b, m := messagesSetup(t, "", "")
	tn, key := b.tenant(t, tenants.KindPoliceBureau)
	base := "/v1/t/" + tn.Slug
	p := makePeople(t, b, key, base)
	r := b.do(t, "POST", base+"/roles", key, map[string]any{"name": "民警", "permissions": []string{"messages:inbox"}, "data_scope": "self"})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	reader := r.json(t)["id"].(string)
	link := func(member, name string) string {
		r := b.do(t, "PATCH", base+"/members/"+member, key, map[string]any{"role_ids": []string{reader}})
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		email, _, token := staffAccount(t, name)
		r = b.do(t, "POST", base+"/members/"+member+"/link", key, map[string]any{"identifier": email})
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		return token
	}
	li, wang := link(p.li, "李四"), link(p.wang, "王五")

	requireProblem(t, b.do(t, "GET", base+"/messages/inbox/stream", key, nil), http.StatusForbidden)
	other, _ := b.tenant(t, tenants.KindPoliceBureau)
	_, resp := openStream(t, b.url+"/v1/t/"+other.Slug+"/messages/inbox/stream", li)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)

	liEvents, resp := openStream(t, b.url+base+"/messages/inbox/stream", li)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	wangEvents, resp := openStream(t, b.url+base+"/messages/inbox/stream", wang)
	require.Equal(t, http.StatusOK, resp.StatusCode)

	send := func(text string, members ...string) {
		r := b.do(t, "POST", base+"/messages/send", key, map[string]any{"text": text, "channels": []string{"in_app"}, "recipients": map[string]any{"members": members}})
		require.Equal(t, http.StatusAccepted, r.status, string(r.body))
		require.Zero(t, runDue(t, b, m, tn), "the send itself delivers in-app messages")
	}
	send("今晚八点开会。", p.li)
	var first sseEvent
	select {
	case first = <-liEvents:
	case <-time.After(5 * time.Second):
		t.Fatal("no event on 李四's stream")
	}
	require.Equal(t, "message", first.event)
	require.Equal(t, "今晚八点开会。", first.data["text"])
	require.Equal(t, "direct", first.data["kind"])
	require.Equal(t, first.id, first.data["id"])
	require.NotEmpty(t, first.data["created_at"])
	inbox := b.doSession(t, "GET", base+"/messages/inbox", li, nil).list(t)
	require.Len(t, inbox, 1)
	require.Equal(t, inbox[0]["id"], first.id)

	// 王五's stream sees only what is sent to 王五.
	send("明早交班。", p.wang)
	select {
	case e := <-wangEvents:
		require.Equal(t, "明早交班。", e.data["text"])
	case <-time.After(5 * time.Second):
		t.Fatal("no event on 王五's stream")
	}
	select {
	case e := <-liEvents:
		t.Fatalf("李四 got 王五's message: %v", e.data)
	case <-time.After(300 * time.Millisecond):
	}

	// Reconnecting with Last-Event-ID sends what was delivered since.
	send("第二条。", p.li)
	select {
	case <-liEvents:
	case <-time.After(5 * time.Second):
		t.Fatal("no second event on 李四's stream")
	}
	again, resp := openStream(t, b.url+base+"/messages/inbox/stream", li, "Last-Event-ID", first.id)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	select {
	case e := <-again:
		require.Equal(t, "第二条。", e.data["text"])
	case <-time.After(5 * time.Second):
		t.Fatal("nothing replayed after Last-Event-ID")
	}

	// A tenant that limits in-app messages has the worker deliver them; the
	// stream gets them all the same.
	p.settings(t, b, map[string]any{"in_app_per_minute": 100})
	r = b.do(t, "POST", base+"/messages/send", key, map[string]any{"text": "限流后送达。", "channels": []string{"in_app"}, "recipients": map[string]any{"members": []string{p.li}}})
	require.Equal(t, http.StatusAccepted, r.status, string(r.body))
	require.Equal(t, 1, runDue(t, b, m, tn))
	select {
	case e := <-liEvents:
		require.Equal(t, "限流后送达。", e.data["text"])
	case <-time.After(5 * time.Second):
		t.Fatal("no event for a delivery the worker made")
	}
}
