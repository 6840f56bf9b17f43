package booking

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"yamen/problem"
	"yamen/tenants"
)

// Bar is a period a citizen cannot book (违约惩戒).
type Bar struct {
	ID        uuid.UUID  `json:"id"`
	CitizenID uuid.UUID  `json:"citizen_id"`
	Reason    string     `json:"reason"`
	StartsAt  time.Time  `json:"starts_at"`
	EndsAt    time.Time  `json:"ends_at"`
	LiftedAt  *time.Time `json:"lifted_at,omitempty" doc:"申诉成立而解除的时间 (when an upheld appeal lifted it)"`
}

// Violation is one no-show.
type Violation struct {
	ID            uuid.UUID  `json:"id"`
	AppointmentID uuid.UUID  `json:"appointment_id"`
	OccurredAt    time.Time  `json:"occurred_at"`
	BarID         *uuid.UUID `json:"bar_id,omitempty"`
	Voided        bool       `json:"voided"`
}

// Appeal is a citizen's appeal against a bar.
type Appeal struct {
	ID        uuid.UUID  `json:"id"`
	BarID     uuid.UUID  `json:"bar_id"`
	CitizenID uuid.UUID  `json:"citizen_id"`
	Reason    string     `json:"reason"`
	Status    string     `json:"status" enum:"pending,upheld,rejected"`
	Decision  string     `json:"decision,omitempty"`
	DecidedBy *string    `json:"decided_by,omitempty"`
	DecidedAt *time.Time `json:"decided_at,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
}

// Standing is what a citizen sees of their record in a tenant: whether
// they may book, and if not why and until when.
type Standing struct {
	CanBook    bool        `json:"can_book"`
	Reason     string      `json:"reason,omitempty" doc:"不能预约的原因 (why not)"`
	Until      *time.Time  `json:"until,omitempty" doc:"何时恢复预约资格 (when booking is allowed again)"`
	List       string      `json:"list,omitempty" enum:"white,black" doc:"黑白名单 (on the white or black list)"`
	Bars       []Bar       `json:"bars"`
	Violations []Violation `json:"violations"`
	Appeals    []Appeal    `json:"appeals"`
}

// blacklisted is the reason a blacklisted citizen is given.
const blacklisted = "您已被列入预约黑名单 (you are on the booking blacklist)"

// checkStanding refuses a citizen who is blacklisted or barred at now.
func checkStanding(ctx context.Context, q tenants.Querier, citizen uuid.UUID, now time.Time) error {
	var list, reason *string
	var until *time.Time
	err := q.QueryRow(ctx, `SELECT (SELECT list::text FROM booking_list_entries WHERE citizen_id = $1),
			(SELECT reason FROM booking_bars WHERE citizen_id = $1 AND lifted_at IS NULL AND starts_at <= $2 AND ends_at > $2 ORDER BY ends_at DESC LIMIT 1),
			(SELECT max(ends_at) FROM booking_bars WHERE citizen_id = $1 AND lifted_at IS NULL AND starts_at <= $2 AND ends_at > $2)`,
		citizen, now).Scan(&list, &reason, &until)
	if err != nil {
		return fmt.Errorf("booking: standing: %w", err)
	}
	return refusal(list, reason, until)
}

// refusal is why a citizen on list, barred for reason until, cannot book;
// nil when they can.
func refusal(list, reason *string, until *time.Time) error {
	switch {
	case list != nil && *list == "white":
		return nil
	case list != nil && *list == "black":
		return problem.Forbidden(blacklisted)
	case until != nil && reason != nil:
		return problem.Forbidden(fmt.Sprintf("您因违约被暂停预约至 %s：%s；可提出申诉 (barred from booking until %s: %s; you may appeal)",
			until.Format(time.RFC3339), *reason, until.Format(time.RFC3339), *reason))
	}
	return nil
}

// GetStanding returns the citizen's record in the tenant at now.
func GetStanding(ctx context.Context, q tenants.Querier, citizen uuid.UUID, now time.Time) (Standing, error) {
	s := Standing{CanBook: true, Bars: []Bar{}, Violations: []Violation{}, Appeals: []Appeal{}}
	if err := checkStanding(ctx, q, citizen, now); err != nil {
		p, ok := problem.As(err)
		if !ok {
			return s, err
		}
		s.CanBook, s.Reason = false, p.Detail
	}
	err := q.QueryRow(ctx, "SELECT list::text FROM booking_list_entries WHERE citizen_id = $1", citizen).Scan(&s.List)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return s, fmt.Errorf("booking: standing: %w", err)
	}
	var err2 error
	if s.Bars, err2 = listBars(ctx, q, citizen); err2 != nil {
		return s, err2
	}
	for _, b := range s.Bars {
		if !s.CanBook && s.List != "black" && b.LiftedAt == nil && !b.StartsAt.After(now) && b.EndsAt.After(now) && (s.Until == nil || b.EndsAt.After(*s.Until)) {
			s.Until = &b.EndsAt
		}
	}
	rows, err := q.Query(ctx, `SELECT id, appointment_id, occurred_at, bar_id, voided FROM booking_violations WHERE citizen_id = $1 ORDER BY occurred_at DESC LIMIT 100`, citizen)
	if err != nil {
		return s, fmt.Errorf("booking: violations: %w", err)
	}
	if s.Violations, err = pgx.CollectRows(rows, pgx.RowToStructByPos[Violation]); err != nil {
		return s, fmt.Errorf("booking: violations: %w", err)
	}
	if s.Appeals, err = ListAppeals(ctx, q, AppealFilter{Citizen: citizen}); err != nil {
		return s, err
	}
	return s, nil
}

func listBars(ctx context.Context, q tenants.Querier, citizen uuid.UUID) ([]Bar, error) {
	rows, err := q.Query(ctx, `SELECT id, citizen_id, reason, starts_at, ends_at, lifted_at FROM booking_bars WHERE citizen_id = $1 ORDER BY starts_at DESC LIMIT 100`, citizen)
	if err != nil {
		return nil, fmt.Errorf("booking: bars: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Bar])
	if err != nil {
		return nil, fmt.Errorf("booking: bars: %w", err)
	}
	return out, nil
}

// MarkNoShows turns booked appointments whose slot ended more than the
// grace ago into no-shows, records a violation for each, and bars the
// citizens who reached the violation limit. It is idempotent: an
// appointment is marked once.
func MarkNoShows(ctx context.Context, tx *tenants.Tx, now time.Time) (int, error) {
	s, err := LoadSettings(ctx, tx)
	if err != nil {
		return 0, err
	}
	cutoff := now.Add(-time.Duration(s.NoShowGraceMinutes) * time.Minute)
	rows, err := tx.Query(ctx, `WITH missed AS (
			UPDATE booking_appointments SET status = 'no_show', updated_at = now()
			WHERE status = 'booked' AND slot_end <= $1
			RETURNING id, citizen_id)
		INSERT INTO booking_violations (tenant_id, citizen_id, appointment_id, occurred_at)
		SELECT current_tenant(), citizen_id, id, $2 FROM missed
		ON CONFLICT (tenant_id, appointment_id) DO NOTHING
		RETURNING citizen_id`, cutoff, now)
	if err != nil {
		return 0, fmt.Errorf("booking: no-shows: %w", err)
	}
	citizens, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return 0, fmt.Errorf("booking: no-shows: %w", err)
	}
	seen := map[uuid.UUID]bool{}
	for _, c := range citizens {
		if seen[c] {
			continue
		}
		seen[c] = true
		if err := barIfDue(ctx, tx, s, c, now); err != nil {
			return 0, err
		}
	}
	return len(citizens), nil
}

// barIfDue bars the citizen when their violations not yet counted towards
// a bar, within the window, reach the limit; a whitelisted citizen is never
// barred.
func barIfDue(ctx context.Context, tx *tenants.Tx, s Settings, citizen uuid.UUID, now time.Time) error {
	var n int
	var white bool
	err := tx.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM booking_violations WHERE citizen_id = $1 AND bar_id IS NULL AND NOT voided AND occurred_at > $2),
			EXISTS (SELECT 1 FROM booking_list_entries WHERE citizen_id = $1 AND list = 'white')`,
		citizen, now.AddDate(0, 0, -s.ViolationWindowDays)).Scan(&n, &white)
	if err != nil {
		return fmt.Errorf("booking: violations: %w", err)
	}
	if white || n < s.ViolationLimit {
		return nil
	}
	reason := fmt.Sprintf("%d 天内 %d 次预约未到 (%d no-shows in %d days)", s.ViolationWindowDays, n, n, s.ViolationWindowDays)
	var bar uuid.UUID
	if err := tx.QueryRow(ctx, `INSERT INTO booking_bars (tenant_id, citizen_id, reason, starts_at, ends_at) VALUES (current_tenant(), $1, $2, $3, $4) RETURNING id`,
		citizen, reason, now, now.AddDate(0, 0, s.BarDays)).Scan(&bar); err != nil {
		return fmt.Errorf("booking: bar: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE booking_violations SET bar_id = $2 WHERE citizen_id = $1 AND bar_id IS NULL AND NOT voided AND occurred_at > $3`,
		citizen, bar, now.AddDate(0, 0, -s.ViolationWindowDays)); err != nil {
		return fmt.Errorf("booking: bar: %w", err)
	}
	return tenants.Audit(ctx, tx, "booking.bar", citizen.String(), map[string]any{"bar_id": bar, "violations": n, "days": s.BarDays})
}

