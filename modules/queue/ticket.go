package queue

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"yamen/problem"
	"yamen/tenants"
)

// Ticket is a 号票 as staff and kiosks see it: what seed 004 prints on it
// (hall, department, number, people waiting ahead, masked ID number, name)
// and where it stands.
type Ticket struct {
	ID             uuid.UUID  `json:"id"`
	Number         string     `json:"number" doc:"号码，如 A012 (ticket number)"`
	Kind           string     `json:"kind" enum:"walk_in,appointment,priority" doc:"现场号、预约号或优先号 (on-site, appointment or priority ticket)"`
	Status         string     `json:"status" enum:"waiting,called,finished,no_show"`
	HallID         uuid.UUID  `json:"hall_id"`
	HallName       string     `json:"hall_name" doc:"办事网点名称 (hall)"`
	ItemID         uuid.UUID  `json:"item_id"`
	ItemName       string     `json:"item_name" doc:"办理事项 (service item)"`
	DepartmentID   uuid.UUID  `json:"department_id"`
	DepartmentName string     `json:"department_name" doc:"业务单位名称 (department)"`
	CitizenName    string     `json:"citizen_name" doc:"姓名 (name)"`
	IDNumber       string     `json:"id_number" doc:"证件号码（脱敏） (ID number, masked)"`
	AppointmentID  *uuid.UUID `json:"appointment_id"`
	SlotStart      *time.Time `json:"slot_start"`
	SlotEnd        *time.Time `json:"slot_end"`
	WaitingAhead   int        `json:"waiting_ahead" doc:"前面等候人数（同一事项） (people waiting ahead for the same item)"`
	WindowID       *uuid.UUID `json:"window_id"`
	WindowNumber   *int       `json:"window_number" doc:"办理窗口号码 (window number)"`
	WindowLocation string     `json:"window_location" doc:"办理窗口地址 (where the window is)"`
	CalledBy       *uuid.UUID `json:"called_by" doc:"叫号的工作人员 (member who called it)"`
	Recalls        int        `json:"recalls" doc:"重呼次数 (times recalled)"`
	Transfers      int        `json:"transfers" doc:"转办次数 (times transferred to another item)"`
	QueuedAt       time.Time  `json:"queued_at"`
	CalledAt       *time.Time `json:"called_at"`
	FinishedAt     *time.Time `json:"finished_at"`
	// Secret is shown once, when the ticket is issued, for its QR code.
	Secret string `json:"secret,omitempty" doc:"查询排队进度的口令，仅取号时返回，印在号票二维码中 (the ticket's secret for GET /tickets/{id}/position; returned only when issued)"`
}

const ticketSelect = `SELECT t.id, t.number, t.kind::text, t.status::text, t.hall_id, h.name, t.item_id, i.name, d.id, d.name,
	t.citizen_name, t.id_number_masked, t.appointment_id, t.slot_start, t.slot_end,
	t.window_id, w.number, coalesce(w.location, ''), t.called_by, t.recalls, t.transfers, t.queued_at, t.called_at, t.finished_at
	FROM queue_tickets t
	JOIN catalog_halls h ON h.tenant_id = t.tenant_id AND h.id = t.hall_id
	JOIN catalog_items i ON i.tenant_id = t.tenant_id AND i.id = t.item_id
	JOIN catalog_departments d ON d.tenant_id = i.tenant_id AND d.id = i.department_id
	LEFT JOIN catalog_windows w ON w.tenant_id = t.tenant_id AND w.id = t.window_id`

func scanTicket(row pgx.Row) (Ticket, error) {
	var t Ticket
	err := row.Scan(&t.ID, &t.Number, &t.Kind, &t.Status, &t.HallID, &t.HallName, &t.ItemID, &t.ItemName, &t.DepartmentID, &t.DepartmentName,
		&t.CitizenName, &t.IDNumber, &t.AppointmentID, &t.SlotStart, &t.SlotEnd,
		&t.WindowID, &t.WindowNumber, &t.WindowLocation, &t.CalledBy, &t.Recalls, &t.Transfers, &t.QueuedAt, &t.CalledAt, &t.FinishedAt)
	return t, err
}

var errNoTicket = problem.NotFound("没有这张号票 (no such ticket)")

// GetTicket returns one ticket, with the people waiting ahead of it.
func GetTicket(ctx context.Context, q tenants.Querier, id uuid.UUID) (Ticket, error) {
	s, err := LoadSettings(ctx, q)
	if err != nil {
		return Ticket{}, err
	}
	return getTicket(ctx, q, s, id)
}

