package queue

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"yamen/problem"
	"yamen/tenants"
)

var statusText = map[string]string{
	"waiting":  "等候中 (waiting)",
	"called":   "已叫号 (called)",
	"finished": "已办结 (finished)",
	"no_show":  "已过号 (no-show)",
}

// notCalled is the 409 of an operation on a ticket no window holds.
func notCalled(status string) error {
	return conflict("该号当前" + statusText[status] + "，不在窗口叫号中 (the ticket is not being called at a window)")
}

// ticketState reads what explains a refused change of a ticket.
func ticketState(ctx context.Context, q tenants.Querier, id uuid.UUID) (status string, recalls int, hall uuid.UUID, err error) {
	err = q.QueryRow(ctx, "SELECT status::text, recalls, hall_id FROM queue_tickets WHERE id = $1", id).Scan(&status, &recalls, &hall)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", 0, uuid.Nil, errNoTicket
	}
	if err != nil {
		return "", 0, uuid.Nil, fmt.Errorf("queue: ticket state: %w", err)
	}
	return status, recalls, hall, nil
}

// CallNextIn calls, at window, the next waiting ticket of the items the
// window handles, in the tenant's order, on behalf of staff (nil for a
// key). The ticket is taken with FOR UPDATE SKIP LOCKED and changed only
// while still waiting, so two windows calling at once get two tickets, and
// the unique index on called tickets per window keeps one window to one
// citizen at a time.
//
// Reading the window and the settings, taking the ticket, reading it back
// and notifying the boards are one statement, so a call is two round
// trips: that statement (with BEGIN) and COMMIT.
func (m *Module) CallNextIn(ctx context.Context, tx *tenants.Tx, window uuid.UUID, staff *uuid.UUID) (Ticket, error) {
	var (
		active  bool
		current *string
		id      *uuid.UUID
		t       Ticket
		// notified is whether the boards' event was sent (with a ticket).
		notified *bool
	)
	// A ticket's fields are scanned into t only when one was called; the
	// row has them NULL otherwise.
	var (
		number, kind, status, hallName, itemName, deptName, citizenName, idNumber, windowLocation *string
		hallID, itemID, deptID                                                                    *uuid.UUID
		recalls, transfers                                                                        *int
		queuedAt                                                                                  *time.Time
	)
	err := tx.QueryRow(ctx, `WITH w AS (
			SELECT w.active, w.hall_id, array(SELECT item_id FROM catalog_window_items WHERE window_id = w.id) AS items,
				(SELECT number FROM queue_tickets WHERE window_id = w.id AND status = 'called') AS current,
				coalesce((SELECT settings->>'order' FROM tenant_modules WHERE module = 'queue'), '') AS calling_order
			FROM catalog_windows w WHERE w.id = $1),
		next AS (
			SELECT CASE WHEN w.calling_order = '`+OrderArrival+`' THEN `+nextTicket(OrderArrival, "(SELECT hall_id FROM w)", "(SELECT items FROM w)::uuid[]")+`
				ELSE `+nextTicket(OrderAppointmentsFirst, "(SELECT hall_id FROM w)", "(SELECT items FROM w)::uuid[]")+` END AS id
			FROM w WHERE w.active AND w.current IS NULL),
		called AS (
			UPDATE queue_tickets t SET status = 'called', window_id = $1, called_by = $2, called_at = now(), updated_at = now()
			WHERE t.id = (SELECT id FROM next) AND t.status = 'waiting'
			RETURNING t.*)
		SELECT w.active, w.current, c.id, c.number, c.kind::text, c.status::text, c.hall_id, h.name, c.item_id, i.name, d.id, d.name,
			c.citizen_name, c.id_number_masked, c.appointment_id, c.slot_start, c.slot_end,
			c.window_id, cw.number, coalesce(cw.location, ''), c.called_by, c.recalls, c.transfers, c.queued_at, c.called_at, c.finished_at,
			-- the boards' event (notifyBoard's, built here to save a round trip)
			CASE WHEN c.id IS NOT NULL THEN pg_notify($3, json_build_object('tenant', c.tenant_id, 'hall_id', c.hall_id, 'event', 'call',
				'ticket_id', c.id, 'number', c.number, 'window_number', cw.number, 'window_location', coalesce(cw.location, ''),
				'item_name', i.name, 'recalls', c.recalls, 'text', c.number || ' 请到 ' || cw.number || ' 号窗口', 'at', now())::text)::text = '' END
		FROM w
		LEFT JOIN called c ON true
		LEFT JOIN catalog_halls h ON h.tenant_id = c.tenant_id AND h.id = c.hall_id
		LEFT JOIN catalog_items i ON i.tenant_id = c.tenant_id AND i.id = c.item_id
		LEFT JOIN catalog_departments d ON d.tenant_id = i.tenant_id AND d.id = i.department_id
		LEFT JOIN catalog_windows cw ON cw.tenant_id = c.tenant_id AND cw.id = c.window_id`, window, staff, BoardChannel).Scan(
		&active, &current, &id, &number, &kind, &status, &hallID, &hallName, &itemID, &itemName, &deptID, &deptName,
		&citizenName, &idNumber, &t.AppointmentID, &t.SlotStart, &t.SlotEnd,
		&t.WindowID, &t.WindowNumber, &windowLocation, &t.CalledBy, &recalls, &transfers, &queuedAt, &t.CalledAt, &t.FinishedAt, &notified)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return Ticket{}, problem.NotFound("没有这个窗口 (no such window)")
	case isUnique(err, "queue_tickets_window"):
		return Ticket{}, conflict("窗口正在叫号，请先办结、过号或转办 (the window is already serving a ticket)")
	case err != nil:
		return Ticket{}, fmt.Errorf("queue: call next: %w", err)
	case !active:
		return Ticket{}, conflict("该窗口已停用 (the window is not in use)")
	case current != nil:
		return Ticket{}, conflict(fmt.Sprintf("窗口还有正在叫号的 %s，请先办结、过号或转办 (the window is still serving %s: finish, mark no-show or transfer it first)", *current, *current))
	case id == nil:
		return Ticket{}, problem.NotFound("该窗口的事项没有等候的号 (nobody is waiting for this window's items)")
	}
	t.ID, t.Number, t.Kind, t.Status = *id, *number, *kind, *status
	t.HallID, t.HallName, t.ItemID, t.ItemName, t.DepartmentID, t.DepartmentName = *hallID, *hallName, *itemID, *itemName, *deptID, *deptName
	t.CitizenName, t.IDNumber, t.WindowLocation = *citizenName, *idNumber, *windowLocation
	t.Recalls, t.Transfers, t.QueuedAt = *recalls, *transfers, *queuedAt
	return t, nil
}

