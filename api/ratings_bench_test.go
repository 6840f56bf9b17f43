package api_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"yamen/tenants"
)

// BenchmarkRatingSubmission offers ratings at 1,500 a second over 64
// client connections, the rate the ratings issue sets, whether or not
// earlier ones have finished: each client takes the next rating when it is
// due. A rating's latency runs from when it was due, so a backlog counts
// against it. Each is POST /cases/{case}/rating, a transaction of one
// statement (the rating and its upload row) and the COMMIT.
//
//	make bench BENCH_PKGS=./api/ GOTESTFLAGS="-bench RatingSubmission -benchtime 20000x"
func BenchmarkRatingSubmission(b *testing.B) { rateCases(b, 1500) }

// BenchmarkRatingSubmissionFlatOut is 64 clients rating as fast as they
// can: the throughput ceiling. Closed like this, a rating waits for the 63
// others on two cores, so its latency is about 64 / throughput whatever a
// rating costs.
func BenchmarkRatingSubmissionFlatOut(b *testing.B) { rateCases(b, 0) }

// rateCases rates b.N pushed cases from 64 clients, at rate a second or,
// when rate is 0, flat out, and reports the rate achieved and the p50 and
// p99 latency.
func rateCases(b *testing.B, rate int) {
	bb, _ := ratingsSetup(b)
	tn, key := bb.tenant(b, tenants.KindAffairsHall)
	base := "/v1/t/" + tn.Slug + "/ratings/cases/"
	const clients = 64
	// Every client connection and the server's pool get past PostgreSQL's
	// first plans before the clock starts.
	warm := clients * 8
	n := b.N + warm
	require.NoError(b, bb.db.Tx(context.Background(), tn.ID, "system", func(tx *tenants.Tx) error {
		_, err := tx.Exec(context.Background(), `INSERT INTO rating_cases (tenant_id, case_no, source, item_name, department_name, region_code, channel, rate_token, handled_at)
			SELECT current_tenant(), 'B-' || i, 'push', '事项', '部门', tenants.region_code, 'window', 't', now() - interval '1 hour'
			FROM generate_series(1, $1) AS i, tenants WHERE tenants.id = current_tenant()`, n)
		return err
	}))
	// Measure the steady state: autovacuum analyses the table some time
	// after a bulk insert, and until then the planner may take the cases
	// for a few rows and read them all for each rating.
	conn, err := pgx.Connect(context.Background(), os.Getenv("YAMEN_DATABASE_ADMIN_URL"))
	require.NoError(b, err)
	_, err = conn.Exec(context.Background(), "ANALYZE yamen.rating_cases, yamen.rating_uploads")
	require.NoError(b, err)
	require.NoError(b, conn.Close(context.Background()))
	http.DefaultTransport.(*http.Transport).MaxIdleConnsPerHost = 128
	bodies := []map[string]any{
		{"level": 5, "tags": []string{"510"}, "channel": "window_device"},
		{"level": 4, "channel": "app"},
		{"level": 3, "channel": "kiosk"},
	}
	var next atomic.Int64
	run := func(last int64, due func(i int64) time.Time) ([]time.Duration, int64) {
		var (
			mu   sync.Mutex
			lat  = make([]time.Duration, 0, last)
			fail atomic.Int64
			wg   sync.WaitGroup
		)
		for range clients {
			wg.Go(func() {
				for {
					i := next.Add(1)
					if i > last {
						return
					}
					at := due(i)
					time.Sleep(time.Until(at))
					r := bb.do(b, "POST", fmt.Sprintf("%sB-%d/rating", base, i), key, bodies[i%3])
					d := time.Since(at)
					if r.status != http.StatusOK {
						fail.Add(1)
					}
					mu.Lock()
					lat = append(lat, d)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		return lat, fail.Load()
	}
	_, failed := run(int64(warm), func(int64) time.Time { return time.Now() })
	require.Zero(b, failed, "every warm-up rating accepted")
	next.Store(int64(warm)) // each client took one past the last

	b.ResetTimer()
	begin := time.Now()
	due := func(int64) time.Time { return time.Now() }
	if rate > 0 {
		due = func(i int64) time.Time {
			return begin.Add(time.Duration(i-int64(warm)-1) * time.Second / time.Duration(rate))
		}
	}
	lat, failed := run(int64(n), due)
	b.StopTimer()
	require.Zero(b, failed, "every rating accepted")
	slices.Sort(lat)
	b.ReportMetric(float64(len(lat))/time.Since(begin).Seconds(), "ratings/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