func getTicket(ctx context.Context, q tenants.Querier, s Settings, id uuid.UUID) (Ticket, error) {
	t, err := scanTicket(q.QueryRow(ctx, ticketSelect+" WHERE t.id = $1", id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Ticket{}, errNoTicket
	}
	if err != nil {
		return Ticket{}, fmt.Errorf("queue: get ticket: %w", err)
	}
	if t.Status == "waiting" {
		if t.WaitingAhead, err = waitingAhead(ctx, q, s.Order, id); err != nil {
			return Ticket{}, err
		}
	}
	return t, nil
}

// LoadSettings returns the tenant's queue settings over the defaults.
func LoadSettings(ctx context.Context, q tenants.Querier) (Settings, error) {
	s := defaultSettings()
	var raw []byte
	err := q.QueryRow(ctx, "SELECT settings FROM tenant_modules WHERE module = 'queue'").Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("queue: settings: %w", err)
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return s, fmt.Errorf("queue: settings: %w", err)
	}
	return s, nil
}

// The calling order as SQL over a ticket aliased t: a rank, a key within
// the rank, then arrival. Appointment tickets whose slot has begun rank
// first, by slot; priority tickets next; then everyone by arrival.
// Appointments checked in before their slot wait by arrival until it
// begins. waitingAhead compares the same key, so the two always agree.
func orderKey(order string) (rank, key string) {
	if order == OrderArrival {
		return "0", "'-infinity'::timestamptz"
	}
	rank = "(CASE WHEN t.kind = 'appointment' AND t.slot_start <= now() THEN 0 WHEN t.kind = 'priority' THEN 1 ELSE 2 END)"
	key = "(CASE WHEN t.kind = 'appointment' AND t.slot_start <= now() THEN t.slot_start ELSE '-infinity'::timestamptz END)"
	return rank, key
}

// waitingAhead counts the waiting tickets of the same hall and item called
// before ticket id. It counts by item: a window that handles several items
// interleaves their queues, so it is what the ticket can promise.
func waitingAhead(ctx context.Context, q tenants.Querier, order string, id uuid.UUID) (int, error) {
	rank, key := orderKey(order)
	var n int
	err := q.QueryRow(ctx, `WITH me AS (SELECT t.hall_id, t.item_id, `+rank+` AS r, `+key+` AS k, t.queued_at, t.id FROM queue_tickets t WHERE t.id = $1)
		SELECT count(*) FROM queue_tickets t, me
		WHERE t.hall_id = me.hall_id AND t.item_id = me.item_id AND t.status = 'waiting' AND t.id <> me.id
			AND (`+rank+`, `+key+`, t.queued_at, t.id) < (me.r, me.k, me.queued_at, me.id)`, id).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("queue: waiting ahead: %w", err)
	}
	return n, nil
}

// item is a service item as issuing a ticket needs it.
type item struct {
	ID, DepartmentID, HallID uuid.UUID
	Prefix                   string
	Ticketable, RealName     bool
	Active                   bool
}

func loadItem(ctx context.Context, q tenants.Querier, id uuid.UUID) (item, bool, error) {
	var it item
	err := q.QueryRow(ctx, `SELECT i.id, i.department_id, d.hall_id, i.ticket_prefix, i.ticketable, i.real_name, i.active AND d.active AND h.active
		FROM catalog_items i
		JOIN catalog_departments d ON d.tenant_id = i.tenant_id AND d.id = i.department_id
		JOIN catalog_halls h ON h.tenant_id = d.tenant_id AND h.id = d.hall_id
		WHERE i.id = $1`, id).Scan(&it.ID, &it.DepartmentID, &it.HallID, &it.Prefix, &it.Ticketable, &it.RealName, &it.Active)
	if errors.Is(err, pgx.ErrNoRows) {
		return it, false, nil
	}
	if err != nil {
		return it, false, fmt.Errorf("queue: item: %w", err)
	}
	return it, true, nil
}

// NewTicket is an on-site ticket request (现场取号).
type NewTicket struct {
	ItemID      string `json:"item_id" format:"uuid" doc:"办理事项编号 (service item id)"`
	CitizenName string `json:"citizen_name,omitempty" required:"false" maxLength:"100" doc:"办事人姓名 (the citizen's name)"`
	IDNumber    string `json:"id_number,omitempty" required:"false" maxLength:"18" doc:"居民身份证号码，18 位，经校验；实名事项必填 (18-character resident ID number, checked; required for real-name items)"`
	Priority    bool   `json:"priority,omitempty" required:"false" doc:"优先号（老年人、残疾人、军人等） (a priority ticket: the elderly, people with disabilities, service members)"`
}

// newSecret returns a ticket's secret.
func newSecret() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// idHash is the keyed hash an ID number is stored as: enough to keep one
// waiting ticket per person and item, useless without the key to find who
// held a ticket (an 18-digit number alone is easily enumerated).
func (m *Module) idHash(id string) []byte {
	h := hmac.New(sm3.New, m.passKey)
	h.Write([]byte("yamen.queue.id-number\x00" + id))
	return h.Sum(nil)
}

