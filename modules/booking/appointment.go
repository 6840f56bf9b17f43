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
	"yamen/tenants/calendar"
)

// Citizen is the person booking: a Kratos citizen identity.
type Citizen struct {
	ID    uuid.UUID
	Name  string
	Phone string
	// RealNameLevel is the identity's metadata_public.real_name_level.
	RealNameLevel string
}

// NewAppointment is a citizen's booking request.
type NewAppointment struct {
	ItemID    uuid.UUID `json:"item_id" doc:"事项编号 (service item id)"`
	SlotStart time.Time `json:"slot_start" doc:"预约时段开始时间，须是该事项的一个时段 (start of one of the item's slots)"`
}

// Appointment is one booking.
type Appointment struct {
	ID           uuid.UUID  `json:"id"`
	TenantID     uuid.UUID  `json:"tenant_id"`
	ItemID       uuid.UUID  `json:"item_id"`
	ItemName     string     `json:"item_name"`
	HallID       uuid.UUID  `json:"hall_id"`
	HallName     string     `json:"hall_name"`
	SlotStart    time.Time  `json:"slot_start"`
	SlotEnd      time.Time  `json:"slot_end"`
	CitizenID    uuid.UUID  `json:"citizen_id"`
	CitizenName  string     `json:"citizen_name"`
	CitizenPhone string     `json:"citizen_phone"`
	Status       string     `json:"status" enum:"booked,checked_in,cancelled,no_show" doc:"booked 已预约, checked_in 已取号, cancelled 已取消, no_show 违约未到"`
	CancelReason string     `json:"cancel_reason,omitempty"`
	CancelledAt  *time.Time `json:"cancelled_at,omitempty"`
	CheckedInAt  *time.Time `json:"checked_in_at,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	// Replayed says an earlier request with the same Idempotency-Key made it.
	Replayed bool `json:"replayed,omitempty"`
}

const appointmentColumns = `a.id, a.tenant_id, a.item_id, i.name, a.hall_id, h.name, a.slot_start, a.slot_end, a.citizen_id, a.citizen_name,
	a.citizen_phone, a.status::text, a.cancel_reason, a.cancelled_at, a.checked_in_at, a.created_at`

const appointmentFrom = ` FROM booking_appointments a JOIN catalog_items i ON i.id = a.item_id JOIN catalog_halls h ON h.id = a.hall_id `

func scanAppointment(row pgx.Row) (Appointment, error) {
	var a Appointment
	err := row.Scan(&a.ID, &a.TenantID, &a.ItemID, &a.ItemName, &a.HallID, &a.HallName, &a.SlotStart, &a.SlotEnd, &a.CitizenID, &a.CitizenName,
		&a.CitizenPhone, &a.Status, &a.CancelReason, &a.CancelledAt, &a.CheckedInAt, &a.CreatedAt)
	return a, err
}

func getAppointment(ctx context.Context, q tenants.Querier, id uuid.UUID, lock bool) (Appointment, error) {
	sql := "SELECT " + appointmentColumns + appointmentFrom + "WHERE a.id = $1"
	if lock {
		sql += " FOR UPDATE OF a"
	}
	a, err := scanAppointment(q.QueryRow(ctx, sql, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Appointment{}, problem.NotFound("没有这个预约 (no such appointment)")
	}
	if err != nil {
		return Appointment{}, fmt.Errorf("booking: appointment: %w", err)
	}
	return a, nil
}

// GetOwn returns the citizen's appointment; another's does not exist.
func GetOwn(ctx context.Context, q tenants.Querier, citizen, id uuid.UUID) (Appointment, error) {
	a, err := getAppointment(ctx, q, id, false)
	if err != nil {
		return Appointment{}, err
	}
	if a.CitizenID != citizen {
		return Appointment{}, problem.NotFound("没有这个预约 (no such appointment)")
	}
	return a, nil
}

// dayStart is midnight of the day t falls on, in loc.
func dayStart(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

// Book books a slot for the citizen in tx, at now. Everything is checked
// before anything is written; the places are taken last. A booking refused
// there for a full day has taken its slot's place in tx, so the caller
// rolls tx back on an error, as DB.Tx does. With an idempotency key, a
// repeated request answers with the appointment the first made.
//
// Four round trips: the citizen's lock (with BEGIN), every read in one
// pipeline, the write (places and appointment in one statement), COMMIT.
func (m *Module) Book(ctx context.Context, tx *tenants.Tx, cal *calendar.Calendar, c Citizen, in NewAppointment, key string, now time.Time) (Appointment, error) {
	// One citizen's bookings in a tenant are serialized, so the per-person
	// limits and the idempotency key hold under concurrency; different
	// citizens never wait for each other here.
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended('booking:' || current_tenant()::text || $1::text, 0))", c.ID); err != nil {
		return Appointment{}, fmt.Errorf("booking: lock: %w", err)
	}
	loc := cal.Location()
	start := in.SlotStart
	b := &pgx.Batch{}
	if key != "" {
		// Only with a key: a request without one cannot be a repeat, and
		// the statement would be planned for an empty key as a scan.
		b.Queue("SELECT id FROM booking_appointments WHERE citizen_id = $1 AND idempotency_key = $2", c.ID, key)
	}
	b.Queue(itemSQL, in.ItemID)
	b.Queue(`SELECT
			(SELECT list::text FROM booking_list_entries WHERE citizen_id = $1),
			(SELECT reason FROM booking_bars WHERE citizen_id = $1 AND lifted_at IS NULL AND starts_at <= $3 AND ends_at > $3 ORDER BY ends_at DESC LIMIT 1),
			(SELECT max(ends_at) FROM booking_bars WHERE citizen_id = $1 AND lifted_at IS NULL AND starts_at <= $3 AND ends_at > $3),
			count(*) FILTER (WHERE status = 'cancelled' AND cancelled_at >= $2),
			count(*) FILTER (WHERE status = 'booked' AND slot_end > $3),
			coalesce(bool_or(status IN ('booked', 'checked_in') AND item_id = $4 AND slot_start = $5), false)
		FROM booking_appointments WHERE citizen_id = $1 AND (slot_end > $3 OR cancelled_at >= $2)`,
		c.ID, dayStart(now, loc), now, in.ItemID, start)
	br := tx.SendBatch(ctx, b)
	var replay uuid.UUID
	if key != "" {
		err := br.QueryRow().Scan(&replay)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			br.Close()
			return Appointment{}, fmt.Errorf("booking: idempotency key: %w", err)
		}
	}
	it, itemErr := scanItem(br.QueryRow())
	var (
		list, barReason        *string
		barUntil               *time.Time
		cancelledToday, active int
		sameSlot               bool
	)
	limitsErr := br.QueryRow().Scan(&list, &barReason, &barUntil, &cancelledToday, &active, &sameSlot)
	if err := br.Close(); err != nil {
		return Appointment{}, fmt.Errorf("booking: reads: %w", err)
	}
	if replay != uuid.Nil {
		a, err := getAppointment(ctx, tx, replay, false)
		a.Replayed = true
		return a, err
	}
	if errors.Is(itemErr, errNoItem) {
		return Appointment{}, problem.InvalidField("body.item_id", "没有这个事项 (no such item)", in.ItemID.String())
	}
	if itemErr != nil {
		return Appointment{}, itemErr
	}
	if limitsErr != nil {
		return Appointment{}, fmt.Errorf("booking: limits: %w", limitsErr)
	}
	if !it.Bookable {
		return Appointment{}, problem.InvalidField("body.item_id", "该事项不开放预约 (the item cannot be booked)", in.ItemID.String())
	}
	earliest, latest := it.window(now, loc)
	switch {
	case !start.After(now):
		return Appointment{}, problem.InvalidField("body.slot_start", "该时段已开始或已过去 (the slot has started or is past)", start)
	case start.Before(earliest):
		return Appointment{}, problem.InvalidField("body.slot_start",
			fmt.Sprintf("须至少提前 %d 分钟预约 (book at least %d minutes ahead)", it.Rules.MinNoticeMinutes, it.Rules.MinNoticeMinutes), start)
	case !start.Before(latest):
		return Appointment{}, problem.InvalidField("body.slot_start",
			fmt.Sprintf("超出可预约范围：最多提前 %d 天 (outside the booking window: at most %d days ahead)", it.Rules.DaysAhead, it.Rules.DaysAhead), start)
	}
	starts, err := it.slotTimes(ctx, cal, start, start, now)
	if err != nil {
		return Appointment{}, err
	}
	if len(starts) != 1 || !starts[0].Equal(start) {
		return Appointment{}, problem.InvalidField("body.slot_start", "不是该事项的预约时段（非工作日、不在办公时间或未对齐时段） (not one of the item's slots: a day off, outside opening hours, or not on a slot boundary)", start)
	}
	if levelRank[c.RealNameLevel] < levelRank[it.Rules.RealNameLevel] {
		return Appointment{}, problem.Forbidden(fmt.Sprintf("该事项须完成%s后预约，您当前为%s (the item requires the real-name level %s; yours is %s)",
			strings.Fields(levelNames[it.Rules.RealNameLevel])[0], strings.Fields(levelNames[cmpOr(c.RealNameLevel, LevelNone)])[0], it.Rules.RealNameLevel, cmpOr(c.RealNameLevel, LevelNone)))
	}
	if err := refusal(list, barReason, barUntil); err != nil {
		return Appointment{}, err
	}
	switch {
	case cancelledToday >= it.Settings.CancellationsPerDay:
		return Appointment{}, problem.Forbidden(fmt.Sprintf("您今日已取消预约 %d 次，达到上限，今日不能再预约 (you cancelled %d times today, the limit: no more bookings today)", cancelledToday, cancelledToday))
	case sameSlot:
		return Appointment{}, problem.Conflict("您已预约该时段 (you have already booked this slot)")
	case active >= it.Settings.ActiveBookingsLimit:
		return Appointment{}, problem.Conflict(fmt.Sprintf("您已有 %d 个未到期的预约，达到上限 (you hold %d bookings, the limit)", active, active))
	}
	end := start.Add(time.Duration(it.Rules.SlotMinutes) * time.Minute)
	a := Appointment{TenantID: tx.TenantID(), ItemID: it.ID, ItemName: it.Name, HallID: it.HallID, HallName: it.HallName, SlotStart: start, SlotEnd: end,
		CitizenID: c.ID, CitizenName: cmpOr(c.Name, "居民"), CitizenPhone: c.Phone, Status: "booked"}
	// Take the place (and the day's, under a daily quota) and write the
	// appointment in one statement: a conditional upsert waits for a
	// concurrent booking of the same slot and yields no row when none is
	// left, and then nothing after it happens. The slot's row is locked
	// before the day's, in the order Cancel frees them, and the day's row —
	// which every booking of the item that day updates — is held only from
	// here to COMMIT.
	var (
		placed bool
		id     *uuid.UUID
		at     *time.Time
	)
	args := []any{a.ItemID, a.HallID, a.SlotStart, a.SlotEnd, a.CitizenID, a.CitizenName, a.CitizenPhone, key, it.Rules.Capacity}
	sql := bookSQL
	if it.Rules.DailyQuota > 0 {
		sql = bookQuotaSQL
		args = append(args, dayStart(start, loc).Format(time.DateOnly), it.Rules.DailyQuota)
	}
	err = tx.QueryRow(ctx, sql, args...).Scan(&placed, &id, &at)
	switch {
	case err != nil:
		return Appointment{}, fmt.Errorf("booking: book: %w", err)
	case !placed:
		return Appointment{}, problem.Conflict("该时段已约满，请选择其他时段 (the slot is fully booked; choose another)")
	case id == nil:
		// The slot's place was taken in this transaction; the error rolls
		// it back.
		return Appointment{}, problem.Conflict("该事项当日预约已满，请选择其他日期 (the item's bookings for the day are full; choose another day)")
	}
	a.ID, a.CreatedAt = *id, *at
	return a, nil
}

// bookSQL takes a place in slot $3 of item $1 when fewer than $9 are
// taken, and inserts the appointment; it answers whether the place was
// taken and the appointment's id and creation time.
const bookSQL = `WITH place AS (
		INSERT INTO booking_slot_counts AS c (tenant_id, item_id, slot_start, booked) VALUES (current_tenant(), $1, $3, 1)
		ON CONFLICT (tenant_id, item_id, slot_start) DO UPDATE SET booked = c.booked + 1 WHERE c.booked < $9
		RETURNING booked),
	appointment AS (
		INSERT INTO booking_appointments (tenant_id, item_id, hall_id, slot_start, slot_end, citizen_id, citizen_name, citizen_phone, idempotency_key)
		SELECT current_tenant(), $1, $2, $3, $4, $5, $6, $7, NULLIF($8, '') FROM place
		RETURNING id, created_at)
	SELECT EXISTS (SELECT FROM place), a.id, a.created_at FROM (VALUES (1)) one LEFT JOIN appointment a ON true`

// bookQuotaSQL is bookSQL under a daily quota: once the slot's place is
// taken, a place of day $10 is taken when fewer than $11 are, and only
// then is the appointment inserted.
const bookQuotaSQL = `WITH place AS (
		INSERT INTO booking_slot_counts AS c (tenant_id, item_id, slot_start, booked) VALUES (current_tenant(), $1, $3, 1)
		ON CONFLICT (tenant_id, item_id, slot_start) DO UPDATE SET booked = c.booked + 1 WHERE c.booked < $9
		RETURNING booked),
	day AS (
		INSERT INTO booking_day_counts AS c (tenant_id, item_id, day, booked) SELECT current_tenant(), $1, $10::date, 1 FROM place
		ON CONFLICT (tenant_id, item_id, day) DO UPDATE SET booked = c.booked + 1 WHERE c.booked < $11
		RETURNING booked),
	appointment AS (
		INSERT INTO booking_appointments (tenant_id, item_id, hall_id, slot_start, slot_end, citizen_id, citizen_name, citizen_phone, idempotency_key)
		SELECT current_tenant(), $1, $2, $3, $4, $5, $6, $7, NULLIF($8, '') FROM day
		RETURNING id, created_at)
	SELECT EXISTS (SELECT FROM place), a.id, a.created_at FROM (VALUES (1)) one LEFT JOIN appointment a ON true`

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Cancel cancels the citizen's booked appointment, inside the allowed
// window, keeping it with the reason. Its place is free again.
func (m *Module) Cancel(ctx context.Context, tx *tenants.Tx, cal *calendar.Calendar, citizen, id uuid.UUID, reason string, now time.Time) (Appointment, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return Appointment{}, problem.InvalidField("body.reason", "请填写取消理由 (give a reason)", nil)
	}
	a, err := getAppointment(ctx, tx, id, true)
	if err != nil {
		return Appointment{}, err
	}
	if a.CitizenID != citizen {
		return Appointment{}, problem.NotFound("没有这个预约 (no such appointment)")
	}
	if a.Status != "booked" {
		return Appointment{}, problem.Conflict(fmt.Sprintf("该预约状态为 %s，不能取消 (an appointment that is %s cannot be cancelled)", a.Status, a.Status))
	}
	it, err := loadItem(ctx, tx, a.ItemID)
	if err != nil {
		return Appointment{}, err
	}
	if deadline := a.SlotStart.Add(-time.Duration(it.Rules.CancelMinutesBefore) * time.Minute); now.After(deadline) {
		return Appointment{}, problem.Conflict(fmt.Sprintf("已过取消时限：须在时段开始前 %d 分钟取消 (too late: cancel at least %d minutes before the slot)",
			it.Rules.CancelMinutesBefore, it.Rules.CancelMinutesBefore))
	}
	err = tx.QueryRow(ctx, `UPDATE booking_appointments SET status = 'cancelled', cancel_reason = $2, cancelled_at = $3, updated_at = now()
		WHERE id = $1 AND status = 'booked' RETURNING cancelled_at`, id, reason, now).Scan(&a.CancelledAt)
	if err != nil {
		return Appointment{}, fmt.Errorf("booking: cancel: %w", err)
	}
	a.Status, a.CancelReason = "cancelled", reason
	if _, err := tx.Exec(ctx, `UPDATE booking_slot_counts SET booked = booked - 1 WHERE item_id = $1 AND slot_start = $2 AND booked > 0`, a.ItemID, a.SlotStart); err != nil {
		return Appointment{}, fmt.Errorf("booking: free the place: %w", err)
	}
	if it.Rules.DailyQuota > 0 {
		if _, err := tx.Exec(ctx, `UPDATE booking_day_counts SET booked = booked - 1 WHERE item_id = $1 AND day = $2 AND booked > 0`,
			a.ItemID, dayStart(a.SlotStart, cal.Location()).Format(time.DateOnly)); err != nil {
			return Appointment{}, fmt.Errorf("booking: free the place: %w", err)
		}
	}
	return a, nil
}

// AppointmentFilter narrows a staff list of appointments.
type AppointmentFilter struct {
	ItemID  uuid.UUID `query:"item_id" required:"false" doc:"事项编号 (item id)"`
	Citizen uuid.UUID `query:"citizen_id" required:"false" doc:"预约人 (citizen id)"`
	Status  string    `query:"status" required:"false" enum:"booked,checked_in,cancelled,no_show" doc:"状态 (status)"`
	From    time.Time `query:"from" required:"false" doc:"时段开始不早于 (slots starting at or after)"`
	To      time.Time `query:"to" required:"false" doc:"时段开始早于 (slots starting before)"`
	Limit   int       `query:"limit" required:"false" minimum:"1" maximum:"500" default:"100" doc:"最多返回条数 (at most this many)"`
}

// ListAppointments returns appointments for staff, by slot; phones are
// masked unless unmasked is set.
func ListAppointments(ctx context.Context, q tenants.Querier, f AppointmentFilter, unmasked bool) ([]Appointment, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.ItemID != uuid.Nil {
		add("a.item_id = $%d", f.ItemID)
	}
	if f.Citizen != uuid.Nil {
		add("a.citizen_id = $%d", f.Citizen)
	}
	if f.Status != "" {
		add("a.status = $%d::booking_status", f.Status)
	}
	if !f.From.IsZero() {
		add("a.slot_start >= $%d", f.From)
	}
	if !f.To.IsZero() {
		add("a.slot_start < $%d", f.To)
	}
	sql := "SELECT " + appointmentColumns + appointmentFrom
	if len(where) > 0 {
		sql += "WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, cmpInt(f.Limit, 100))
	sql += fmt.Sprintf(" ORDER BY a.slot_start, a.created_at LIMIT $%d", len(args))
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("booking: appointments: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Appointment, error) { return scanAppointment(r) })
	if err != nil {
		return nil, fmt.Errorf("booking: appointments: %w", err)
	}
	if !unmasked {
		for i := range out {
			out[i].CitizenPhone = MaskPhone(out[i].CitizenPhone)
		}
	}
	return out, nil
}

func cmpInt(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// ListOwn returns the citizen's own appointments in one tenant that has
// booking enabled, newest slot first, at most limit.
func ListOwn(ctx context.Context, q tenants.Querier, citizen uuid.UUID, limit int) ([]Appointment, error) {
	rows, err := q.Query(ctx, "SELECT "+appointmentColumns+appointmentFrom+`WHERE a.citizen_id = $1
		AND EXISTS (SELECT 1 FROM tenant_modules WHERE module = 'booking' AND enabled)
		ORDER BY a.slot_start DESC LIMIT $2`, citizen, limit)
	if err != nil {
		return nil, fmt.Errorf("booking: own appointments: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Appointment, error) { return scanAppointment(r) })
	if err != nil {
		return nil, fmt.Errorf("booking: own appointments: %w", err)
	}
	return out, nil
}

// MaskPhone hides digits 4–7 of a mobile number (138****8000), counting
// from the number after a +86 prefix.
func MaskPhone(p string) string {
	prefix, rest := "", p
	if strings.HasPrefix(p, "+86") {
		prefix, rest = "+86", p[3:]
	}
	r := []rune(rest)
	for i := 3; i < 7 && i < len(r); i++ {
		r[i] = '*'
	}
	return prefix + string(r)
}
