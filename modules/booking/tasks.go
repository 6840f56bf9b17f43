package booking

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"yamen/modules"
	"yamen/modules/messages"
	"yamen/tenants"
)

// TaskSweep is the booking module's periodic work in a tenant: it marks
// the appointments nobody came to (no-shows, which may bar their
// citizens) and sends the reminders that fall due. Both are sweeps rather
// than a task per appointment, so a booking writes nothing to the outbox
// (whose NOTIFY would serialize every booking's commit); a sweep late or
// run twice does the same once.
const TaskSweep = "booking:sweep"

// SweepEvery is how often the sweep runs: a no-show is marked and a
// reminder sent at most this late.
const SweepEvery = 5 * time.Minute

// ReminderTemplate is the code of the messages template reminders use
// when the tenant has one (会话管理: the tenant sets the text); its
// variables are name, item, hall and time.
const ReminderTemplate = "booking.reminder"

// remindBatch bounds the reminders one sweep sends; the next sends the rest.
const remindBatch = 500

// Tasks implements modules.TaskProvider.
func (m *Module) Tasks() []modules.Task {
	return []modules.Task{
		{Type: TaskSweep, Queue: tenants.QueueLow, MaxRetry: 1, Timeout: 2 * time.Minute, Handle: func(ctx context.Context, tx *tenants.Tx, _ []byte) error {
			now := m.now()
			if _, err := MarkNoShows(ctx, tx, now); err != nil {
				return err
			}
			_, err := m.RemindDue(ctx, tx, now)
			return err
		}},
	}
}

// Schedules implements modules.ScheduleProvider.
func (m *Module) Schedules() []modules.Schedule {
	return []modules.Schedule{{Task: TaskSweep, Cron: "@every 5m", Payload: struct{}{}}}
}

// RemindDue sends the reminders due at now: booked appointments not yet
// reminded whose slot starts within the tenant's RemindHoursBefore. It
// says how many it sent.
func (m *Module) RemindDue(ctx context.Context, tx *tenants.Tx, now time.Time) (int, error) {
	s, err := LoadSettings(ctx, tx)
	if err != nil || s.RemindHoursBefore == 0 {
		return 0, err
	}
	rows, err := tx.Query(ctx, `SELECT id FROM booking_appointments WHERE status = 'booked' AND reminded_at IS NULL AND slot_start > $1 AND slot_start <= $2
		ORDER BY slot_start LIMIT $3`, now, now.Add(time.Duration(s.RemindHoursBefore)*time.Hour), remindBatch)
	if err != nil {
		return 0, fmt.Errorf("booking: reminders: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return 0, fmt.Errorf("booking: reminders: %w", err)
	}
	n := 0
	for _, id := range ids {
		sent, err := m.RemindIn(ctx, tx, id)
		if err != nil {
			return n, err
		}
		if sent {
			n++
		}
	}
	return n, nil
}

// RemindIn sends the appointment's reminder through the message centre
// if it is still booked and not reminded yet; it reports whether it sent
// one. The reminder's
// message carries the appointment as its idempotency key, so a task run
// twice sends once.
func (m *Module) RemindIn(ctx context.Context, tx *tenants.Tx, id uuid.UUID) (bool, error) {
	var reminded bool
	err := tx.QueryRow(ctx, "SELECT reminded_at IS NOT NULL FROM booking_appointments WHERE id = $1 FOR UPDATE", id).Scan(&reminded)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("booking: reminder: %w", err)
	}
	a, err := getAppointment(ctx, tx, id, false)
	if err != nil {
		return false, err
	}
	if a.Status != "booked" || reminded {
		return false, nil
	}
	if m.msgs == nil {
		return false, errors.New("booking: no message centre to remind through")
	}
	s, err := LoadSettings(ctx, tx)
	if err != nil {
		return false, err
	}
	loc := m.calendar(ctx).Location()
	vars := map[string]string{"name": a.CitizenName, "item": a.ItemName, "hall": a.HallName, "time": a.SlotStart.In(loc).Format("2006-01-02 15:04")}
	send := messages.Send{Variables: vars, Channels: s.RemindChannels,
		Recipients: messages.Recipients{Citizens: []messages.CitizenRecipient{{ID: a.CitizenID, Name: a.CitizenName, Phone: a.CitizenPhone}}}}
	var tmpl bool
	if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM message_templates WHERE code = $1)", ReminderTemplate).Scan(&tmpl); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return false, fmt.Errorf("booking: reminder template: %w", err)
	}
	if tmpl {
		send.Template = ReminderTemplate
	} else {
		send.Text = "【办事提醒】{name}您好，您预约了{time}在{hall}办理“{item}”，请按时到场取号。如不能前往，请提前取消预约。"
	}
	if _, err := m.msgs.SendIn(ctx, tx, send, "booking.reminder:"+a.ID.String()); err != nil {
		return false, err
	}
	if _, err := tx.Exec(ctx, "UPDATE booking_appointments SET reminded_at = now() WHERE id = $1", a.ID); err != nil {
		return false, fmt.Errorf("booking: reminded: %w", err)
	}
	return true, nil
}