// IssueIn issues an on-site ticket in tx.
func (m *Module) IssueIn(ctx context.Context, tx *tenants.Tx, in NewTicket) (Ticket, error) {
	s, err := LoadSettings(ctx, tx)
	if err != nil {
		return Ticket{}, err
	}
	itemID, err := uuid.Parse(in.ItemID)
	if err != nil {
		return Ticket{}, problem.InvalidField("body.item_id", "须为 UUID (must be a UUID)", in.ItemID)
	}
	it, ok, err := loadItem(ctx, tx, itemID)
	if err != nil {
		return Ticket{}, err
	}
	var bad []problem.Field
	switch {
	case !ok:
		bad = append(bad, problem.Field{Location: "body.item_id", Message: "没有这个事项 (no such service item)", Value: in.ItemID})
	case !it.Active || !it.Ticketable:
		bad = append(bad, problem.Field{Location: "body.item_id", Message: "该事项不能现场取号 (the item takes no on-site tickets)", Value: in.ItemID})
	}
	var idNumber string
	if in.IDNumber != "" {
		var ie *IDNumberError
		if idNumber, err = ParseIDNumber(in.IDNumber, time.Now()); errors.As(err, &ie) {
			bad = append(bad, problem.Field{Location: "body.id_number", Message: "身份证号码无效 (not a valid resident ID number): " + ie.Reason})
		}
	} else if ok && (s.VerifyIdentity || it.RealName) {
		bad = append(bad, problem.Field{Location: "body.id_number", Message: "须验证身份证号码 (a verified ID number is required)"})
	}
	if idNumber != "" && in.CitizenName == "" {
		bad = append(bad, problem.Field{Location: "body.citizen_name", Message: "须填写与证件一致的姓名 (the name on the ID is required with it)"})
	}
	if len(bad) > 0 {
		return Ticket{}, problem.Invalid(bad...)
	}
	kind := "walk_in"
	if in.Priority {
		kind = "priority"
	}
	t := ticketRow{hall: it.HallID, item: it.ID, prefix: it.Prefix, kind: kind, name: in.CitizenName}
	if idNumber != "" {
		t.idHash, t.idMasked = m.idHash(idNumber), MaskIDNumber(idNumber)
	}
	return m.insertTicket(ctx, tx, s, t)
}

// ticketRow is what insertTicket writes.
type ticketRow struct {
	hall, item         uuid.UUID
	prefix, kind, name string
	idHash             []byte
	idMasked           string
	appointment        *uuid.UUID
	citizen            *uuid.UUID
	slotStart, slotEnd *time.Time
}

// insertTicket takes the next number of the hall and prefix and writes the
// ticket. The counter row is the only thing two kiosks of a hall wait on.
func (m *Module) insertTicket(ctx context.Context, tx *tenants.Tx, s Settings, r ticketRow) (Ticket, error) {
	secret := newSecret()
	var id uuid.UUID
	err := tx.QueryRow(ctx, `WITH day AS (
			SELECT (now() AT TIME ZONE coalesce((SELECT time_zone FROM jurisdiction), 'Asia/Shanghai') - make_interval(hours => $10))::date AS d),
		c AS (
			INSERT INTO queue_counters (tenant_id, hall_id, prefix, service_date, last)
			SELECT current_tenant(), $1, $3, CASE WHEN $11 THEN day.d ELSE DATE '2000-01-01' END, 1 FROM day
			ON CONFLICT (tenant_id, hall_id, prefix, service_date) DO UPDATE SET last = queue_counters.last + 1
			RETURNING last)
		INSERT INTO queue_tickets (tenant_id, hall_id, item_id, service_date, number, kind, citizen_name, id_number_hash, id_number_masked,
			appointment_id, citizen_id, slot_start, slot_end, secret)
		SELECT current_tenant(), $1, $2, day.d, $3 || CASE WHEN c.last < 1000 THEN lpad(c.last::text, 3, '0') ELSE c.last::text END,
			$4::queue_ticket_kind, $5, $6, $7, $8, $9, $12, $13, $14
		FROM c, day
		RETURNING id`,
		r.hall, r.item, r.prefix, r.kind, r.name, r.idHash, r.idMasked, r.appointment, r.citizen, s.ResetHour, s.ResetDaily, r.slotStart, r.slotEnd, secret).Scan(&id)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		switch pgErr.ConstraintName {
		case "queue_tickets_person":
			return Ticket{}, problem.Conflict("此证件已有该事项的等候号，请勿重复取号 (this ID number already holds a waiting ticket for the item)")
		case "queue_tickets_tenant_id_appointment_id_key":
			return Ticket{}, errPassUsed
		}
		// Numbers of a day without reset can collide only after a change
		// of settings; say so rather than fail.
		return Ticket{}, problem.Conflict("号码已被占用，请重试 (the number is taken; try again)")
	}
	if err != nil {
		return Ticket{}, fmt.Errorf("queue: issue ticket: %w", err)
	}
	t, err := getTicket(ctx, tx, s, id)
	if err != nil {
		return Ticket{}, err
	}
	t.Secret = secret
	return t, nil
}

// conflict is a 409 with its detail.
func conflict(detail string) error { return problem.New(http.StatusConflict, detail) }
