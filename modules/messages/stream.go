package messages

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"yamen/tenants"
)

// Live push of in-app messages (站内信) over Server-Sent Events.
//
// DeliverIn, when an in-app delivery to a member becomes delivered, runs
// pg_notify(InboxChannel, 'tenant|member|delivery') in its transaction, so
// the notification goes out on commit, to every process. Each process holds
// one connection that LISTENs on the channel (started with the first
// subscriber) and a hub passing each delivery id to the streams of that
// member; the stream loads the item with the member's own reader (row-level
// security applies) and writes it as an event.

// InboxChannel is the PostgreSQL notification channel of in-app deliveries.
const InboxChannel = "yamen_inbox"

// Heartbeat is how often a stream writes a comment to keep proxies from
// closing an idle connection.
const Heartbeat = 15 * time.Second

type inboxKey struct{ tenant, member uuid.UUID }

// hub fans notifications out to the streams of this process.
type hub struct {
	mu   sync.Mutex
	subs map[inboxKey]map[chan uuid.UUID]struct{}
	once sync.Once
	stop context.CancelFunc
	done chan struct{}
}

// subscribe registers a stream of the member; the returned function
// unregisters it.
func (m *Module) subscribe(tenant, member uuid.UUID) (<-chan uuid.UUID, func()) {
	h := &m.hub
	h.once.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		h.stop = cancel
		h.done = make(chan struct{})
		go func() {
			defer close(h.done)
			m.listen(ctx)
		}()
	})
	ch := make(chan uuid.UUID, 4096)
	k := inboxKey{tenant, member}
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[inboxKey]map[chan uuid.UUID]struct{}{}
	}
	if h.subs[k] == nil {
		h.subs[k] = map[chan uuid.UUID]struct{}{}
	}
	h.subs[k][ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(h.subs[k], ch)
		if len(h.subs[k]) == 0 {
			delete(h.subs, k)
		}
		h.mu.Unlock()
	}
}

// publish passes a notification's payload to the member's streams. A
// stream too slow to take it loses the event, not the message: it stays in
// the inbox.
func (h *hub) publish(payload string) {
	parts := strings.Split(payload, "|")
	if len(parts) != 3 {
		return
	}
	var ids [3]uuid.UUID
	for i, p := range parts {
		id, err := uuid.Parse(p)
		if err != nil {
			return
		}
		ids[i] = id
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs[inboxKey{ids[0], ids[1]}] {
		select {
		case ch <- ids[2]:
		default:
		}
	}
}

// closeHub stops the listener, if it was started.
func (h *hub) closeHub() {
	h.once.Do(func() {})
	if h.stop != nil {
		h.stop()
		<-h.done
	}
}

// Cleanup implements modules.CleanerUpper: it stops the inbox listener.
func (m *Module) Cleanup() error {
	m.hub.closeHub()
	return nil
}

// listen holds one connection LISTENing on InboxChannel until ctx ends,
// reconnecting after a second when it breaks.
func (m *Module) listen(ctx context.Context) {
	for {
		err := m.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		m.logger().Warn("messages: listening for in-app deliveries failed; reconnecting", "error", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (m *Module) listenOnce(ctx context.Context) error {
	pc, err := m.db.Pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire: %w", err)
	}
	conn := pc.Hijack()
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{InboxChannel}.Sanitize()); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		m.hub.publish(n.Payload)
	}
}

func (m *Module) logger() *slog.Logger {
	if m.log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return m.log
}

// notifyInbox queues the notification of an in-app delivery, sent when tx
// commits.
func notifyInbox(ctx context.Context, tx *tenants.Tx, member string, delivery uuid.UUID) error {
	_, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, InboxChannel, tx.TenantID().String()+"|"+member+"|"+delivery.String())
	if err != nil {
		return fmt.Errorf("messages: notify delivery %s: %w", delivery, err)
	}
	return nil
}

// inboxItems loads delivered in-app messages of member by id, in the
// order they were delivered.
func inboxItems(ctx context.Context, q tenants.Querier, member uuid.UUID, ids []uuid.UUID) ([]InboxItem, error) {
	rows, err := q.Query(ctx, `SELECT d.id, d.message_id, m.kind, m.body, d.created_at, d.read_at
		FROM message_deliveries d JOIN messages m ON m.tenant_id = d.tenant_id AND m.id = d.message_id
		WHERE d.id = ANY($1) AND d.recipient_kind = 'member' AND d.recipient_id = $2 AND d.channel = 'in_app' AND d.status = 'delivered'
		ORDER BY d.delivered_at, d.id`, ids, member)
	if err != nil {
		return nil, fmt.Errorf("messages: inbox items: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (InboxItem, error) {
		var i InboxItem
		err := r.Scan(&i.ID, &i.MessageID, &i.Kind, &i.Text, &i.CreatedAt, &i.ReadAt)
		return i, err
	})
}

