package tenants_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"yamen/tenants"
	"yamen/tenants/tenanttest"
)

// outboxEntry is an outbox row as the tests read it.
type outboxEntry struct {
	ID        uuid.UUID
	Type      string
	Payload   []byte
	RunAt     time.Time
	DedupeKey *string
	Queue     string
	Enqueued  bool
}

func (b *bundle) outbox(t *testing.T) []outboxEntry {
	t.Helper()
	r, err := b.db.Reader(b.tenant.ID, "system")
	require.NoError(t, err)
	rows, err := r.Query(b.ctx, "SELECT id, task_type, payload, run_at, dedupe_key, queue, enqueued_at IS NOT NULL FROM outbox ORDER BY id")
	require.NoError(t, err)
	var out []outboxEntry
	for rows.Next() {
		var e outboxEntry
		require.NoError(t, rows.Scan(&e.ID, &e.Type, &e.Payload, &e.RunAt, &e.DedupeKey, &e.Queue, &e.Enqueued))
		out = append(out, e)
	}
	require.NoError(t, rows.Err())
	return out
}

func TestEnqueue(t *testing.T) {
	t.Parallel()

	t.Run("InTheCallersTransaction", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.tx(t, func(tx *tenants.Tx) {
			id, err := tenants.Enqueue(b.ctx, tx, tenants.Task{Type: "probe:gone"})
			require.NoError(t, err)
			require.NotEqual(t, uuid.Nil, id)
		})
		require.Empty(t, b.outbox(t), "a rolled-back transaction leaves no task")

		before := time.Now()
		at := time.Now().Add(7 * 24 * time.Hour).Truncate(time.Microsecond)
		var id, later uuid.UUID
		b.commit(t, func(tx *tenants.Tx) {
			var err error
			id, err = tenants.Enqueue(b.ctx, tx, tenants.Task{Type: "ratings:default_rating", Payload: map[string]any{"case": "c-1", "score": 5}})
			require.NoError(t, err)
			later, err = tenants.Enqueue(b.ctx, tx, tenants.Task{Type: "ratings:remind", RunAt: at, Queue: tenants.QueueLow, DedupeKey: "c-1"})
			require.NoError(t, err)
		})
		rows := b.outbox(t)
		require.Len(t, rows, 2)
		now, far := rows[0], rows[1]
		require.Equal(t, id, now.ID)
		require.Equal(t, "ratings:default_rating", now.Type)
		require.JSONEq(t, `{"case":"c-1","score":5}`, string(now.Payload))
		require.WithinDuration(t, before, now.RunAt, 5*time.Second, "due now when RunAt is zero")
		require.Nil(t, now.DedupeKey)
		require.Empty(t, now.Queue, "the type's declared queue")
		require.False(t, now.Enqueued)

		require.Equal(t, later, far.ID)
		require.True(t, at.Equal(far.RunAt), "%s != %s", at, far.RunAt)
		require.Equal(t, "c-1", *far.DedupeKey)
		require.Equal(t, tenants.QueueLow, far.Queue)
		require.JSONEq(t, `null`, string(far.Payload))
	})

	t.Run("Dedupe", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		other := tenanttest.Tenant(t, tenants.KindOther)
		task := tenants.Task{Type: "ratings:default_rating", DedupeKey: "case-7", Payload: 1}
		var first, again, sameTx uuid.UUID
		b.commit(t, func(tx *tenants.Tx) {
			var err error
			first, err = tenants.Enqueue(b.ctx, tx, task)
			require.NoError(t, err)
			sameTx, err = tenants.Enqueue(b.ctx, tx, task)
			require.NoError(t, err)
		})
		b.commit(t, func(tx *tenants.Tx) {
			var err error
			again, err = tenants.Enqueue(b.ctx, tx, tenants.Task{Type: task.Type, DedupeKey: task.DedupeKey, Payload: 2})
			require.NoError(t, err)
			// Another type, or no key, is another task.
			_, err = tenants.Enqueue(b.ctx, tx, tenants.Task{Type: "ratings:remind", DedupeKey: task.DedupeKey})
			require.NoError(t, err)
			_, err = tenants.Enqueue(b.ctx, tx, tenants.Task{Type: task.Type})
			require.NoError(t, err)
			_, err = tenants.Enqueue(b.ctx, tx, tenants.Task{Type: task.Type})
			require.NoError(t, err)
		})
		require.NotEqual(t, uuid.Nil, first)
		require.Equal(t, uuid.Nil, sameTx, "same tenant, type and key: nothing written")
		require.Equal(t, uuid.Nil, again)
		rows := b.outbox(t)
		require.Len(t, rows, 4)
		require.JSONEq(t, "1", string(rows[0].Payload), "the first task stands")

		// The key is the tenant's own.
		require.NoError(t, b.db.Tx(b.ctx, other.ID, "system", func(tx *tenants.Tx) error {
			id, err := tenants.Enqueue(b.ctx, tx, task)
			require.NotEqual(t, uuid.Nil, id)
			return err
		}))
	})

	t.Run("Checks", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.tx(t, func(tx *tenants.Tx) {
			for _, task := range []tenants.Task{
				{Type: ""},
				{Type: "nomodule"},
				{Type: "Probe:x"},
				{Type: "probe:work", Queue: "urgent"},
				{Type: "probe:work", Payload: func() {}},
			} {
				_, err := tenants.Enqueue(b.ctx, tx, task)
				require.Error(t, err, "%+v", task)
			}
		})
	})

	t.Run("OtherTenantsSeeNone", func(t *testing.T) {
		t.Parallel()
		// Enqueue takes the tenant from the transaction: a task is the
		// caller's tenant's, under its row level security.
		b := setup(t)
		b.commit(t, func(tx *tenants.Tx) {
			_, err := tenants.Enqueue(b.ctx, tx, tenants.Task{Type: "probe:work"})
			require.NoError(t, err)
		})
		other := tenanttest.Tenant(t, tenants.KindOther)
		r, err := b.db.Reader(other.ID, "system")
		require.NoError(t, err)
		var n int
		require.NoError(t, r.QueryRow(b.ctx, "SELECT count(*) FROM outbox").Scan(&n))
		require.Zero(t, n)
	})
}

