package queue

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"yamen/tenants"
)

// AtWindow returns the ticket a window is serving (called there, not yet
// finished, transferred or marked a no-show), or nil when it serves none:
// what a clerk's page shows between calls.
func AtWindow(ctx context.Context, q tenants.Querier, window uuid.UUID) (*Ticket, error) {
	t, err := scanTicket(q.QueryRow(ctx, ticketSelect+" WHERE t.window_id = $1 AND t.status = 'called'", window))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("queue: ticket at window: %w", err)
	}
	return &t, nil
}

// LatestCalls returns the tickets of a hall being served at a
// window now, most recent call first, at most n: what a display board shows when it
// is switched on, before the live calls arrive.
func LatestCalls(ctx context.Context, q tenants.Querier, hall uuid.UUID, n int) ([]Ticket, error) {
	rows, err := q.Query(ctx, ticketSelect+" WHERE t.hall_id = $1 AND t.status = 'called' ORDER BY t.called_at DESC LIMIT $2", hall, n)
	if err != nil {
		return nil, fmt.Errorf("queue: latest calls: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Ticket, error) { return scanTicket(r) })
	if err != nil {
		return nil, fmt.Errorf("queue: latest calls: %w", err)
	}
	return out, nil
}
