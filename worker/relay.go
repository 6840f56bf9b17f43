package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5"

	"yamen/modules"
	"yamen/tenants"
)

// RelayConfig tunes the outbox relay; zero fields take the defaults.
type RelayConfig struct {
	// BatchSize is how many rows one transaction claims (500).
	BatchSize int
	// Parallel is how many tasks of a batch are on their way to Redis at
	// once (32).
	Parallel int
	// Lanes is how many batches of one tenant's backlog are in flight at
	// once (2).
	Lanes int
	// Drainers is how many tenants are drained at once (4).
	Drainers int
	// Sweep is how often every tenant is looked at, in case a notification
	// was lost (10 s).
	Sweep time.Duration
	// Retention is how long Redis remembers a finished task's id (10 min),
	// so that the rows of a relay that died between handing them over and
	// marking them are recognised as handed over, not run again.
	Retention time.Duration
	// Keep is how long a row stays in the outbox after it was handed to
	// the queue (7 days): long enough to see what a module enqueued last
	// week, short enough that the table does not grow with every message
	// ever sent.
	Keep time.Duration
	// PruneEvery is how often the rows older than Keep are removed (1 h).
	PruneEvery time.Duration
}

func (c RelayConfig) withDefaults() RelayConfig {
	c.BatchSize = orDefault(c.BatchSize, 500)
	c.Parallel = orDefault(c.Parallel, 32)
	c.Lanes = orDefault(c.Lanes, 2)
	c.Drainers = orDefault(c.Drainers, 4)
	c.Sweep = orDefault(c.Sweep, 10*time.Second)
	c.Retention = orDefault(c.Retention, 10*time.Minute)
	c.Keep = orDefault(c.Keep, 7*24*time.Hour)
	c.PruneEvery = orDefault(c.PruneEvery, time.Hour)
	return c
}

// Relay moves the outbox rows that have fallen due into asynq, with the row
// id as the task id, and marks them handed over.
//
// Row level security lets it read the outbox only as one tenant at a time,
// so it keeps, for each tenant it knows to have rows waiting, when to look
// next. A notification from the outbox_notify trigger (sent when a
// transaction that wrote rows commits) makes it look at that tenant at
// once; a sweep over every active tenant, at start, after a lost
// connection and every Sweep, finds what a notification would have missed.
// Far-future rows cost nothing until their time.
//
// A batch of rows is claimed with FOR UPDATE SKIP LOCKED, so relays in
// several worker processes share the work, and marked, handed to asynq and
// committed in one transaction. A relay that dies before the commit leaves
// the rows unmarked, and the next pass hands them over again: asynq refuses
// a task id it still holds (ErrTaskIDConflict), which counts as done. When
// Redis is down the rows stay where they are and the relay backs off; the
// API, which only writes rows, does not notice.
type Relay struct {
	db         *tenants.DB
	client     *asynq.Client
	cfg        RelayConfig
	worker     Config
	tasks      map[string]modules.Task
	accept     func(uuid.UUID) bool
	log        *slog.Logger
	metrics    *Metrics
	maxBackoff time.Duration
	warned     sync.Map // task types this build does not declare, logged once

	mu sync.Mutex
	// due is when to look at a tenant next.
	due         map[uuid.UUID]time.Time
	running     map[uuid.UUID]bool
	failures    int
	pausedUntil time.Time
	kick        chan struct{}
	sweep       chan struct{}
}

func newRelay(cfg Config, tasks map[string]modules.Task, metrics *Metrics, log *slog.Logger) *Relay {
	return &Relay{
		db:         cfg.DB,
		client:     asynq.NewClient(cfg.Redis),
		cfg:        cfg.Relay.withDefaults(),
		worker:     cfg,
		tasks:      tasks,
		accept:     cfg.Tenants,
		log:        log,
		metrics:    metrics,
		maxBackoff: orDefault(cfg.Tick, 5*time.Second),
		due:        map[uuid.UUID]time.Time{},
		running:    map[uuid.UUID]bool{},
		kick:       make(chan struct{}, 1),
		sweep:      make(chan struct{}, 1),
	}
}

// run relays until ctx ends; the batch in hand is finished first.
func (r *Relay) run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { r.sweepLoop(ctx) })
	wg.Go(func() { r.pruneLoop(ctx) })
	drainers := make(chan struct{}, r.cfg.Drainers)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		timer.Reset(r.dispatch(ctx, &wg, drainers))
		select {
		case <-ctx.Done():
			return
		case <-r.kick:
		case <-timer.C:
		}
	}
}