// nextTicket is SQL for the id of the next waiting ticket of hall and
// items (SQL expressions: parameters or uncorrelated subqueries, so that
// the planner reads the kind's index in order), locked, in the order orderKey describes. Each
// kind is read through its own index in calling order, so a long queue
// costs no sort; COALESCE reads the next kind only when the one before has
// nobody.
func nextTicket(order, hall, items string) string {
	pick := func(cond, by string) string {
		return `(SELECT t.id FROM queue_tickets t WHERE t.hall_id = ` + hall + ` AND t.status = 'waiting' AND t.item_id = ANY(` + items + `) AND ` + cond +
			` ORDER BY ` + by + ` LIMIT 1 FOR UPDATE OF t SKIP LOCKED)`
	}
	if order == OrderArrival {
		return pick("true", "t.queued_at, t.id")
	}
	return "coalesce(" +
		pick("t.kind = 'appointment' AND t.slot_start <= now()", "t.slot_start, t.queued_at, t.id") + ", " +
		pick("t.kind = 'priority'", "t.queued_at, t.id") + ", " +
		pick("(t.kind = 'walk_in' OR (t.kind = 'appointment' AND t.slot_start > now()))", "t.queued_at, t.id") + ")"
}

func isUnique(err error, constraint string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == constraint
}

// RecallIn calls a called ticket again (重呼).
func (m *Module) RecallIn(ctx context.Context, tx *tenants.Tx, id uuid.UUID) (Ticket, error) {
	tag, err := tx.Exec(ctx, `UPDATE queue_tickets SET recalls = recalls + 1, called_at = now(), updated_at = now()
		WHERE id = $1 AND status = 'called'`, id)
	if err != nil {
		return Ticket{}, fmt.Errorf("queue: recall: %w", err)
	}
	if tag.RowsAffected() == 0 {
		status, _, _, err := ticketState(ctx, tx, id)
		if err != nil {
			return Ticket{}, err
		}
		return Ticket{}, notCalled(status)
	}
	t, err := GetTicket(ctx, tx, id)
	if err != nil {
		return Ticket{}, err
	}
	return t, notifyBoard(ctx, tx, "recall", t)
}

