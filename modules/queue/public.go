package queue

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"yamen/problem"
	"yamen/tenants"
)

// What anyone in the hall may see: how many wait per item, where their own
// ticket stands. Nothing personal.

func hallExists(ctx context.Context, q tenants.Querier, hall uuid.UUID) error {
	var active bool
	err := q.QueryRow(ctx, "SELECT active FROM catalog_halls WHERE id = $1", hall).Scan(&active)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && !active) {
		return problem.NotFound("没有这个办事网点 (no such hall)")
	}
	if err != nil {
		return fmt.Errorf("queue: hall: %w", err)
	}
	return nil
}

// Waiting is how many wait for one item of a hall.
type Waiting struct {
	ItemID         uuid.UUID `json:"item_id"`
	ItemName       string    `json:"item_name"`
	DepartmentName string    `json:"department_name"`
	Prefix         string    `json:"prefix" doc:"号票前缀 (ticket prefix)"`
	Waiting        int       `json:"waiting" doc:"等候人数 (people waiting)"`
}

// WaitingCounts returns, per ticketable item of the hall, how many wait.
func WaitingCounts(ctx context.Context, q tenants.Querier, hall uuid.UUID) ([]Waiting, error) {
	if err := hallExists(ctx, q, hall); err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, `SELECT i.id, i.name, d.name, i.ticket_prefix,
			(SELECT count(*) FROM queue_tickets t WHERE t.hall_id = $1 AND t.item_id = i.id AND t.status = 'waiting')
		FROM catalog_items i JOIN catalog_departments d ON d.tenant_id = i.tenant_id AND d.id = i.department_id
		WHERE d.hall_id = $1 AND i.active AND i.ticketable AND d.active
		ORDER BY d.name, i.name, i.id`, hall)
	if err != nil {
		return nil, fmt.Errorf("queue: waiting counts: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Waiting])
	if err != nil {
		return nil, fmt.Errorf("queue: waiting counts: %w", err)
	}
	return out, nil
}

// Position is where a ticket stands, as its holder sees it.
type Position struct {
	Number         string     `json:"number"`
	Status         string     `json:"status" enum:"waiting,called,finished,no_show"`
	ItemName       string     `json:"item_name"`
	WaitingAhead   int        `json:"waiting_ahead" doc:"前面等候人数 (people waiting ahead)"`
	WindowNumber   *int       `json:"window_number" doc:"请前往的窗口 (the window to go to, once called)"`
	WindowLocation string     `json:"window_location"`
	CalledAt       *time.Time `json:"called_at"`
}

// TicketPosition returns where ticket id stands, to whoever holds its
// secret; a wrong secret is answered as an unknown ticket.
func TicketPosition(ctx context.Context, q tenants.Querier, id uuid.UUID, secret string) (Position, error) {
	var stored string
	err := q.QueryRow(ctx, "SELECT secret FROM queue_tickets WHERE id = $1", id).Scan(&stored)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && subtle.ConstantTimeCompare([]byte(stored), []byte(secret)) != 1) {
		return Position{}, errNoTicket
	}
	if err != nil {
		return Position{}, fmt.Errorf("queue: position: %w", err)
	}
	t, err := GetTicket(ctx, q, id)
	if err != nil {
		return Position{}, err
	}
	return Position{Number: t.Number, Status: t.Status, ItemName: t.ItemName, WaitingAhead: t.WaitingAhead,
		WindowNumber: t.WindowNumber, WindowLocation: t.WindowLocation, CalledAt: t.CalledAt}, nil
}