// dispatch starts a drain of every tenant that is due, as far as drainers
// allow, and returns how long to wait before looking again.
func (r *Relay) dispatch(ctx context.Context, wg *sync.WaitGroup, drainers chan struct{}) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if now.Before(r.pausedUntil) {
		return r.pausedUntil.Sub(now)
	}
	wait := r.cfg.Sweep
	for t, at := range r.due {
		if r.running[t] {
			continue // looked at again when its drain ends
		}
		if d := at.Sub(now); d > 0 {
			wait = min(wait, d)
			continue
		}
		select {
		case drainers <- struct{}{}:
		default:
			return wait // every drainer is busy; the first to finish kicks
		}
		delete(r.due, t)
		r.running[t] = true
		wg.Go(func() {
			defer func() { <-drainers }()
			r.drainAndReschedule(ctx, t)
		})
	}
	return wait
}

func (r *Relay) drainAndReschedule(ctx context.Context, tenant uuid.UUID) {
	_, next, err := r.drain(ctx, tenant)
	r.mu.Lock()
	delete(r.running, tenant)
	var backoff time.Duration
	switch {
	case err != nil && ctx.Err() == nil:
		// Most likely Redis is down, which stops every tenant: pause them all.
		r.failures++
		backoff = min(100*time.Millisecond<<min(r.failures-1, 16), r.maxBackoff)
		r.pausedUntil = time.Now().Add(backoff)
		r.setDue(tenant, time.Now())
	case err == nil:
		r.failures, r.pausedUntil = 0, time.Time{}
		if !next.IsZero() {
			r.setDue(tenant, next)
		}
	}
	r.mu.Unlock()
	if backoff > 0 {
		r.metrics.relayErrors.Inc()
		r.log.Warn("relay failed; rows wait in the outbox", "tenant", tenant, "error", err, "retry_in", backoff)
	}
	r.poke()
}

// setDue makes the tenant due at at, unless it is due earlier already.
// The caller holds r.mu.
func (r *Relay) setDue(tenant uuid.UUID, at time.Time) {
	if cur, ok := r.due[tenant]; !ok || at.Before(cur) {
		r.due[tenant] = at
	}
}

func (r *Relay) wake(tenant uuid.UUID, at time.Time) {
	r.mu.Lock()
	r.setDue(tenant, at)
	r.mu.Unlock()
	r.poke()
}

func (r *Relay) poke() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// notified handles a notification on outboxChannel.
func (r *Relay) notified(payload string) {
	tenant, err := uuid.Parse(payload)
	if err != nil {
		r.sweepSoon()
		return
	}
	if r.accept(tenant) {
		r.wake(tenant, time.Now())
	}
}

// sweepSoon asks for a sweep over every tenant.
func (r *Relay) sweepSoon() {
	select {
	case r.sweep <- struct{}{}:
	default:
	}
}

func (r *Relay) sweepLoop(ctx context.Context) {
	tick := time.NewTicker(r.cfg.Sweep)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-r.sweep:
		}
		if err := r.sweepAll(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("sweep failed", "error", err)
		}
	}
}

// sweepAll learns, for every active tenant, when its next row falls due:
// one read-only statement each, under the tenant's row level security.
func (r *Relay) sweepAll(ctx context.Context) error {
	ids, err := activeTenants(ctx, r.db, r.accept)
	if err != nil {
		return err
	}
	system := tenants.System().String()
	for _, t := range ids {
		rd, err := r.db.Reader(t, system)
		if err != nil {
			return err
		}
		// Ordered and limited, not min(): the planner then walks outbox_due
		// even when it misjudges how many rows the tenant has.
		var next time.Time
		err = rd.QueryRow(ctx, "SELECT run_at FROM outbox WHERE enqueued_at IS NULL ORDER BY run_at LIMIT 1").Scan(&next)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return fmt.Errorf("relay: sweep tenant %s: %w", t, err)
		default:
			r.wake(t, next)
		}
	}
	return nil
}

// Drain hands every row of tenant that is due to the queue now, and
// returns how many it handed over.
func (r *Relay) Drain(ctx context.Context, tenant uuid.UUID) (int, error) {
	n, _, err := r.drain(ctx, tenant)
	return n, err
}

