package queue_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"yamen/modules/queue/queuetest"
	"yamen/tenants"
	"yamen/tenants/tenanttest"
)

// BenchmarkCallNext measures call-next — one transaction that picks the
// next ticket with FOR UPDATE SKIP LOCKED, calls it and notifies the
// boards — with 8 windows calling at once in a hall with a queue of 2,000
// more tickets than the benchmark calls. Each call's latency is recorded;
// p50 and p99 are reported. Finishing a ticket, between calls, is not
// timed.
//
//	go test -run '^$' -bench CallNext -benchtime 2s ./modules/queue/
//
// That is every window calling flat out, a saturation test. BENCH_CALL_RATE
// offers the calls at a rate instead (calls per second, over all windows),
// timing each from when it was due, so a backlog counts against it:
//
//	BENCH_WINDOWS=40 BENCH_CALL_RATE=200 go test -run '^$' -bench CallNext -benchtime 2000x ./modules/queue/
func BenchmarkCallNext(b *testing.B) {
	bd := setup(b)
	tn := tenanttest.Tenant(b, tenants.KindAffairsHall, "catalog", "queue")
	windows := benchWindows
	h := queuetest.Make(b, bd.db, tn, windows)
	ctx := context.Background()
	fill := func(n int) {
		err := bd.db.Tx(ctx, tn.ID, "system", func(tx *tenants.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO queue_tickets (tenant_id, hall_id, item_id, service_date, number, kind, secret, queued_at)
				SELECT current_tenant(), $1, CASE WHEN g % 3 = 0 THEN $3::uuid ELSE $2::uuid END, DATE '2000-01-01', 'Z' || g || '-' || $5::text,
					CASE WHEN g % 10 = 0 THEN 'priority' ELSE 'walk_in' END::queue_ticket_kind, 'x', now() + g * interval '1 microsecond'
				FROM generate_series(1, $4) g`, h.ID, h.ItemA, h.ItemB, n, fmt.Sprint(time.Now().UnixNano()))
			return err
		})
		require.NoError(b, err)
	}
	// Each window has a connection of its own, as a service's pool would
	// give it, and has called several times before the timing starts, so
	// the figures are of a warm service: PostgreSQL plans a statement
	// afresh for its first five runs on each connection, and the pool hands
	// connections out in no fixed order.
	db, err := tenants.Open(ctx, os.Getenv("YAMEN_DATABASE_URL")+"&pool_max_conns="+strconv.Itoa(windows))
	require.NoError(b, err)
	defer db.Close()
	bd = &bundle{db: db, m: bd.m}
	const warmCalls = 15 // per window, so every connection runs call-next well over five times
	fill(b.N + 2000 + windows*warmCalls)
	var warm sync.WaitGroup
	for w := range windows {
		warm.Go(func() {
			for range warmCalls {
				tk, err := bd.callNext(b, h, h.Windows[w])
				if err == nil {
					_, err = tx(b, bd, tn, func(tx *tenants.Tx) (int, error) { return 0, finishQuietly(ctx, bd, tx, tk.ID) })
				}
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	warm.Wait()

	var mu sync.Mutex
	var lat []time.Duration
	b.ResetTimer()
	var wg sync.WaitGroup
	per := (b.N + windows - 1) / windows
	t0 := time.Now()
	for w := range windows {
		wg.Go(func() {
			mine := make([]time.Duration, 0, per)
			for k := range per {
				start := time.Now()
				if benchCallRate > 0 {
					start = t0.Add(time.Duration(float64(k*windows+w) / benchCallRate * float64(time.Second)))
					time.Sleep(time.Until(start))
				}
				tk, err := bd.callNext(b, h, h.Windows[w])
				mine = append(mine, time.Since(start))
				if err != nil {
					b.Error(err)
					return
				}
				if _, err := tx(b, bd, tn, func(tx *tenants.Tx) (int, error) {
					return 0, finishQuietly(ctx, bd, tx, tk.ID)
				}); err != nil {
					b.Error(err)
					return
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	b.StopTimer()
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
	}
}

// finishQuietly finishes a ticket as FinishIn does.
func finishQuietly(ctx context.Context, bd *bundle, tx *tenants.Tx, id uuid.UUID) error {
	_, err := bd.m.FinishIn(ctx, tx, id, nil)
	return err
}

// benchCallRate is the calls per second BENCH_CALL_RATE offers; 0 is flat out.
var benchCallRate = func() float64 {
	r, _ := strconv.ParseFloat(os.Getenv("BENCH_CALL_RATE"), 64)
	return r
}()

// benchWindows is how many windows call at once; BENCH_WINDOWS overrides it.
var benchWindows = func() int {
	if n, err := strconv.Atoi(os.Getenv("BENCH_WINDOWS")); err == nil && n > 0 {
		return n
	}
	return 8
}()