// A committed transaction that wrote tasks notifies yamen_outbox with its
// tenant, once; one that rolled back does not.
func TestEnqueueNotifiesOnCommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := tenanttest.DB(t)
	pc, err := db.Pool.Acquire(ctx)
	require.NoError(t, err)
	conn := pc.Hijack()
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "LISTEN yamen_outbox")
	require.NoError(t, err)

	committed, rolledBack := tenanttest.Tenant(t, tenants.KindOther), tenanttest.Tenant(t, tenants.KindOther)
	tenanttest.Tx(t, rolledBack, func(tx *tenants.Tx) {
		_, err := tenants.Enqueue(ctx, tx, tenants.Task{Type: "probe:work"})
		require.NoError(t, err)
	})
	require.NoError(t, db.Tx(ctx, committed.ID, "system", func(tx *tenants.Tx) error {
		for range 3 {
			if _, err := tenants.Enqueue(ctx, tx, tenants.Task{Type: "probe:work"}); err != nil {
				return err
			}
		}
		return nil
	}))

	// Other tests notify the same channel: count ours until quiet.
	got := map[string]int{}
	for {
		wctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if err != nil {
			break
		}
		got[n.Payload]++
	}
	require.Equal(t, 1, got[committed.ID.String()], "one notification per committed transaction and tenant")
	require.Zero(t, got[rolledBack.ID.String()])
}

func TestCancelTask(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.commit(t, func(tx *tenants.Tx) {
		for _, key := range []string{"r-1", "r-2"} {
			_, err := tenants.Enqueue(b.ctx, tx, tenants.Task{Type: "ratings:default_rating", DedupeKey: key, RunAt: time.Now().Add(time.Hour)})
			require.NoError(t, err)
		}
	})
	b.commit(t, func(tx *tenants.Tx) {
		require.NoError(t, tenants.CancelTask(b.ctx, tx, "ratings:default_rating", "r-1"))
		require.ErrorIs(t, tenants.CancelTask(b.ctx, tx, "ratings:default_rating", "r-1"), tenants.ErrNotPending)
		require.ErrorIs(t, tenants.CancelTask(b.ctx, tx, "ratings:other", "r-2"), tenants.ErrNotPending)
		// Handed to the worker already: too late.
		_, err := tx.Exec(b.ctx, "UPDATE outbox SET enqueued_at = now() WHERE dedupe_key = 'r-2'")
		require.NoError(t, err)
		require.ErrorIs(t, tenants.CancelTask(b.ctx, tx, "ratings:default_rating", "r-2"), tenants.ErrNotPending)
	})
	rows := b.outbox(t)
	require.Len(t, rows, 1)
	require.Equal(t, "r-2", *rows[0].DedupeKey)
}

// EnqueueAll writes many tasks in one statement, as Enqueue would one by
// one: a key already in the outbox, or repeated in the list, is written
// once; a bad task writes nothing; another tenant sees none of them.
func TestEnqueueAll(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.commit(t, func(tx *tenants.Tx) {
		_, err := tenants.Enqueue(b.ctx, tx, tenants.Task{Type: "messages:deliver", DedupeKey: "d-1"})
		require.NoError(t, err)
	})
	at := time.Now().Add(time.Hour).Truncate(time.Microsecond)
	b.commit(t, func(tx *tenants.Tx) {
		n, err := tenants.EnqueueAll(b.ctx, tx, []tenants.Task{
			{Type: "messages:deliver", DedupeKey: "d-1", Payload: map[string]string{"id": "again"}},
			{Type: "messages:deliver", DedupeKey: "d-2", Payload: map[string]string{"id": "first"}},
			{Type: "messages:deliver", DedupeKey: "d-2", Payload: map[string]string{"id": "second"}},
			{Type: "messages:deliver", Payload: map[string]string{"text": "𠀀䶮"}, RunAt: at, Queue: tenants.QueueLow},
		})
		require.NoError(t, err)
		require.Equal(t, 2, n)
		n, err = tenants.EnqueueAll(b.ctx, tx, nil)
		require.NoError(t, err)
		require.Zero(t, n)
	})
	b.tx(t, func(tx *tenants.Tx) {
		_, err := tenants.EnqueueAll(b.ctx, tx, []tenants.Task{{Type: "messages:deliver"}, {Type: "bad type"}})
		require.Error(t, err)
	})
	rows := b.outbox(t)
	require.Len(t, rows, 3)
	byKey := map[string]outboxEntry{}
	for _, r := range rows {
		k := ""
		if r.DedupeKey != nil {
			k = *r.DedupeKey
		}
		byKey[k] = r
	}
	require.JSONEq(t, `{"id":"first"}`, string(byKey["d-2"].Payload), "the first of a repeated key is written")
	require.JSONEq(t, `{"text":"𠀀䶮"}`, string(byKey[""].Payload))
	require.True(t, byKey[""].RunAt.Equal(at))
	require.Equal(t, tenants.QueueLow, byKey[""].Queue)

	other := tenanttest.Tenant(t, tenants.KindOther)
	r, err := b.db.Reader(other.ID, "system")
	require.NoError(t, err)
	var n int
	require.NoError(t, r.QueryRow(b.ctx, "SELECT count(*) FROM outbox").Scan(&n))
	require.Zero(t, n)
}
