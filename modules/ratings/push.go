package ratings

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"yamen/tenants"
)

// The province receives events in batches pushed by a schedule
// (ratings:push, every PushEvery), not one outbox task per event: an outbox
// row per rating wakes the relay with a NOTIFY, and PostgreSQL serialises
// every committing transaction that notifies, which capped ratings at a
// few hundred a second. The pending rows of rating_uploads, written in the
// transaction that records the event, are the queue: a crash or a Redis
// outage delays an upload, never loses it.
const (
	// pushBatch is how many due events one transaction claims.
	pushBatch = 500
	// pushParallel is how many uploads are in flight at once.
	pushParallel = 16
	// pushGiveUpAfter consecutive failures end a run: the province is down
	// or silent, and the rest wait for the next run rather than each
	// waiting out its own timeout.
	pushGiveUpAfter = 3
)

type dueUpload struct {
	caseNo, event string
	payload       []byte
	attempts      int
}

// pushResult is what became of one due event: sent says it was tried at
// all, err why the province refused it.
type pushResult struct {
	sent bool
	err  error
}

// Push uploads the tenant's due events, up to pushBatch, and says how many
// it claimed. A failed upload is due again after the retry wait, doubling
// per attempt up to an hour; a run that meets pushGiveUpAfter failures in a
// row stops trying. A full batch that all went through queues the next run
// at once.
func (m *Module) Push(ctx context.Context, tx *tenants.Tx, now time.Time) (int, error) {
	s, err := LoadSettings(ctx, tx)
	if err != nil {
		return 0, err
	}
	if len(s.Province) == 0 {
		// Not configured: everything waits; the reconciliation lists it.
		return 0, nil
	}
	due, err := claimDue(ctx, tx, now)
	if err != nil || len(due) == 0 {
		return 0, err
	}
	results := m.send(ctx, s.Province[0], tx.TenantID().String(), due)
	failed, err := m.recordResults(ctx, tx, due, results, now)
	if err != nil {
		return 0, err
	}
	if len(due) == pushBatch && failed == 0 {
		if _, err := tenants.Enqueue(ctx, tx, tenants.Task{Type: TaskPush, Queue: tenants.QueueLow,
			DedupeKey: "push:" + strconv.FormatInt(now.UnixNano(), 36)}); err != nil {
			return 0, err
		}
	}
	return len(due), nil
}

// claimDue locks the due events, oldest first; another run skips them.
func claimDue(ctx context.Context, tx *tenants.Tx, now time.Time) ([]dueUpload, error) {
	rows, err := tx.Query(ctx, `SELECT case_no, event::text, payload, attempts FROM rating_uploads
		WHERE acknowledged_at IS NULL AND due_at <= $1 ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED`, now, pushBatch)
	if err != nil {
		return nil, fmt.Errorf("ratings: push: %w", err)
	}
	due, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (dueUpload, error) {
		var u dueUpload
		var attempts int32
		err := r.Scan(&u.caseNo, &u.event, &u.payload, &attempts)
		u.attempts = int(attempts)
		return u, err
	})
	if err != nil {
		return nil, fmt.Errorf("ratings: push: %w", err)
	}
	return due, nil
}

// send uploads the events, pushParallel at a time, in order; once
// pushGiveUpAfter have failed in a row the rest are not sent.
func (m *Module) send(ctx context.Context, p Province, tenant string, due []dueUpload) []pushResult {
	results := make([]pushResult, len(due))
	var (
		mu        sync.Mutex
		streak    int
		givenUp   bool
		wg        sync.WaitGroup
		slots     = make(chan struct{}, pushParallel)
		gaveUpNow = func() bool { mu.Lock(); defer mu.Unlock(); return givenUp }
	)
	for i, u := range due {
		slots <- struct{}{}
		if gaveUpNow() || ctx.Err() != nil {
			<-slots
			break
		}
		wg.Go(func() {
			defer func() { <-slots }()
			err := m.post(ctx, p, tenant+":"+u.caseNo+":"+u.event, u.payload)
			mu.Lock()
			defer mu.Unlock()
			results[i] = pushResult{sent: true, err: err}
			if err == nil {
				streak = 0
				return
			}
			streak++
			givenUp = givenUp || streak >= pushGiveUpAfter
		})
	}
	wg.Wait()
	return results
}

// recordResults writes what each upload came to in one statement and says
// how many failed.
func (m *Module) recordResults(ctx context.Context, tx *tenants.Tx, due []dueUpload, results []pushResult, now time.Time) (int, error) {
	var (
		cases, events, errs []string
		attempts            []int32
		dueAt               []time.Time
		acked               []bool
		failed              int
	)
	for i, r := range results {
		if !r.sent {
			continue
		}
		u := due[i]
		n := u.attempts + 1
		cases, events, attempts = append(cases, u.caseNo), append(events, u.event), append(attempts, int32(n))
		if r.err == nil {
			errs, dueAt, acked = append(errs, ""), append(dueAt, now), append(acked, true)
			continue
		}
		failed++
		errs, acked = append(errs, truncate(r.err.Error(), 500)), append(acked, false)
		dueAt = append(dueAt, now.Add(m.retryWait(n)))
	}
	if len(cases) == 0 {
		return failed, nil
	}
	_, err := tx.Exec(ctx, `UPDATE rating_uploads u SET attempts = r.attempts, last_error = r.error, last_attempt_at = $7,
			due_at = r.due_at, acknowledged_at = CASE WHEN r.acked THEN $7::timestamptz END
		FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::timestamptz[], $6::bool[]) AS r(case_no, event, attempts, error, due_at, acked)
		WHERE u.case_no = r.case_no AND u.event = r.event::rating_upload_event`, cases, events, attempts, errs, dueAt, acked, now)
	if err != nil {
		return 0, fmt.Errorf("ratings: push: record: %w", err)
	}
	return failed, nil
}

// retryWait is the wait after the attempts-th failure: uploadRetry,
// doubling, at most an hour.
func (m *Module) retryWait(attempts int) time.Duration {
	return min(m.uploadRetry<<min(attempts-1, 20), time.Hour)
}
