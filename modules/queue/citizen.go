package queue

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"yamen/problem"
	"yamen/tenants"
)

// ActionTake is what the tenant's policy grants citizens: take an on-site
// ticket in their own name and follow where it stands.
const ActionTake = "queue:take"

// Policy implements modules.PolicyProvider: citizens take walk-in tickets
// for themselves (staff and kiosks issue them with queue:issue).
func (*Module) Policy() string {
	return `package yamen.modules.queue

public_actions := {"citizen": {"` + ActionTake + `"}}
`
}

// CitizenIdentity is a signed-in citizen as their Kratos identity says:
// the name and ID number are traits, the real-name level is what Yamen
// verified (metadata_public).
type CitizenIdentity struct {
	ID            uuid.UUID
	Name          string
	IDNumber      string
	RealNameLevel string
}

// verified says the identity's ID number was checked by a real-name
// verification, not only typed in by its holder.
func (c CitizenIdentity) verified() bool {
	return c.IDNumber != "" && c.RealNameLevel != "" && c.RealNameLevel != "none"
}

// TakeTicketAsCitizen issues a walk-in ticket for item in the citizen's own
// name. A real-name item (or a tenant verifying identities) needs a
// verified ID number: without one the refusal says how to get it. One
// waiting ticket per citizen and item.
func (m *Module) TakeTicketAsCitizen(ctx context.Context, tx *tenants.Tx, who CitizenIdentity, itemID string) (Ticket, error) {
	if who.ID == uuid.Nil {
		return Ticket{}, problem.Forbidden("请以居民账号登录后取号 (sign in as a citizen to take a ticket)")
	}
	id, err := uuid.Parse(itemID)
	if err != nil {
		return Ticket{}, problem.InvalidField("body.item_id", "须为 UUID (must be a UUID)", itemID)
	}
	s, err := LoadSettings(ctx, tx)
	if err != nil {
		return Ticket{}, err
	}
	it, ok, err := loadItem(ctx, tx, id)
	if err != nil {
		return Ticket{}, err
	}
	in := NewTicket{ItemID: itemID, CitizenName: who.Name}
	if ok && (it.RealName || s.VerifyIdentity) {
		if !who.verified() {
			return Ticket{}, problem.New(http.StatusForbidden, "该事项须实名取号：请先在账号设置中填写身份证号并完成实名认证，或到取号机刷身份证取号 "+
				"(this item needs a verified ID number: complete real-name verification in your account, or take a ticket at a kiosk with your ID card)")
		}
		in.IDNumber = who.IDNumber
	}
	var held uuid.UUID
	err = tx.QueryRow(ctx, "SELECT id FROM queue_tickets WHERE citizen_id = $1 AND item_id = $2 AND status = 'waiting' LIMIT 1", who.ID, id).Scan(&held)
	if err == nil {
		return Ticket{}, problem.Conflict("您已有该事项的等候号，请勿重复取号 (you already hold a waiting ticket for this item)")
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return Ticket{}, fmt.Errorf("queue: citizen's tickets: %w", err)
	}
	t, err := m.IssueIn(ctx, tx, in)
	if err != nil {
		return Ticket{}, err
	}
	if _, err := tx.Exec(ctx, "UPDATE queue_tickets SET citizen_id = $2 WHERE id = $1", t.ID, who.ID); err != nil {
		return Ticket{}, fmt.Errorf("queue: citizen's ticket: %w", err)
	}
	return t, nil
}

// CitizenTickets returns the citizen's tickets of the last day, newest
// first, with the people waiting ahead of those still waiting.
func CitizenTickets(ctx context.Context, q tenants.Querier, citizen uuid.UUID, now time.Time) ([]Ticket, error) {
	s, err := LoadSettings(ctx, q)
	if err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, ticketSelect+" WHERE t.citizen_id = $1 AND t.queued_at > $2 ORDER BY t.queued_at DESC LIMIT 20", citizen, now.Add(-24*time.Hour))
	if err != nil {
		return nil, fmt.Errorf("queue: citizen's tickets: %w", err)
	}
	ts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Ticket, error) { return scanTicket(r) })
	if err != nil {
		return nil, fmt.Errorf("queue: citizen's tickets: %w", err)
	}
	for i := range ts {
		if ts[i].Status == "waiting" {
			if ts[i].WaitingAhead, err = waitingAhead(ctx, q, s.Order, ts[i].ID); err != nil {
				return nil, err
			}
		}
	}
	return ts, nil
}

// CitizenPosition returns where the citizen's own ticket stands; another
// person's ticket is answered as unknown.
func CitizenPosition(ctx context.Context, q tenants.Querier, citizen, id uuid.UUID) (Position, error) {
	var owner *uuid.UUID
	err := q.QueryRow(ctx, "SELECT citizen_id FROM queue_tickets WHERE id = $1", id).Scan(&owner)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && (owner == nil || *owner != citizen)) {
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
