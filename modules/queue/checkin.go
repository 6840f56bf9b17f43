package queue

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"yamen/modules/booking/pass"
	"yamen/problem"
	"yamen/tenants"
)

// CheckIn is a scanned appointment QR code (预约扫码取号).
type CheckIn struct {
	Token string `json:"token" minLength:"1" maxLength:"200" doc:"预约二维码中的取号凭证 (the check-in pass the appointment's QR code carries)"`
}

var errPassUsed = problem.Conflict("该预约已取号，二维码不能重复使用 (the appointment has already been checked in; the QR code is used)")

func badPass(message string) error {
	return problem.InvalidField("body.token", message, nil)
}

// CheckInIn turns the appointment a pass names into a ticket, in tx. The
// pass must be signed with the pass key, unexpired, of this tenant, and its
// appointment booked (not yet checked in, cancelled or missed) and inside
// its check-in window; the appointment becomes checked_in in the same
// transaction, so a pass is used once.
func (m *Module) CheckInIn(ctx context.Context, tx *tenants.Tx, in CheckIn, now time.Time) (Ticket, error) {
	claim, err := pass.Verify(m.passKey, in.Token, now)
	switch {
	case errors.Is(err, pass.ErrExpired):
		return Ticket{}, badPass("预约二维码已过期 (the appointment QR code has expired)")
	case err != nil:
		return Ticket{}, badPass("预约二维码无效 (not a valid appointment QR code)")
	case claim.Tenant != tx.TenantID():
		return Ticket{}, badPass("这不是本单位的预约二维码 (the QR code is not for an appointment at this hall)")
	}
	s, err := LoadSettings(ctx, tx)
	if err != nil {
		return Ticket{}, err
	}
	before := time.Duration(s.CheckInMinutesBefore) * time.Minute
	var a struct {
		item, hall         uuid.UUID
		citizen            uuid.UUID
		name               string
		slotStart, slotEnd time.Time
	}
	err = tx.QueryRow(ctx, `UPDATE booking_appointments SET status = 'checked_in', checked_in_at = $2, updated_at = $2
		WHERE id = $1 AND status = 'booked' AND $2 >= slot_start - make_interval(mins => $3) AND $2 <= slot_end + make_interval(mins => $4)
		RETURNING item_id, hall_id, citizen_id, citizen_name, slot_start, slot_end`,
		claim.Appointment, now, s.CheckInMinutesBefore, s.CheckInMinutesAfter).Scan(&a.item, &a.hall, &a.citizen, &a.name, &a.slotStart, &a.slotEnd)
	if errors.Is(err, pgx.ErrNoRows) {
		return Ticket{}, explainCheckIn(ctx, tx, claim.Appointment, now, before)
	}
	if err != nil {
		return Ticket{}, fmt.Errorf("queue: check in: %w", err)
	}
	it, ok, err := loadItem(ctx, tx, a.item)
	if err != nil {
		return Ticket{}, err
	}
	if !ok || !it.Active {
		return Ticket{}, conflict("预约的事项已停办，请到咨询台 (the appointment's service item is no longer offered; please ask at the desk)")
	}
	appointment := claim.Appointment
	return m.insertTicket(ctx, tx, s, ticketRow{
		hall: a.hall, item: a.item, prefix: it.Prefix, kind: "appointment", name: a.name,
		appointment: &appointment, citizen: &a.citizen, slotStart: &a.slotStart, slotEnd: &a.slotEnd,
	})
}

// explainCheckIn says why an appointment could not be checked in.
func explainCheckIn(ctx context.Context, q tenants.Querier, id uuid.UUID, now time.Time, before time.Duration) error {
	var status string
	var start time.Time
	err := q.QueryRow(ctx, "SELECT status::text, slot_start FROM booking_appointments WHERE id = $1", id).Scan(&status, &start)
	if errors.Is(err, pgx.ErrNoRows) {
		return badPass("没有这条预约 (no such appointment)")
	}
	if err != nil {
		return fmt.Errorf("queue: check in: %w", err)
	}
	switch {
	case status == "checked_in":
		return errPassUsed
	case status == "cancelled":
		return conflict("该预约已取消 (the appointment was cancelled)")
	case status == "no_show":
		return conflict("该预约已过时未到，记为爽约 (the appointment was missed)")
	case now.Before(start.Add(-before)):
		return conflict(fmt.Sprintf("未到取号时间，请于 %s 后取号 (too early: check in from %s)",
			start.Add(-before).Format(time.RFC3339), start.Add(-before).Format(time.RFC3339)))
	default:
		return conflict("已超过预约取号时限，请现场取号 (too late to check the appointment in; please take an on-site ticket)")
	}
}