// NoShowIn marks a called ticket that nobody answered as a no-show (过号),
// once it was recalled as often as the settings ask.
func (m *Module) NoShowIn(ctx context.Context, tx *tenants.Tx, id uuid.UUID) (Ticket, error) {
	s, err := LoadSettings(ctx, tx)
	if err != nil {
		return Ticket{}, err
	}
	tag, err := tx.Exec(ctx, `UPDATE queue_tickets SET status = 'no_show', finished_at = now(), updated_at = now()
		WHERE id = $1 AND status = 'called' AND recalls >= $2`, id, s.RecallsBeforeNoShow)
	if err != nil {
		return Ticket{}, fmt.Errorf("queue: no-show: %w", err)
	}
	if tag.RowsAffected() == 0 {
		status, recalls, _, err := ticketState(ctx, tx, id)
		if err != nil {
			return Ticket{}, err
		}
		if status != "called" {
			return Ticket{}, notCalled(status)
		}
		return Ticket{}, conflict(fmt.Sprintf("须先重呼 %d 次才能过号，已重呼 %d 次 (recall the ticket %d times before marking it a no-show; recalled %d)",
			s.RecallsBeforeNoShow, recalls, s.RecallsBeforeNoShow, recalls))
	}
	return getTicket(ctx, tx, s, id)
}

// Transfer moves a ticket to another item (转办).
type Transfer struct {
	ItemID string `json:"item_id" format:"uuid" doc:"转到的办理事项编号，须在同一网点 (the service item to transfer to, in the same hall)"`
}

// TransferIn moves a called ticket to another item of the same hall: it
// waits again in that item's queue with its number and its arrival time,
// so it keeps its place — the citizen already waited once. Recorded in the
// audit log.
func (m *Module) TransferIn(ctx context.Context, tx *tenants.Tx, id uuid.UUID, in Transfer) (Ticket, error) {
	status, _, hall, err := ticketState(ctx, tx, id)
	if err != nil {
		return Ticket{}, err
	}
	if status != "called" {
		return Ticket{}, notCalled(status)
	}
	itemID, err := uuid.Parse(in.ItemID)
	if err != nil {
		return Ticket{}, problem.InvalidField("body.item_id", "须为 UUID (must be a UUID)", in.ItemID)
	}
	it, ok, err := loadItem(ctx, tx, itemID)
	if err != nil {
		return Ticket{}, err
	}
	switch {
	case !ok:
		return Ticket{}, problem.InvalidField("body.item_id", "没有这个事项 (no such service item)", in.ItemID)
	case it.HallID != hall:
		return Ticket{}, problem.InvalidField("body.item_id", "只能转到本网点的事项 (only to an item of the ticket's hall)", in.ItemID)
	case !it.Active || !it.Ticketable:
		return Ticket{}, problem.InvalidField("body.item_id", "该事项不能取号 (the item takes no tickets)", in.ItemID)
	}
	var from uuid.UUID
	err = tx.QueryRow(ctx, `UPDATE queue_tickets t SET item_id = $2, status = 'waiting', window_id = NULL, called_by = NULL, called_at = NULL,
			recalls = 0, transfers = t.transfers + 1, updated_at = now()
		FROM queue_tickets old WHERE old.tenant_id = t.tenant_id AND old.id = t.id AND t.id = $1 AND t.status = 'called'
		RETURNING old.item_id`, id, itemID).Scan(&from)
	if errors.Is(err, pgx.ErrNoRows) {
		return Ticket{}, conflict("该号状态已变化，请刷新 (the ticket changed meanwhile; reload it)")
	}
	if isUnique(err, "queue_tickets_person") {
		return Ticket{}, conflict("此证件已有该事项的等候号 (the citizen already holds a waiting ticket for that item)")
	}
	if err != nil {
		return Ticket{}, fmt.Errorf("queue: transfer: %w", err)
	}
	if from == itemID {
		return Ticket{}, problem.InvalidField("body.item_id", "已是该事项 (the ticket is already for that item)", in.ItemID)
	}
	t, err := GetTicket(ctx, tx, id)
	if err != nil {
		return Ticket{}, err
	}
	return t, tenants.Audit(ctx, tx, "queue.transfer", id.String(), map[string]any{"number": t.Number, "from_item": from, "to_item": itemID})
}

// TaskCase is the ratings module's task that records a case (办件) for
// rating; finishing a ticket enqueues it when the tenant has ratings on.
const TaskCase = "ratings:case"

