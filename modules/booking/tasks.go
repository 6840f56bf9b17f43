package booking

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"yamen/modules"
	"yamen/modules/messages"
	"yamen/problem"
	"yamen/tenants"
)

// The booking module's tasks.
const (
	// TaskRemind sends the reminder of one appointment (办事提醒).
	TaskRemind = "booking:remind"
	// TaskNoShow marks one appointment a no-show if it is still booked
	// once its slot and the grace are over.
	TaskNoShow = "booking:no_show"
	// TaskSweep marks every such appointment of a tenant: the schedule's
	// catch-all for a per-appointment task that was lost or late.
	TaskSweep = "booking:sweep"
)

// AppointmentPayload names one appointment.
type AppointmentPayload struct {
	AppointmentID uuid.UUID `json:"appointment_id"`
}

// ReminderTemplate is the code of the messages template reminders use
// when the tenant has one (会话管理: the tenant sets the text); its
// variables are name, item, hall and time.
const ReminderTemplate = "booking.reminder"

// scheduleFollowUps enqueues the appointment's reminder and its no-show
// check, each deduplicated by the appointment.
func (m *Module) scheduleFollowUps(ctx context.Context, tx *tenants.Tx, a Appointment, s Settings, now time.Time) error {
	key := a.ID.String()
	if s.RemindHoursBefore > 0 {
		if at := a.SlotStart.Add(-time.Duration(s.RemindHoursBefore) * time.Hour); at.After(now) {
			if _, err := tenants.Enqueue(ctx, tx, tenants.Task{Type: TaskRemind, Payload: AppointmentPayload{a.ID}, RunAt: at, DedupeKey: key}); err != nil {
				return err
			}
		}
	}
	at := a.SlotEnd.Add(time.Duration(s.NoShowGraceMinutes)*time.Minute + time.Second)
	_, err := tenants.Enqueue(ctx, tx, tenants.Task{Type: TaskNoShow, Payload: AppointmentPayload{a.ID}, RunAt: at, DedupeKey: key, Queue: tenants.QueueLow})
	return err
}

// Tasks implements modules.TaskProvider.
func (m *Module) Tasks() []modules.Task {
	return []modules.Task{
		{Type: TaskRemind, MaxRetry: 5, Handle: func(ctx context.Context, tx *tenants.Tx, payload []byte) error {
			var p AppointmentPayload
			if err := json.Unmarshal(payload, &p); err != nil {
				return fmt.Errorf("booking: %s payload: %w", TaskRemind, err)
			}
			_, err := m.RemindIn(ctx, tx, p.AppointmentID)
			return err
		}},
		{Type: TaskNoShow, Queue: tenants.QueueLow, MaxRetry: 5, Handle: func(ctx context.Context, tx *tenants.Tx, payload []byte) error {
			var p AppointmentPayload
			if err := json.Unmarshal(payload, &p); err != nil {
				return fmt.Errorf("booking: %s payload: %w", TaskNoShow, err)
			}
			_, err := MarkNoShows(ctx, tx, &p.AppointmentID, m.now())
			return err
		}},
		{Type: TaskSweep, Queue: tenants.QueueLow, MaxRetry: 1, Handle: func(ctx context.Context, tx *tenants.Tx, _ []byte) error {
			_, err := MarkNoShows(ctx, tx, nil, m.now())
			return err
		}},
	}
}

// Schedules implements modules.ScheduleProvider.
func (m *Module) Schedules() []modules.Schedule {
	return []modules.Schedule{{Task: TaskSweep, Cron: "@every 5m", Payload: struct{}{}}}
}

// RemindIn sends the appointment's reminder through the message centre
// if it is still booked; it reports whether it sent one. The reminder's
// message carries the appointment as its idempotency key, so a task run
// twice sends once.
func (m *Module) RemindIn(ctx context.Context, tx *tenants.Tx, id uuid.UUID) (bool, error) {
	a, err := getAppointment(ctx, tx, id, false)
	if err != nil {
		if _, ok := problem.As(err); ok {
			return false, nil // gone: nothing to remind of
		}
		return false, err
	}
	if a.Status != "booked" {
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
	return true, nil
}