// NewAppeal is a citizen's appeal against a bar.
type NewAppeal struct {
	BarID  uuid.UUID `json:"bar_id" doc:"所申诉的暂停预约记录 (the bar appealed against)"`
	Reason string    `json:"reason" minLength:"1" maxLength:"1000" doc:"申诉理由 (why)"`
}

// FileAppeal records the citizen's appeal against their own bar, while it
// is in force; one pending appeal per bar.
func FileAppeal(ctx context.Context, tx *tenants.Tx, citizen uuid.UUID, in NewAppeal, now time.Time) (Appeal, error) {
	in.Reason = strings.TrimSpace(in.Reason)
	if in.Reason == "" {
		return Appeal{}, problem.InvalidField("body.reason", "请填写申诉理由 (give a reason)", nil)
	}
	var owner uuid.UUID
	var ends time.Time
	var lifted *time.Time
	err := tx.QueryRow(ctx, "SELECT citizen_id, ends_at, lifted_at FROM booking_bars WHERE id = $1 FOR UPDATE", in.BarID).Scan(&owner, &ends, &lifted)
	if errors.Is(err, pgx.ErrNoRows) || err == nil && owner != citizen {
		return Appeal{}, problem.InvalidField("body.bar_id", "没有这条暂停预约记录 (no such bar)", in.BarID.String())
	}
	if err != nil {
		return Appeal{}, fmt.Errorf("booking: appeal: %w", err)
	}
	if lifted != nil || !ends.After(now) {
		return Appeal{}, problem.Conflict("该暂停预约已结束，无需申诉 (the bar is over; nothing to appeal)")
	}
	row := tx.QueryRow(ctx, `INSERT INTO booking_appeals (tenant_id, bar_id, citizen_id, reason) VALUES (current_tenant(), $1, $2, $3)
		ON CONFLICT (tenant_id, bar_id) WHERE status = 'pending' DO NOTHING
		RETURNING `+appealColumns, in.BarID, citizen, in.Reason)
	a, err := scanAppeal(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return Appeal{}, problem.Conflict("该记录已有待处理的申诉 (an appeal against this bar is pending)")
	}
	if err != nil {
		return Appeal{}, fmt.Errorf("booking: appeal: %w", err)
	}
	return a, nil
}

