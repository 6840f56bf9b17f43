package tenants

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/google/uuid"
)

// The queues a task can go to. The worker serves them weighted, not
// strictly, so low work still moves while critical work is plentiful.
const (
	QueueCritical = "critical"
	QueueDefault  = "default"
	QueueLow      = "low"
)

// Queues lists the queues, most urgent first.
var Queues = []string{QueueCritical, QueueDefault, QueueLow}

// Task is work to do after the transaction that enqueues it commits: a
// notification, a default rating in seven days, a push to the province.
type Task struct {
	// Type is <module>:<task>, as the module declares it (files:purge).
	Type string
	// Payload is what the handler receives, marshalled to JSON.
	Payload any
	// RunAt is when the task falls due; now when zero. Until then it waits
	// in PostgreSQL, however far off that is.
	RunAt time.Time
	// DedupeKey, when set, makes the task one of a kind: while the outbox
	// keeps a task of the same tenant, type and key, enqueueing another
	// does nothing. The worker removes a row a week (worker.RelayConfig
	// Keep) after handing it to the queue; its key is free again then.
	DedupeKey string
	// Queue overrides the queue the task's type declares: QueueCritical,
	// QueueDefault or QueueLow.
	Queue string
}

var taskTypePattern = regexp.MustCompile(`^[a-z][a-z0-9]{1,30}:[a-z][a-z0-9_]{1,40}$`)

// Enqueue writes task to the outbox in tx, the caller's business
// transaction: the task exists if and only if the transaction commits. It
// never touches the queue itself, so it works while Redis is down; the
// worker's relay hands the task over when it falls due, with the returned
// id as the asynq task id. When the tenant already has a task of this type
// with this dedupe key, Enqueue writes nothing and returns uuid.Nil.
func Enqueue(ctx context.Context, tx *Tx, task Task) (uuid.UUID, error) {
	row, err := outboxRow(task)
	if err != nil {
		return uuid.Nil, err
	}
	// The outbox_notify trigger wakes the relay when tx commits.
	tag, err := tx.Exec(ctx, `INSERT INTO outbox (tenant_id, id, task_type, payload, run_at, dedupe_key, queue)
		VALUES (current_tenant(), $1, $2, $3, coalesce($4, now()), NULLIF($5, ''), $6)
		ON CONFLICT (tenant_id, task_type, dedupe_key) DO NOTHING`,
		row.id, task.Type, row.payload, row.runAt, task.DedupeKey, task.Queue)
	if err != nil {
		return uuid.Nil, fmt.Errorf("tenants: enqueue %s: %w", task.Type, err)
	}
	if tag.RowsAffected() == 0 {
		return uuid.Nil, nil
	}
	return row.id, nil
}

// EnqueueAll is Enqueue of many tasks in one statement: a send to a
// thousand recipients writes its thousand tasks in one round trip. Tasks
// whose dedupe key the tenant's outbox already holds (or that repeat one
// of an earlier task of the list) are skipped; it returns how many it
// wrote.
func EnqueueAll(ctx context.Context, tx *Tx, tasks []Task) (int, error) {
	if len(tasks) == 0 {
		return 0, nil
	}
	var (
		ids      = make([]uuid.UUID, len(tasks))
		types    = make([]string, len(tasks))
		payloads = make([]string, len(tasks))
		runAts   = make([]*time.Time, len(tasks))
		keys     = make([]string, len(tasks))
		queues   = make([]string, len(tasks))
	)
	for i, task := range tasks {
		row, err := outboxRow(task)
		if err != nil {
			return 0, err
		}
		ids[i], types[i], payloads[i], runAts[i], keys[i], queues[i] = row.id, task.Type, string(row.payload), row.runAt, task.DedupeKey, task.Queue
	}
	// WITH ORDINALITY keeps the list's order, so of two tasks with one
	// dedupe key the first is the one written.
	tag, err := tx.Exec(ctx, `INSERT INTO outbox (tenant_id, id, task_type, payload, run_at, dedupe_key, queue)
		SELECT current_tenant(), t.id, t.task_type, t.payload::jsonb, coalesce(t.run_at, now()), NULLIF(t.dedupe_key, ''), t.queue
		FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[])
			WITH ORDINALITY AS t (id, task_type, payload, run_at, dedupe_key, queue, n)
		ORDER BY t.n
		ON CONFLICT (tenant_id, task_type, dedupe_key) DO NOTHING`,
		ids, types, payloads, runAts, keys, queues)
	if err != nil {
		return 0, fmt.Errorf("tenants: enqueue %d tasks of type %s…: %w", len(tasks), tasks[0].Type, err)
	}
	return int(tag.RowsAffected()), nil
}

// pendingRow is a task as its outbox row stores it.
type pendingRow struct {
	id      uuid.UUID
	payload []byte
	runAt   *time.Time
}

// outboxRow checks task and makes its row's id, payload and due time.
func outboxRow(task Task) (pendingRow, error) {
	if !taskTypePattern.MatchString(task.Type) {
		return pendingRow{}, fmt.Errorf("tenants: enqueue: task type %q: want <module>:<task>", task.Type)
	}
	switch task.Queue {
	case "", QueueCritical, QueueDefault, QueueLow:
	default:
		return pendingRow{}, fmt.Errorf("tenants: enqueue %s: unknown queue %q", task.Type, task.Queue)
	}
	payload, err := json.Marshal(task.Payload)
	if err != nil {
		return pendingRow{}, fmt.Errorf("tenants: enqueue %s: payload: %w", task.Type, err)
	}
	var runAt *time.Time
	if !task.RunAt.IsZero() {
		runAt = &task.RunAt
	}
	// Version 7: ids that grow with time keep the primary key's inserts at
	// its right edge.
	id, err := uuid.NewV7()
	if err != nil {
		return pendingRow{}, fmt.Errorf("tenants: enqueue %s: %w", task.Type, err)
	}
	return pendingRow{id: id, payload: payload, runAt: runAt}, nil
}

// ErrNotPending is returned by CancelTask for a task that is not waiting in
// the outbox any more (or never was).
var ErrNotPending = errors.New("tenants: no such pending task")

// CancelTask removes a task that has not been handed to the worker yet, by
// its type and dedupe key: the default rating a citizen's own rating makes
// unnecessary. A task already handed over runs; its handler must see for
// itself that there is nothing left to do.
func CancelTask(ctx context.Context, tx *Tx, taskType, dedupeKey string) error {
	tag, err := tx.Exec(ctx, "DELETE FROM outbox WHERE task_type = $1 AND dedupe_key = $2 AND enqueued_at IS NULL", taskType, dedupeKey)
	if err != nil {
		return fmt.Errorf("tenants: cancel %s %s: %w", taskType, dedupeKey, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotPending
	}
	return nil
}