// drain relays batches until one comes back short, and returns when the
// tenant's next row falls due (zero: none is waiting). A backlog, known by
// a first batch that came back full, is drained with Lanes batches in
// flight at once: while one waits for Redis another waits for PostgreSQL.
func (r *Relay) drain(ctx context.Context, tenant uuid.UUID) (int, time.Time, error) {
	b, err := r.batch(ctx, tenant)
	if err != nil || b.claimed < r.cfg.BatchSize {
		return b.handed, b.next, err
	}
	var (
		mu    sync.Mutex
		total = b.handed
		next  time.Time
		errs  []error
		wg    sync.WaitGroup
	)
	for range r.cfg.Lanes {
		wg.Go(func() {
			for {
				if err := ctx.Err(); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				b, err := r.batch(ctx, tenant)
				mu.Lock()
				total += b.handed
				if err != nil || b.claimed < r.cfg.BatchSize {
					if err != nil {
						errs = append(errs, err)
					}
					if next.IsZero() || (!b.next.IsZero() && b.next.Before(next)) {
						next = b.next
					}
					mu.Unlock()
					return
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return total, next, errors.Join(errs...)
}

type outboxRow struct {
	id       uuid.UUID
	taskType string
	payload  []byte
	queue    string
}

type batchResult struct {
	claimed, handed int
	next            time.Time
}

const (
	// planSQL keeps the planner off sorting: its estimate of a tenant's
	// rows comes from statistics of all tenants, taken before any burst, so
	// it would rather fetch and sort every row of the tenant than walk
	// outbox_due in order. Forbidden to sort, it walks the index.
	planSQL = "SELECT set_config('enable_sort', 'off', true)"
	// claimSQL claims a batch of due rows and marks them handed over, in
	// one statement: the transaction commits once asynq has every one. The
	// rows are found again by ctid, which leaves the planner nothing to
	// misjudge.
	claimSQL = `WITH due AS (
			SELECT ctid FROM outbox WHERE enqueued_at IS NULL AND run_at <= now()
			ORDER BY run_at LIMIT $1 FOR UPDATE SKIP LOCKED)
		UPDATE outbox SET enqueued_at = now(), attempts = attempts + 1, last_error = ''
		FROM due WHERE outbox.ctid = due.ctid
		RETURNING outbox.id, outbox.task_type, outbox.payload, outbox.queue`
	// nextSQL asks only for future rows: due ones the batch did not claim
	// are another relay's (locked) or committed since, and then their
	// notification is on its way.
	nextSQL = "SELECT run_at FROM outbox WHERE enqueued_at IS NULL AND run_at > now() ORDER BY run_at LIMIT 1"
	failSQL = "UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = ANY($1) AND enqueued_at IS NULL"
)

var (
	// errSkipped marks rows a batch did not try once Redis had failed it.
	errSkipped = errors.New("relay: skipped after an earlier failure")
	// errNotHanded rolls a batch back when a row did not reach asynq.
	errNotHanded = errors.New("relay: not every row reached the queue")
)

// batch claims, marks and hands over one batch of the tenant's due rows in
// one transaction, which commits only when every row reached asynq. When
// one did not (Redis is down), nothing is marked; the rows that did reach
// it are recognised by their ids next time.
func (r *Relay) batch(ctx context.Context, tenant uuid.UUID) (batchResult, error) {
	// A batch, once begun, is finished even when ctx ends: rows handed over
	// are then marked, not handed over again by the next run.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	var (
		res     batchResult
		failed  []uuid.UUID
		failure error
	)
	err := r.db.Tx(ctx, tenant, tenants.System().String(), func(tx *tenants.Tx) error {
		res, failed, failure = batchResult{}, nil, nil
		if _, err := tx.Exec(ctx, planSQL); err != nil {
			return fmt.Errorf("plan: %w", err)
		}
		claimed, next, err := claim(ctx, tx, r.cfg.BatchSize)
		if err != nil {
			return err
		}
		res.claimed, res.next = len(claimed), next
		for i, err := range r.enqueue(ctx, tenant, claimed) {
			switch {
			case err == nil:
			case errors.Is(err, errSkipped):
			default:
				failed = append(failed, claimed[i].id)
				failure = firstErr(failure, err)
			}
		}
		if failure != nil {
			return errNotHanded
		}
		res.handed = len(claimed)
		return nil
	})
	if failure != nil {
		r.recordFailure(ctx, tenant, failed, failure)
		return batchResult{}, fmt.Errorf("relay: tenant %s: enqueue: %w", tenant, failure)
	}
	if err != nil {
		return batchResult{}, fmt.Errorf("relay: tenant %s: %w", tenant, err)
	}
	r.metrics.relayed.Add(float64(res.handed))
	return res, nil
}

// claim marks up to size due rows handed over and returns them, with when
// the next row falls due (zero: none is waiting): one round trip.
func claim(ctx context.Context, tx *tenants.Tx, size int) ([]outboxRow, time.Time, error) {
	b := &pgx.Batch{}
	b.Queue(claimSQL, size)
	b.Queue(nextSQL)
	br := tx.SendBatch(ctx, b)
	defer br.Close()
	rows, err := br.Query()
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("claim: %w", err)
	}
	claimed := make([]outboxRow, 0, size)
	var row outboxRow
	if _, err := pgx.ForEachRow(rows, []any{&row.id, &row.taskType, &row.payload, &row.queue}, func() error {
		claimed = append(claimed, row)
		return nil
	}); err != nil {
		return nil, time.Time{}, fmt.Errorf("claim: %w", err)
	}
	var next time.Time
	if err := br.QueryRow().Scan(&next); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, time.Time{}, fmt.Errorf("next due: %w", err)
	}
	return claimed, next, br.Close()
}

// recordFailure notes on rows that did not reach asynq why, for whoever
// looks at the outbox; they wait for the next pass.
func (r *Relay) recordFailure(ctx context.Context, tenant uuid.UUID, ids []uuid.UUID, failure error) {
	err := r.db.Tx(ctx, tenant, tenants.System().String(), func(tx *tenants.Tx) error {
		_, err := tx.Exec(ctx, failSQL, ids, failure.Error())
		return err
	})
	if err != nil {
		r.log.Warn("recording a relay failure failed", "tenant", tenant, "error", err)
	}
}

func firstErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// enqueue hands rows to asynq, Parallel at a time, and returns each row's
// outcome. After the first failure the rest are skipped: it is Redis, and
// trying each row would only take longer.
func (r *Relay) enqueue(ctx context.Context, tenant uuid.UUID, rows []outboxRow) []error {
	errs := make([]error, len(rows))
	var (
		next   atomic.Int64
		broken atomic.Bool
		wg     sync.WaitGroup
	)
	for range min(r.cfg.Parallel, len(rows)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(rows) {
					return
				}
				if broken.Load() {
					errs[i] = errSkipped
					continue
				}
				if errs[i] = r.hand(ctx, tenant, &rows[i]); errs[i] != nil {
					broken.Store(true)
				}
			}
		})
	}
	wg.Wait()
	return errs
}

