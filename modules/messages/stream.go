package messages

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"yamen/fanout"
	"yamen/modules"
	"yamen/tenants"
)

// Live push of in-app messages (站内信) over Server-Sent Events.
//
// An in-app delivery to a member that becomes delivered — in the send's own
// transaction, or by DeliverIn when the tenant rate-limits in-app messages —
// runs pg_notify(InboxChannel, 'tenant|member|delivery'), so the
// notification goes out on commit, to every process. Each process, from its
// first subscriber on, holds one connection that LISTENs on the channel and
// a small pool of its own from which a loader reads the delivered messages
// that some stream of this process waits for: everything that arrived
// together in one query per tenant, whatever the number of streams. The hub
// passes each message to the streams of its recipient. The streams never
// wait for the service's pool, where sends queue at full load.

// InboxChannel is the PostgreSQL notification channel of in-app deliveries.
const InboxChannel = "yamen_inbox"

// loadBatch bounds the deliveries the loader reads in one query.
const loadBatch = 1000

type inboxKey struct{ tenant, member uuid.UUID }

// notice is one notification on InboxChannel.
type notice struct {
	key      inboxKey
	delivery uuid.UUID
}

// hub fans the delivered messages out to the streams of this process.
type hub struct {
	subs fanout.Set[inboxKey, InboxItem]
	once sync.Once
	stop context.CancelFunc
	done chan struct{}
	// pool is the loader's own.
	pool *pgxpool.Pool
	// ready is closed when the listener first LISTENs: a stream answered
	// before would miss what is sent meanwhile.
	ready     chan struct{}
	readyOnce sync.Once
}

// listening waits, at most a few seconds, until the listener has started.
func (h *hub) listening(ctx context.Context) {
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case <-h.ready:
	case <-ctx.Done():
	case <-t.C:
	}
}

// subscribe registers a stream of the member; the returned function
// unregisters it.
func (m *Module) subscribe(tenant, member uuid.UUID) (<-chan InboxItem, func()) {
	h := &m.hub
	h.once.Do(m.startHub)
	return h.subs.Subscribe(inboxKey{tenant, member}, 4096)
}

// startHub starts the listener and the loader.
func (m *Module) startHub() {
	h := &m.hub
	ctx, cancel := context.WithCancel(context.Background())
	h.stop = cancel
	h.done = make(chan struct{})
	h.ready = make(chan struct{})
	cfg := m.db.Pool.Config()
	cfg.MaxConns, cfg.MinConns = 2, 0
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		// Connecting is lazy, so only a configuration the service's own
		// pool accepted could fail here.
		m.logger().Error("messages: the inbox loader's pool", "error", err)
		close(h.ready)
		close(h.done)
		return
	}
	h.pool = pool
	notices := make(chan notice, 65536)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		m.listen(ctx, notices)
	}()
	go func() {
		defer wg.Done()
		m.load(ctx, notices)
	}()
	go func() {
		wg.Wait()
		pool.Close()
		close(h.done)
	}()
}

// wanted says whether a stream of this process waits for the member's
// messages.
func (h *hub) wanted(k inboxKey) bool { return h.subs.Wanted(k) }

// publish passes a delivered message to its recipient's streams. A stream
// too slow to take it loses the event, not the message: it stays in the
// inbox.
func (h *hub) publish(tenant, member uuid.UUID, i InboxItem) {
	h.subs.Publish(inboxKey{tenant, member}, i)
}

// parseNotice reads a notification's payload, tenant|member|delivery.
func parseNotice(payload string) (notice, bool) {
	parts := strings.Split(payload, "|")
	if len(parts) != 3 {
		return notice{}, false
	}
	var ids [3]uuid.UUID
	for i, p := range parts {
		id, err := uuid.Parse(p)
		if err != nil {
			return notice{}, false
		}
		ids[i] = id
	}
	return notice{key: inboxKey{ids[0], ids[1]}, delivery: ids[2]}, true
}