const appealColumns = "id, bar_id, citizen_id, reason, status::text, decision, decided_by, decided_at, created_at"

func scanAppeal(row pgx.Row) (Appeal, error) {
	var a Appeal
	err := row.Scan(&a.ID, &a.BarID, &a.CitizenID, &a.Reason, &a.Status, &a.Decision, &a.DecidedBy, &a.DecidedAt, &a.CreatedAt)
	return a, err
}

// AppealFilter narrows a list of appeals.
type AppealFilter struct {
	Status  string    `query:"status" required:"false" enum:"pending,upheld,rejected" doc:"状态 (status)"`
	Citizen uuid.UUID `query:"citizen_id" required:"false" doc:"申诉人 (citizen id)"`
}

// ListAppeals returns appeals, oldest first.
func ListAppeals(ctx context.Context, q tenants.Querier, f AppealFilter) ([]Appeal, error) {
	rows, err := q.Query(ctx, `SELECT `+appealColumns+` FROM booking_appeals
		WHERE ($1 = '' OR status = $1::booking_appeal_status) AND ($2::uuid IS NULL OR citizen_id = $2)
		ORDER BY created_at LIMIT 500`, f.Status, nullUUID(f.Citizen))
	if err != nil {
		return nil, fmt.Errorf("booking: appeals: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Appeal, error) { return scanAppeal(r) })
	if err != nil {
		return nil, fmt.Errorf("booking: appeals: %w", err)
	}
	return out, nil
}

func nullUUID(id uuid.UUID) *uuid.UUID {
	if id == uuid.Nil {
		return nil
	}
	return &id
}

// Decision is staff's answer to an appeal.
type Decision struct {
	Uphold bool   `json:"uphold" doc:"true 申诉成立（解除暂停、撤销违约记录），false 驳回 (true lifts the bar and voids its violations; false rejects the appeal)"`
	Note   string `json:"note" minLength:"1" maxLength:"1000" doc:"处理意见，申诉人可见 (the decision, shown to the citizen)"`
}

// DecideAppeal upholds or rejects a pending appeal. Upheld, the bar is
// lifted and the violations that led to it are voided.
func DecideAppeal(ctx context.Context, tx *tenants.Tx, id uuid.UUID, d Decision, now time.Time) (Appeal, error) {
	status := "rejected"
	if d.Uphold {
		status = "upheld"
	}
	a, err := scanAppeal(tx.QueryRow(ctx, `UPDATE booking_appeals SET status = $2::booking_appeal_status, decision = $3, decided_by = $4, decided_at = $5
		WHERE id = $1 AND status = 'pending' RETURNING `+appealColumns, id, status, d.Note, tx.Subject(), now))
	if errors.Is(err, pgx.ErrNoRows) {
		var exists bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM booking_appeals WHERE id = $1)", id).Scan(&exists); err != nil {
			return Appeal{}, fmt.Errorf("booking: appeal: %w", err)
		}
		if !exists {
			return Appeal{}, problem.NotFound("没有这条申诉 (no such appeal)")
		}
		return Appeal{}, problem.Conflict("该申诉已处理 (the appeal was decided already)")
	}
	if err != nil {
		return Appeal{}, fmt.Errorf("booking: decide appeal: %w", err)
	}
	if d.Uphold {
		if _, err := tx.Exec(ctx, "UPDATE booking_bars SET lifted_at = $2 WHERE id = $1 AND lifted_at IS NULL", a.BarID, now); err != nil {
			return Appeal{}, fmt.Errorf("booking: lift bar: %w", err)
		}
		if _, err := tx.Exec(ctx, "UPDATE booking_violations SET voided = true WHERE bar_id = $1", a.BarID); err != nil {
			return Appeal{}, fmt.Errorf("booking: void violations: %w", err)
		}
	}
	if err := tenants.Audit(ctx, tx, "booking.appeal."+status, id.String(), map[string]any{"bar_id": a.BarID, "citizen_id": a.CitizenID}); err != nil {
		return Appeal{}, err
	}
	return a, nil
}

