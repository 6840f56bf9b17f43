package api_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"yamen/tenants"
)

// BenchmarkRatingSubmission rates cases through the API from 64 clients at
// once: POST /cases/{case}/rating, each a transaction of one statement
// (the rating, its upload row and its outbox row) and the COMMIT.
//
//	go test ./api/ -run '^$' -bench RatingSubmission -benchtime 3000x
func BenchmarkRatingSubmission(b *testing.B) {
	bb, _ := ratingsSetup(b)
	tn, key := bb.tenant(b, tenants.KindAffairsHall)
	base := "/v1/t/" + tn.Slug + "/ratings/cases/"
	n := b.N
	require.NoError(b, bb.db.Tx(context.Background(), tn.ID, "system", func(tx *tenants.Tx) error {
		_, err := tx.Exec(context.Background(), `INSERT INTO rating_cases (tenant_id, case_no, source, item_name, department_name, region_code, channel, rate_token, handled_at)
			SELECT current_tenant(), 'B-' || i, 'push', '事项', '部门', tenants.region_code, 'window', 't', now() - interval '1 hour'
			FROM generate_series(1, $1) AS i, tenants WHERE tenants.id = current_tenant()`, n)
		return err
	}))
	http.DefaultTransport.(*http.Transport).MaxIdleConnsPerHost = 128
	const clients = 64
	var (
		next atomic.Int64
		mu   sync.Mutex
		lat  = make([]time.Duration, 0, n)
		fail atomic.Int64
		wg   sync.WaitGroup
	)
	bodies := []map[string]any{
		{"level": 5, "tags": []string{"510"}, "channel": "window_device"},
		{"level": 4, "channel": "app"},
		{"level": 3, "channel": "kiosk"},
	}
	b.ResetTimer()
	for range clients {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				start := time.Now()
				r := bb.do(b, "POST", fmt.Sprintf("%sB-%d/rating", base, i), key, bodies[i%3])
				d := time.Since(start)
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
	b.StopTimer()
	require.Zero(b, fail.Load(), "every rating accepted")
	slices.Sort(lat)
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "ratings/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
