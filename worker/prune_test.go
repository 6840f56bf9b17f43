package worker_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"yamen/modules"
	"yamen/tenants"
	"yamen/tenants/tenanttest"
	"yamen/worker"
)

// Rows handed to the queue more than a week ago leave the outbox; rows
// handed over since, and rows still waiting however old, stay, and so do
// another tenant's. A pruned row's dedupe key may be used again.
func TestOutboxPruning(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	redis, ns := sharedRedis(t)
	rec := &recorder{}
	p := newProbe().add(modules.Task{Type: "probe:done", Handle: rec.handle(nil)})
	a := tenanttest.Tenant(t, tenants.KindOther, "probe")
	b := tenanttest.Tenant(t, tenants.KindOther, "probe")
	w := startWorker(t, redis, ns, p.registry(t), []tenants.Tenant{a}, func(c *worker.Config) {
		c.Relay.Keep = 7 * 24 * time.Hour
	})

	old := enqueue(t, a, tenants.Task{Type: "probe:done", DedupeKey: "reminder-1"}, tenants.Task{Type: "probe:done"})
	recent := enqueue(t, a, tenants.Task{Type: "probe:done"})
	rec.waitRuns(t, 3, 10*time.Second)
	waiting := enqueue(t, a, tenants.Task{Type: "probe:done", RunAt: time.Now().Add(30 * 24 * time.Hour)})
	theirs := enqueue(t, b, tenants.Task{Type: "probe:done"})
	backdate := func(tn tenants.Tenant, ids []uuid.UUID, enqueued bool) {
		require.NoError(t, tenanttest.DB(t).Tx(ctx, tn.ID, "system", func(tx *tenants.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE outbox SET created_at = now() - interval '8 days',
				enqueued_at = CASE WHEN $2 THEN now() - interval '8 days' END WHERE id = ANY($1)`, ids, enqueued)
			return err
		}))
	}
	backdate(a, old, true)
	backdate(a, waiting, false)
	backdate(b, theirs, true)

	n, err := w.Relay().Prune(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.Empty(t, outboxRows(t, a, old))
	require.Len(t, outboxRows(t, a, append(recent, waiting...)), 2)
	require.Len(t, outboxRows(t, b, theirs), 1, "another tenant's rows are not this worker's")

	again := enqueue(t, a, tenants.Task{Type: "probe:done", DedupeKey: "reminder-1"})
	require.NotEqual(t, uuid.Nil, again[0], "the pruned row's key is free")
	n, err = w.Relay().Prune(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
}