// inboxSince returns the member's in-app messages delivered after the one
// with id last, oldest first, at most 500.
func inboxSince(ctx context.Context, q tenants.Querier, member, last uuid.UUID) ([]InboxItem, error) {
	rows, err := q.Query(ctx, `SELECT d.id, d.message_id, m.kind, m.body, d.created_at, d.read_at
		FROM message_deliveries d JOIN messages m ON m.tenant_id = d.tenant_id AND m.id = d.message_id
		WHERE d.recipient_kind = 'member' AND d.recipient_id = $1 AND d.channel = 'in_app' AND d.status = 'delivered'
			AND d.delivered_at > (SELECT delivered_at FROM message_deliveries WHERE id = $2)
		ORDER BY d.delivered_at, d.id LIMIT 500`, member, last)
	if err != nil {
		return nil, fmt.Errorf("messages: inbox since: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (InboxItem, error) {
		var i InboxItem
		err := r.Scan(&i.ID, &i.MessageID, &i.Kind, &i.Text, &i.CreatedAt, &i.ReadAt)
		return i, err
	})
}

// StreamEvent is the data of one event of the inbox stream.
type StreamEvent struct {
	ID        uuid.UUID `json:"id"`
	Kind      string    `json:"kind"`
	Text      string    `json:"text"`
	CreatedAt time.Time `json:"created_at"`
}

type streamInput struct {
	tenantPath
	LastEventID string `header:"Last-Event-ID" maxLength:"100" doc:"断线重连时最后收到的事件编号，补发其后的消息 (the last event received; the messages delivered after it are sent first)"`
}

// stream answers GET /inbox/stream.
func (m *Module) stream(ctx context.Context, in *streamInput) (*huma.StreamResponse, error) {
	tn, subject, err := parties(ctx)
	if err != nil {
		return nil, err
	}
	member, err := memberOf(subject)
	if err != nil {
		return nil, err
	}
	reader, err := m.db.Reader(tn.ID, subject.String())
	if err != nil {
		return nil, err
	}
	var missed []InboxItem
	if last, perr := uuid.Parse(strings.TrimSpace(in.LastEventID)); perr == nil {
		if missed, err = inboxSince(ctx, reader, member, last); err != nil {
			return nil, err
		}
	}
	// Subscribed before answering, so nothing delivered after the response
	// started is missed.
	events, unsubscribe := m.subscribe(tn.ID, member)
	return &huma.StreamResponse{Body: func(hctx huma.Context) {
		defer unsubscribe()
		hctx.SetHeader("Content-Type", "text/event-stream")
		hctx.SetHeader("Cache-Control", "no-cache")
		hctx.SetHeader("X-Accel-Buffering", "no")
		hctx.SetStatus(http.StatusOK)
		w := hctx.BodyWriter()
		rc := flusher{w}
		write := func(i InboxItem) bool {
			data, _ := json.Marshal(StreamEvent{ID: i.ID, Kind: i.Kind, Text: i.Text, CreatedAt: i.CreatedAt})
			if _, err := fmt.Fprintf(w, "id: %s\nevent: message\ndata: %s\n\n", i.ID, data); err != nil {
				return false
			}
			return rc.Flush() == nil
		}
		if _, err := fmt.Fprint(w, ": connected\nretry: 3000\n\n"); err != nil || rc.Flush() != nil {
			return
		}
		for _, i := range missed {
			if !write(i) {
				return
			}
		}
		rctx := hctx.Context()
		tick := time.NewTicker(Heartbeat)
		defer tick.Stop()
		for {
			select {
			case <-rctx.Done():
				return
			case <-tick.C:
				if _, err := fmt.Fprint(w, ": heartbeat\n\n"); err != nil || rc.Flush() != nil {
					return
				}
			case id := <-events:
				// Whatever else is waiting goes in the same query.
				ids := []uuid.UUID{id}
			more:
				for len(ids) < 500 {
					select {
					case id := <-events:
						ids = append(ids, id)
					default:
						break more
					}
				}
				items, err := inboxItems(rctx, reader, member, ids)
				if err != nil {
					if rctx.Err() == nil {
						m.logger().Warn("messages: load in-app deliveries for the stream", "deliveries", len(ids), "error", err)
					}
					continue
				}
				for _, i := range items {
					if !write(i) {
						return
					}
				}
			}
		}
	}}, nil
}

// flusher flushes a stream's writer through whatever wraps it (the access
// log's statusWriter unwraps to the server's writer).
type flusher struct{ w any }

func (f flusher) Flush() error {
	switch w := f.w.(type) {
	case http.ResponseWriter:
		return http.NewResponseController(w).Flush()
	case http.Flusher:
		w.Flush()
	}
	return nil
}
