package files

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"yamen/tenants"
)

// sweepBatch is how many objects one sweep transaction claims.
const sweepBatch = 100

// Sweep removes the objects that are due in a tenant at now: those of
// deleted files past their retention, of rejected files, and of uploads
// never completed in time, which become expired. It is idempotent: an
// object already removed is removed again without harm, and a file is
// marked purged in the transaction that holds its row while its object is
// removed, so a crash or an S3 outage halfway leaves the rest due for the
// next run. It returns how many objects it removed. Run it daily for every
// tenant (SweepAll); the files:purge tasks do the same for one file at its
// due time.
func (m *Module) Sweep(ctx context.Context, tenant uuid.UUID, now time.Time) (int, error) {
	total := 0
	for {
		var n, claimed int
		var failed error
		err := m.db.Tx(ctx, tenant, tenants.System().String(), func(tx *tenants.Tx) error {
			var err error
			n, claimed, failed, err = m.sweepIn(ctx, tx, now, nil)
			return err
		})
		total += n
		if err != nil || failed != nil || claimed < sweepBatch {
			return total, errors.Join(err, failed)
		}
	}
}

// Purge runs a files:purge task: it removes the file's object if it is due
// and not removed yet, and otherwise does nothing (the sweep catches a task
// that ran early).
func (m *Module) Purge(ctx context.Context, p PurgePayload) error {
	return m.db.Tx(ctx, p.TenantID, tenants.System().String(), func(tx *tenants.Tx) error {
		return m.purgeIn(ctx, tx, p.FileID)
	})
}

// purgeIn is Purge in the caller's transaction of the file's tenant; an
// object that could not be removed fails it, to be tried again.
func (m *Module) purgeIn(ctx context.Context, tx *tenants.Tx, id uuid.UUID) error {
	_, _, failed, err := m.sweepIn(ctx, tx, time.Now(), &id)
	return errors.Join(err, failed)
}

// SweepAll sweeps every tenant.
func (m *Module) SweepAll(ctx context.Context, now time.Time) (int, error) {
	rows, err := m.db.Pool.Query(ctx, "SELECT id FROM tenants ORDER BY id")
	if err != nil {
		return 0, fmt.Errorf("files: sweep: list tenants: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return 0, fmt.Errorf("files: sweep: list tenants: %w", err)
	}
	total := 0
	var errs []error
	for _, id := range ids {
		n, err := m.Sweep(ctx, id, now)
		total += n
		if err != nil {
			errs = append(errs, fmt.Errorf("tenant %s: %w", id, err))
		}
	}
	return total, errors.Join(errs...)
}

type dueObject struct {
	ID     uuid.UUID
	Key    string
	Status string
}

// sweepIn claims one batch of due files (only id when given) in tx, locking
// their rows (others sweeping at once skip them), removes their objects and
// marks those it removed purged. A stale pending upload becomes expired
// first, so a late check cannot make it ready while its object goes. It
// returns how many it removed and claimed, the removals that failed
// (those files stay due), and an error that must roll tx back.
func (m *Module) sweepIn(ctx context.Context, tx *tenants.Tx, now time.Time, id *uuid.UUID) (removed, claimed int, failed, err error) {
	rows, err := tx.Query(ctx, `UPDATE files f SET status = CASE WHEN f.status = 'pending' THEN 'expired'::file_status ELSE f.status END
		FROM (SELECT id FROM files
		      WHERE purge_at <= $1 AND purged_at IS NULL AND status <> 'ready' AND ($2::uuid IS NULL OR id = $2)
		      ORDER BY purge_at LIMIT $3 FOR UPDATE SKIP LOCKED) d
		WHERE f.tenant_id = current_tenant() AND f.id = d.id
		RETURNING f.id, f.object_key, f.status::text`, now, id, sweepBatch)
	if err != nil {
		return 0, 0, nil, fmt.Errorf("files: sweep: claim: %w", err)
	}
	due, err := pgx.CollectRows(rows, pgx.RowToStructByPos[dueObject])
	if err != nil {
		return 0, 0, nil, fmt.Errorf("files: sweep: claim: %w", err)
	}
	var done []uuid.UUID
	var errs []error
	for _, d := range due {
		if err := m.store.remove(ctx, d.Key); err != nil {
			errs = append(errs, err)
			continue
		}
		done = append(done, d.ID)
		if err := tenants.Audit(ctx, tx, "file.purge", d.ID.String(), map[string]any{"status": d.Status}); err != nil {
			return 0, 0, nil, err
		}
	}
	if len(done) > 0 {
		if _, err := tx.Exec(ctx, "UPDATE files SET purged_at = now() WHERE id = ANY($1)", done); err != nil {
			return 0, 0, nil, fmt.Errorf("files: sweep: mark purged: %w", err)
		}
	}
	return len(done), len(due), errors.Join(errs...), nil
}