// hand enqueues one row as the asynq task of the same id.
func (r *Relay) hand(ctx context.Context, tenant uuid.UUID, row *outboxRow) error {
	if _, known := r.tasks[row.taskType]; !known {
		if _, logged := r.warned.LoadOrStore(row.taskType, true); !logged {
			r.log.Warn("outbox task of a type no module of this build declares; handing it over with default options", "type", row.taskType)
		}
	}
	opts := append(taskOptions(r.worker, r.tasks, row.taskType, row.queue),
		asynq.TaskID(row.id.String()), asynq.Retention(r.cfg.Retention))
	payload := appendEnvelope(make([]byte, 0, len(row.payload)+64), tenant, row.payload)
	_, err := r.client.EnqueueContext(ctx, asynq.NewTask(row.taskType, payload), opts...)
	if errors.Is(err, asynq.ErrTaskIDConflict) || errors.Is(err, asynq.ErrDuplicateTask) {
		// Handed over already, by a relay that died before marking the row.
		return nil
	}
	return err
}

func (r *Relay) close() error {
	if err := r.client.Close(); err != nil {
		return fmt.Errorf("relay: close: %w", err)
	}
	return nil
}

// activeTenants lists the active tenants accept takes. The tenants table
// has no row level security: it is what the per-tenant work starts from.
func activeTenants(ctx context.Context, db *tenants.DB, accept func(uuid.UUID) bool) ([]uuid.UUID, error) {
	const page = 500
	var ids []uuid.UUID
	after := ""
	for {
		ts, err := db.ListTenants(ctx, tenants.TenantFilter{Status: tenants.StatusActive, After: after, Limit: page})
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			if accept(t.ID) {
				ids = append(ids, t.ID)
			}
		}
		if len(ts) < page {
			return ids, nil
		}
		after = ts[len(ts)-1].Slug
	}
}