// CasePayload is the payload of a ratings:case task: one case handled at a
// window, as the ratings module records it for 好差评. The ratings module
// owns the task; this is the contract between the two.
type CasePayload struct {
	// CaseNo is unique: <hall code>-<yyyymmdd>-<ticket number>, the service
	// day's date and number of the finished ticket.
	CaseNo string `json:"case_no"`
	// Source is "queue".
	Source         string    `json:"source"`
	TicketID       uuid.UUID `json:"ticket_id"`
	ItemID         uuid.UUID `json:"item_id"`
	ItemCode       string    `json:"item_code"`
	ItemName       string    `json:"item_name"`
	DepartmentID   uuid.UUID `json:"department_id"`
	DepartmentName string    `json:"department_name"`
	WindowID       uuid.UUID `json:"window_id"`
	WindowNumber   int       `json:"window_number"`
	// StaffMemberID is who finished the ticket, or who called it when a
	// key finished it; nil when no member did either.
	StaffMemberID *uuid.UUID `json:"staff_member_id"`
	StaffName     string     `json:"staff_name"`
	// RegionCode is the hall's (新四级: down to the community).
	RegionCode string `json:"region_code"`
	// Channel is "window".
	Channel string `json:"channel"`
	// CitizenID is the citizen's Kratos identity when known (appointments).
	CitizenID   *uuid.UUID `json:"citizen_id"`
	CitizenName string     `json:"citizen_name"`
	HandledAt   time.Time  `json:"handled_at"`
}

// FinishIn finishes a called ticket (办结) on behalf of staff (nil for a
// key) and, when the tenant has the ratings module on, enqueues its case.
func (m *Module) FinishIn(ctx context.Context, tx *tenants.Tx, id uuid.UUID, staff *uuid.UUID) (Ticket, error) {
	tag, err := tx.Exec(ctx, `UPDATE queue_tickets SET status = 'finished', finished_at = now(), updated_at = now()
		WHERE id = $1 AND status = 'called'`, id)
	if err != nil {
		return Ticket{}, fmt.Errorf("queue: finish: %w", err)
	}
	if tag.RowsAffected() == 0 {
		status, _, _, err := ticketState(ctx, tx, id)
		if err != nil {
			return Ticket{}, err
		}
		return Ticket{}, notCalled(status)
	}
	var p CasePayload
	var ratings bool
	var hallCode string
	var day time.Time
	var number string
	err = tx.QueryRow(ctx, `SELECT coalesce((SELECT enabled FROM tenant_modules WHERE module = 'ratings'), false),
			h.code, h.region_code, t.service_date, t.number, i.id, i.code, i.name, d.id, d.name, w.id, w.number,
			m.id, coalesce(m.name, ''), t.citizen_id, t.citizen_name, t.finished_at
		FROM queue_tickets t
		JOIN catalog_halls h ON h.tenant_id = t.tenant_id AND h.id = t.hall_id
		JOIN catalog_items i ON i.tenant_id = t.tenant_id AND i.id = t.item_id
		JOIN catalog_departments d ON d.tenant_id = i.tenant_id AND d.id = i.department_id
		JOIN catalog_windows w ON w.tenant_id = t.tenant_id AND w.id = t.window_id
		LEFT JOIN members m ON m.tenant_id = t.tenant_id AND m.id = coalesce($2, t.called_by)
		WHERE t.id = $1`, id, staff).Scan(&ratings, &hallCode, &p.RegionCode, &day, &number, &p.ItemID, &p.ItemCode, &p.ItemName,
		&p.DepartmentID, &p.DepartmentName, &p.WindowID, &p.WindowNumber, &p.StaffMemberID, &p.StaffName, &p.CitizenID, &p.CitizenName, &p.HandledAt)
	if err != nil {
		return Ticket{}, fmt.Errorf("queue: case of ticket %s: %w", id, err)
	}
	if ratings {
		p.CaseNo = hallCode + "-" + day.Format("20060102") + "-" + number
		p.Source, p.Channel, p.TicketID = "queue", "window", id
		p.HandledAt = p.HandledAt.UTC()
		if _, err := tenants.Enqueue(ctx, tx, tenants.Task{Type: TaskCase, Payload: p, DedupeKey: p.CaseNo}); err != nil {
			return Ticket{}, err
		}
	}
	return GetTicket(ctx, tx, id)
}
