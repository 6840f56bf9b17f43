package ratings

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"yamen/modules"
	"yamen/tenants"
)

// Tasks implements modules.TaskProvider.
func (m *Module) Tasks() []modules.Task {
	return []modules.Task{
		{Type: TaskCase, Queue: tenants.QueueDefault, MaxRetry: 5, Handle: func(ctx context.Context, tx *tenants.Tx, payload []byte) error {
			return m.caseFromQueue(ctx, tx, payload)
		}},
		{Type: TaskDefault, Queue: tenants.QueueLow, MaxRetry: 10, Handle: func(ctx context.Context, tx *tenants.Tx, payload []byte) error {
			var p defaultPayload
			if err := json.Unmarshal(payload, &p); err != nil {
				return fmt.Errorf("ratings: %s payload: %w", TaskDefault, err)
			}
			_, err := m.DefaultRating(ctx, tx, p.CaseNo, time.Now())
			return err
		}},
		{Type: TaskSweep, Queue: tenants.QueueLow, MaxRetry: 3, Timeout: 10 * time.Minute, Handle: func(ctx context.Context, tx *tenants.Tx, _ []byte) error {
			_, err := m.Sweep(ctx, tx, time.Now(), 50000)
			return err
		}},
		{Type: TaskPush, Queue: tenants.QueueLow, MaxRetry: 3, Timeout: 2 * time.Minute, Handle: func(ctx context.Context, tx *tenants.Tx, _ []byte) error {
			_, err := m.Push(ctx, tx, time.Now())
			return err
		}},
		{Type: TaskUpload, Queue: tenants.QueueLow, MaxRetry: 10, Handle: func(ctx context.Context, tx *tenants.Tx, payload []byte) error {
			var p uploadPayload
			if err := json.Unmarshal(payload, &p); err != nil {
				return fmt.Errorf("ratings: %s payload: %w", TaskUpload, err)
			}
			return uploadNow(ctx, tx, p)
		}},
		{Type: TaskRollup, Queue: tenants.QueueLow, MaxRetry: 3, Timeout: 10 * time.Minute, Handle: func(ctx context.Context, tx *tenants.Tx, _ []byte) error {
			return m.rollUp(ctx, tx, time.Now())
		}},
		{Type: TaskReconcile, Queue: tenants.QueueLow, MaxRetry: 3, Handle: func(ctx context.Context, tx *tenants.Tx, _ []byte) error {
			_, err := m.ReconcileDaily(ctx, tx, time.Now())
			return err
		}},
	}
}

// Schedules implements modules.ScheduleProvider: the push of what the
// province is due (seed 004: 评价数据实时上报), the daily sweep of overdue
// default ratings (seed 004: 系统每天定时检查评价超期的办件) and the daily
// reconciliation with the province, and the nightly rollup of the day that
// ended for the statistics.
func (m *Module) Schedules() []modules.Schedule {
	return []modules.Schedule{
		{Task: TaskPush, Cron: "@every " + m.pushEvery.String()},
		{Task: TaskSweep, Cron: "10 1 * * *"},
		{Task: TaskReconcile, Cron: "40 1 * * *"},
		{Task: TaskRollup, Cron: "20 0 * * *"},
	}
}
