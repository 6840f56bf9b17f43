package worker

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"yamen/tenants"
)

// pruneBatch bounds the rows one pruning statement deletes, so that a
// tenant's first pruning after a busy week holds no long lock.
const pruneBatch = 5000

// pruneLoop prunes every PruneEvery until ctx ends.
func (r *Relay) pruneLoop(ctx context.Context) {
	tick := time.NewTicker(r.cfg.PruneEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		n, err := r.Prune(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			r.log.Warn("outbox pruning failed; tried again later", "error", err, "pruned", n)
		case n > 0:
			r.log.Info("outbox pruned", "rows", n, "kept_for", r.cfg.Keep)
		}
	}
}

// Prune removes, in every active tenant, the outbox rows handed to the
// queue more than Keep ago, and returns how many it removed. The row of a
// task is its record only until asynq has it; the worker's metrics and
// the dead-task list tell what became of it after. A pruned row's dedupe
// key may be used again.
func (r *Relay) Prune(ctx context.Context) (int, error) {
	ids, err := activeTenants(ctx, r.db, r.accept)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, t := range ids {
		n, err := r.pruneTenant(ctx, t, time.Now().Add(-r.cfg.Keep))
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// pruneTenant removes the tenant's rows handed over before cutoff, a batch
// per transaction.
func (r *Relay) pruneTenant(ctx context.Context, tenant uuid.UUID, cutoff time.Time) (int, error) {
	total := 0
	for {
		var n int64
		err := r.db.Tx(ctx, tenant, tenants.System().String(), func(tx *tenants.Tx) error {
			tag, err := tx.Exec(ctx, `DELETE FROM outbox WHERE id IN (
				SELECT id FROM outbox WHERE enqueued_at < $1 LIMIT $2)`, cutoff, pruneBatch)
			n = tag.RowsAffected()
			return err
		})
		total += int(n)
		if err != nil {
			return total, fmt.Errorf("relay: prune tenant %s: %w", tenant, err)
		}
		if n < pruneBatch {
			return total, nil
		}
	}
}
