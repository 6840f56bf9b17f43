package booking_test

import (
	"context"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"yamen/modules/booking"
	"yamen/tenants"
)

func percentile(all []time.Duration, p int) float64 {
	slices.Sort(all)
	return float64(all[len(all)*p/100].Microseconds()) / 1000
}

// BenchmarkSlots30Days is the public slots read of one item over 30 days
// (about 22 working days of 13 slots), with places taken in some of them.
// It reports the p95 of one read.
func BenchmarkSlots30Days(b *testing.B) {
	f := setup(b)
	ctx := context.Background()
	f.rule(b, booking.TargetItem, f.item, booking.Rule{DaysAhead: new(40), Capacity: new(1000)})
	for d := range 10 {
		_, err := f.book(b, citizen(), f.item, at(9, 25, 9, 0).AddDate(0, 0, d), wednesday, "")
		_ = err // weekends and holidays have no slot
	}
	from, to := at(9, 24, 0, 0), at(10, 23, 23, 59)
	r, err := f.db.Reader(f.tn.ID, "anonymous")
	require.NoError(b, err)
	var all []time.Duration
	n := 0
	for b.Loop() {
		start := time.Now()
		s, err := booking.ListSlots(ctx, r, f.cal, f.item, from, to, wednesday)
		if err != nil {
			b.Fatal(err)
		}
		all = append(all, time.Since(start))
		n = len(s.Slots)
	}
	b.ReportMetric(float64(n), "slots")
	b.ReportMetric(percentile(all, 50), "p50-ms")
	b.ReportMetric(percentile(all, 95), "p95-ms")
}

// bookings64 sets up an item with slots over three weeks and a pool of 64
// connections, warmed, and returns a booking by a new citizen each call,
// spread round the slots. A daily quota above 0 makes every booking of a
// day also count in the day's one row.
func bookings64(b *testing.B, dailyQuota int) func() error {
	f := setup(b)
	ctx := context.Background()
	db, err := tenants.Open(ctx, os.Getenv("YAMEN_DATABASE_URL")+"&pool_max_conns=64")
	require.NoError(b, err)
	b.Cleanup(db.Close)
	f.rule(b, booking.TargetItem, f.item, booking.Rule{DaysAhead: new(30), Capacity: new(10000), DailyQuota: new(dailyQuota)})
	r, err := f.db.Reader(f.tn.ID, "anonymous")
	require.NoError(b, err)
	s, err := booking.ListSlots(ctx, r, f.cal, f.item, at(9, 24, 0, 0), at(10, 20, 0, 0), wednesday)
	require.NoError(b, err)
	slots := s.Slots
	var next atomic.Int64
	book := func() error {
		c := booking.Citizen{ID: uuid.New(), Name: "压测", Phone: "+8613800138000", RealNameLevel: booking.LevelRealName}
		slot := slots[int(next.Add(1))%len(slots)].Start
		return db.Tx(ctx, f.tn.ID, "citizen:"+c.ID.String(), func(tx *tenants.Tx) error {
			_, err := f.m.Book(ctx, tx, f.cal, c, booking.NewAppointment{ItemID: f.item, SlotStart: slot}, "", wednesday)
			return err
		})
	}
	warm(b, db, 64, book)
	return book
}

// BenchmarkBook1000PerSecond offers bookings at 1,000 a second, each from
// a new citizen, to the pool of 64 connections, whether or not earlier
// ones have finished — as requests arrive at a service. A booking's
// latency runs from when it was due, so a backlog counts against it. It
// reports the rate achieved and the p50 and p99 latency.
func BenchmarkBook1000PerSecond(b *testing.B) {
	book := bookings64(b, 0)
	const rate = 1000
	lat := make([]time.Duration, b.N)
	var wg sync.WaitGroup
	b.ResetTimer()
	begin := time.Now()
	for i := range b.N {
		due := begin.Add(time.Duration(i) * time.Second / rate)
		time.Sleep(time.Until(due))
		wg.Go(func() {
			if err := book(); err != nil {
				b.Error(err)
				return
			}
			lat[i] = time.Since(due)
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(begin).Seconds(), "bookings/s")
	b.ReportMetric(percentile(lat, 50), "p50-ms")
	b.ReportMetric(percentile(lat, 99), "p99-ms")
}

// BenchmarkBook64 is booking at 64 connections flat out: 64 citizens at a
// time, each a new one, spread over the slots of three weeks. It reports
// bookings per second and the p50 and p99 of one booking transaction.
// Closed like this, a booking waits for the 63 others on two cores, so its
// latency is about 64 / throughput whatever a booking costs.
func BenchmarkBook64(b *testing.B) { book64(b, 0) }

// BenchmarkBook64DailyQuota is BenchmarkBook64 under a daily quota (never
// reached): about 13 slots share a day, so bookings of a day queue for its
// row.
func BenchmarkBook64DailyQuota(b *testing.B) { book64(b, 1000000) }

func book64(b *testing.B, dailyQuota int) {
	book := bookings64(b, dailyQuota)
	const concurrency = 64
	b.SetParallelism((concurrency + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	var (
		mu  sync.Mutex
		all []time.Duration
	)
	begin := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			start := time.Now()
			if err := book(); err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(start))
		}
		mu.Lock()
		all = append(all, mine...)
		mu.Unlock()
	})
	b.StopTimer()
	if len(all) > 0 {
		b.ReportMetric(float64(len(all))/time.Since(begin).Seconds(), "bookings/s")
		b.ReportMetric(percentile(all, 50), "p50-ms")
		b.ReportMetric(percentile(all, 99), "p99-ms")
	}
}

// warm opens every connection of the pool and runs op on each more often
// than PostgreSQL plans a prepared statement afresh (five times), so the
// figures are of a running service, not of 64 backends starting cold.
func warm(b *testing.B, db *tenants.DB, conns int, op func() error) {
	b.Helper()
	held := make([]*pgxpool.Conn, 0, conns)
	for range conns {
		c, err := db.Pool.Acquire(context.Background())
		require.NoError(b, err)
		held = append(held, c)
	}
	for _, c := range held {
		c.Release()
	}
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			for range 8 {
				if err := op(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkEmptyTx64 is the floor BenchmarkBook64 stands on: a tenant
// transaction of one trivial statement, 64 at a time, on the same pool.
func BenchmarkEmptyTx64(b *testing.B) {
	f := setup(b)
	ctx := context.Background()
	db, err := tenants.Open(ctx, os.Getenv("YAMEN_DATABASE_URL")+"&pool_max_conns=64")
	require.NoError(b, err)
	defer db.Close()
	b.SetParallelism((64 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	begin := time.Now()
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			err := db.Tx(ctx, f.tn.ID, "system", func(tx *tenants.Tx) error {
				_, err := tx.Exec(ctx, "SELECT 1")
				return err
			})
			if err != nil {
				b.Error(err)
				return
			}
			n.Add(1)
		}
	})
	b.ReportMetric(float64(n.Load())/time.Since(begin).Seconds(), "tx/s")
}