// closeHub stops the listener and the loader, if they were started.
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
// reconnecting after a second when it breaks, and passes the notifications
// some stream of this process waits for to the loader.
func (m *Module) listen(ctx context.Context, notices chan<- notice) {
	for {
		err := m.listenOnce(ctx, notices)
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

func (m *Module) listenOnce(ctx context.Context, notices chan<- notice) error {
	pc, err := m.hub.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire: %w", err)
	}
	conn := pc.Hijack()
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{InboxChannel}.Sanitize()); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	m.hub.readyOnce.Do(func() { close(m.hub.ready) })
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		nt, ok := parseNotice(n.Payload)
		if !ok || !m.hub.wanted(nt.key) {
			continue
		}
		select {
		case notices <- nt:
		default:
			m.logger().Warn("messages: the inbox loader is behind; a live event is dropped (the message is in the inbox)", "delivery", nt.delivery)
		}
	}
}

// load reads the messages of the notices, as many as are waiting in one
// query per tenant, and publishes them, until ctx ends.
func (m *Module) load(ctx context.Context, notices <-chan notice) {
	db := &tenants.DB{Pool: m.hub.pool}
	system := tenants.System().String()
	for {
		var batch []notice
		select {
		case <-ctx.Done():
			return
		case n := <-notices:
			batch = append(batch, n)
		}
	more:
		for len(batch) < loadBatch {
			select {
			case n := <-notices:
				batch = append(batch, n)
			default:
				break more
			}
		}
		byTenant := map[uuid.UUID][]uuid.UUID{}
		for _, n := range batch {
			byTenant[n.key.tenant] = append(byTenant[n.key.tenant], n.delivery)
		}
		for tenant, ids := range byTenant {
			r, err := db.Reader(tenant, system)
			if err == nil {
				err = loadInApp(ctx, r, ids, func(member uuid.UUID, i InboxItem) { m.hub.publish(tenant, member, i) })
			}
			if err != nil && ctx.Err() == nil {
				m.logger().Warn("messages: load in-app deliveries for the streams", "tenant", tenant, "deliveries", len(ids), "error", err)
			}
		}
	}
}

// loadInApp reads delivered in-app messages to members by delivery id, in
// the order they were delivered, and gives each with its recipient to fn.
func loadInApp(ctx context.Context, q tenants.Querier, ids []uuid.UUID, fn func(member uuid.UUID, i InboxItem)) error {
	rows, err := q.Query(ctx, `SELECT d.recipient_id, d.id, d.message_id, m.kind, m.body, d.created_at, d.read_at
		FROM message_deliveries d JOIN messages m ON m.tenant_id = d.tenant_id AND m.id = d.message_id
		WHERE d.id = ANY($1) AND d.recipient_kind = 'member' AND d.channel = 'in_app' AND d.status = 'delivered'
		ORDER BY d.delivered_at, d.id`, ids)
	if err != nil {
		return fmt.Errorf("messages: in-app deliveries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			member uuid.UUID
			i      InboxItem
		)
		if err := rows.Scan(&member, &i.ID, &i.MessageID, &i.Kind, &i.Text, &i.CreatedAt, &i.ReadAt); err != nil {
			return fmt.Errorf("messages: in-app deliveries: %w", err)
		}
		fn(member, i)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("messages: in-app deliveries: %w", err)
	}
	return nil
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
	modules.TenantPath
	LastEventID string `header:"Last-Event-ID" maxLength:"100" doc:"断线重连时最后收到的事件编号，补发其后的消息 (the last event received; the messages delivered after it are sent first)"`
}

// stream answers GET /inbox/stream.
func (m *Module) stream(ctx context.Context, in *streamInput) (*huma.StreamResponse, error) {
	tn, subject, err := modules.Parties(ctx)
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
	// Subscribed, and the listener listening, before answering, so nothing
	// delivered after the response started is missed.
	events, unsubscribe := m.subscribe(tn.ID, member)
	m.hub.listening(ctx)
	return &huma.StreamResponse{Body: func(hctx huma.Context) {
		defer unsubscribe()
		modules.ServeEvents(hctx, missed, events, func(w io.Writer, i InboxItem) error {
			data, _ := json.Marshal(StreamEvent{ID: i.ID, Kind: i.Kind, Text: i.Text, CreatedAt: i.CreatedAt})
			_, err := fmt.Fprintf(w, "id: %s\nevent: message\ndata: %s\n\n", i.ID, data)
			return err
		})
	}}, nil
}
