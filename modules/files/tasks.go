package files

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"yamen/modules"
	"yamen/tenants"
)

// TaskSweep is the scheduled task that sweeps a tenant: Sweep, a batch at
// a time, for what no files:purge task removed (one that ran early, an
// abandoned upload, a purge that gave up).
const TaskSweep = "files:sweep"

// sweepBatchesPerRun bounds one files:sweep run; what is left waits for
// the next hour.
const sweepBatchesPerRun = 20

// Tasks implements modules.TaskProvider: the work the worker does for the
// files module, each run in a transaction of the task's tenant.
func (m *Module) Tasks() []modules.Task {
	return []modules.Task{
		{
			Type: TaskPurge, Queue: tenants.QueueLow,
			// An S3 outage may last; the sweep is the backstop after that.
			MaxRetry: 20,
			Handle: func(ctx context.Context, tx *tenants.Tx, payload []byte) error {
				var p PurgePayload
				if err := json.Unmarshal(payload, &p); err != nil {
					return fmt.Errorf("files: %s payload: %w", TaskPurge, err)
				}
				if p.TenantID != tx.TenantID() {
					return fmt.Errorf("files: %s of tenant %s run in tenant %s", TaskPurge, p.TenantID, tx.TenantID())
				}
				return m.purgeIn(ctx, tx, p.FileID)
			},
		},
		{
			Type: TaskSweep, Queue: tenants.QueueLow, Timeout: 15 * time.Minute,
			Handle: func(ctx context.Context, tx *tenants.Tx, _ []byte) error {
				now := time.Now()
				for range sweepBatchesPerRun {
					// Rows it claimed stay locked by this transaction, so it
					// stops at the first failure instead of claiming them again.
					_, claimed, failed, err := m.sweepIn(ctx, tx, now, nil)
					if err != nil {
						return err
					}
					if failed != nil {
						// Keep what was removed; the rest is due next time.
						m.log.WarnContext(ctx, "files: sweep could not remove every object", "tenant", tx.TenantID(), "error", failed)
						return nil
					}
					if claimed < sweepBatch {
						return nil
					}
				}
				return nil
			},
		},
	}
}

// Schedules implements modules.ScheduleProvider.
func (m *Module) Schedules() []modules.Schedule {
	return []modules.Schedule{{Task: TaskSweep, Cron: "@hourly"}}
}

var (
	_ modules.TaskProvider     = (*Module)(nil)
	_ modules.ScheduleProvider = (*Module)(nil)
)
