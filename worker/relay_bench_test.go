package worker_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"yamen/modules"
	"yamen/tenants"
	"yamen/tenants/tenanttest"
	"yamen/worker"
	"yamen/worker/workertest"
)

// BenchmarkRelay measures the relay's sustained rate into asynq: b.N due
// outbox rows of one tenant, claimed, handed over and marked batch by
// batch, as the relay does after a burst or an outage. Run it with a fixed
// count, e.g. -benchtime 50000x.
func BenchmarkRelay(b *testing.B) {
	ctx := context.Background()
	redis := workertest.Redis(b)
	ns := workertest.Namespace(b, redis)
	db := tenanttest.DB(b)
	a := tenanttest.Tenant(b, tenants.KindOther, "probe")
	reg := newProbe().add(modules.Task{Type: "probe:bench", Handle: func(context.Context, *tenants.Tx, []byte) error { return nil }}).registry(b)
	w, err := worker.New(worker.Config{DB: db, Registry: reg, Redis: redis, Namespace: ns})
	require.NoError(b, err)

	b.Cleanup(func() {
		_ = db.Tx(ctx, a.ID, "system", func(tx *tenants.Tx) error {
			_, err := tx.Exec(ctx, "DELETE FROM outbox")
			return err
		})
	})
	require.NoError(b, db.Tx(ctx, a.ID, "system", func(tx *tenants.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO outbox (tenant_id, task_type, payload)
			SELECT current_tenant(), 'probe:bench', jsonb_build_object('n', i, 'note', 'a payload of typical size for a notification')
			FROM generate_series(1, $1) AS i`, b.N)
		return err
	}))
	b.ResetTimer()
	n, err := w.Relay().Drain(ctx, a.ID)
	b.StopTimer()
	require.NoError(b, err)
	require.Equal(b, b.N, n)
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "tasks/s")
}