// ListEntry is a citizen on the white or black list.
type ListEntry struct {
	CitizenID uuid.UUID `json:"citizen_id" doc:"居民编号 (citizen identity id)"`
	List      string    `json:"list" enum:"white,black" doc:"white 白名单（从不暂停预约）, black 黑名单（不能预约） (white: never barred; black: cannot book)"`
	Note      string    `json:"note" required:"false" maxLength:"500" doc:"备注 (note)"`
	AddedBy   string    `json:"added_by,omitempty" readOnly:"true"`
	CreatedAt time.Time `json:"created_at,omitzero" readOnly:"true"`
}

// PutListEntry puts a citizen on the white or black list (moving them from
// the other).
func PutListEntry(ctx context.Context, tx *tenants.Tx, e ListEntry) (ListEntry, error) {
	err := tx.QueryRow(ctx, `INSERT INTO booking_list_entries (tenant_id, citizen_id, list, note, added_by) VALUES (current_tenant(), $1, $2::booking_list, $3, $4)
		ON CONFLICT (tenant_id, citizen_id) DO UPDATE SET list = $2::booking_list, note = $3, added_by = $4, created_at = now()
		RETURNING added_by, created_at`, e.CitizenID, e.List, e.Note, tx.Subject()).Scan(&e.AddedBy, &e.CreatedAt)
	if err != nil {
		return ListEntry{}, fmt.Errorf("booking: list: %w", err)
	}
	return e, tenants.Audit(ctx, tx, "booking.list.put", e.CitizenID.String(), map[string]any{"list": e.List})
}

// DeleteListEntry takes a citizen off the lists.
func DeleteListEntry(ctx context.Context, tx *tenants.Tx, citizen uuid.UUID) error {
	tag, err := tx.Exec(ctx, "DELETE FROM booking_list_entries WHERE citizen_id = $1", citizen)
	if err != nil {
		return fmt.Errorf("booking: list: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return problem.NotFound("该居民不在黑白名单中 (the citizen is on neither list)")
	}
	return tenants.Audit(ctx, tx, "booking.list.delete", citizen.String(), nil)
}

// ListListEntries returns the white and black lists.
func ListListEntries(ctx context.Context, q tenants.Querier) ([]ListEntry, error) {
	rows, err := q.Query(ctx, "SELECT citizen_id, list::text, note, added_by, created_at FROM booking_list_entries ORDER BY list, created_at LIMIT 10000")
	if err != nil {
		return nil, fmt.Errorf("booking: lists: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[ListEntry])
	if err != nil {
		return nil, fmt.Errorf("booking: lists: %w", err)
	}
	return out, nil
}
