package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"yamen/fanout"
	"yamen/modules"
	"yamen/tenants"
)

// Display boards (叫号屏, LED screens) follow a hall's calls over
// Server-Sent Events.
//
// A call or recall runs pg_notify(BoardChannel, <BoardEvent as JSON>) in
// its transaction, so boards hear of it when it commits, in every process.
// Each process holds one connection LISTENing on the channel (started with
// the first board) and passes each event to the boards of its hall. The
// event carries only what a board shows in public: number, window, item.

// BoardChannel is the PostgreSQL notification channel of calls.
const BoardChannel = "yamen_queue_board"

// BoardEvent is the data of one event of a board stream.
type BoardEvent struct {
	Tenant         uuid.UUID `json:"-"`
	Hall           uuid.UUID `json:"hall_id"`
	Event          string    `json:"event" enum:"call,recall"`
	TicketID       uuid.UUID `json:"ticket_id"`
	Number         string    `json:"number"`
	WindowNumber   int       `json:"window_number"`
	WindowLocation string    `json:"window_location"`
	ItemName       string    `json:"item_name"`
	Recalls        int       `json:"recalls"`
	// Text is what the board shows and speaks: A012 请到 3 号窗口.
	Text string    `json:"text"`
	At   time.Time `json:"at"`
}

// notification is BoardEvent on the wire, tenant included.
type notification struct {
	Tenant uuid.UUID `json:"tenant"`
	BoardEvent
}

func notifyBoard(ctx context.Context, tx *tenants.Tx, event string, t Ticket) error {
	if t.WindowNumber == nil {
		return nil
	}
	e := BoardEvent{
		Hall: t.HallID, Event: event, TicketID: t.ID, Number: t.Number, WindowNumber: *t.WindowNumber,
		WindowLocation: t.WindowLocation, ItemName: t.ItemName, Recalls: t.Recalls,
		Text: t.Number + " 请到 " + strconv.Itoa(*t.WindowNumber) + " 号窗口",
		At:   time.Now().UTC(),
	}
	raw, err := json.Marshal(notification{Tenant: tx.TenantID(), BoardEvent: e})
	if err != nil {
		return fmt.Errorf("queue: board event: %w", err)
	}
	if _, err := tx.Exec(ctx, "SELECT pg_notify($1, $2)", BoardChannel, string(raw)); err != nil {
		return fmt.Errorf("queue: notify board: %w", err)
	}
	return nil
}

type boardKey struct{ tenant, hall uuid.UUID }

// board fans notifications out to the board streams of this process.
type board struct {
	subs fanout.Set[boardKey, BoardEvent]
	once sync.Once
	stop context.CancelFunc
	done chan struct{}
}

func (m *Module) subscribe(tenant, hall uuid.UUID) (<-chan BoardEvent, func()) {
	b := &m.board
	b.once.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		b.stop = cancel
		b.done = make(chan struct{})
		go func() {
			defer close(b.done)
			m.listen(ctx)
		}()
	})
	return b.subs.Subscribe(boardKey{tenant, hall}, 256)
}

// publish passes a notification to its hall's boards. A board too slow to
// take it misses the event; the next call shows again.
func (b *board) publish(payload string) {
	var n notification
	if err := json.Unmarshal([]byte(payload), &n); err != nil {
		return
	}
	b.subs.Publish(boardKey{n.Tenant, n.Hall}, n.BoardEvent)
}

func (b *board) close() {
	b.once.Do(func() {})
	if b.stop != nil {
		b.stop()
		<-b.done
	}
}

// listen holds one connection LISTENing on BoardChannel until ctx ends,
// reconnecting after a second when it breaks.
func (m *Module) listen(ctx context.Context) {
	for {
		err := m.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		m.log.Warn("queue: listening for calls failed; reconnecting", "error", err)
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
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{BoardChannel}.Sanitize()); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		m.board.publish(n.Payload)
	}
}

// boardStream answers GET /halls/{hall}/board/stream.
func (m *Module) boardStream(ctx context.Context, in *hallPath) (*huma.StreamResponse, error) {
	tn, subject, err := modules.Parties(ctx)
	if err != nil {
		return nil, err
	}
	r, err := m.db.Reader(tn.ID, subject.String())
	if err != nil {
		return nil, err
	}
	if err := hallExists(ctx, r, in.Hall); err != nil {
		return nil, err
	}
	// Subscribed before answering, so no call after the response started
	// is missed.
	events, unsubscribe := m.subscribe(tn.ID, in.Hall)
	return &huma.StreamResponse{Body: func(hctx huma.Context) {
		defer unsubscribe()
		modules.ServeEvents(hctx, nil, events, func(w io.Writer, e BoardEvent) error {
			data, _ := json.Marshal(e)
			_, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.Event, data)
			return err
		})
	}}, nil
}
