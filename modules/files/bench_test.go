package files_test

import (
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"yamen/modules/files"
	"yamen/modules/files/filestest"
	"yamen/tenants"
	"yamen/tenants/tenanttest"
)

// BenchmarkRegister is registering an upload without HTTP: validating it,
// presigning the PUT and writing the pending row, 64 at a time. It reports
// the p50 and p99 latency of one registration.
func BenchmarkRegister(b *testing.B) {
	db := tenanttest.DB(b)
	m := filestest.Module(b, db.Pool)
	tn := tenanttest.Tenant(b, tenants.KindOther, "files")
	ctx := as(tn, keySubject(tn))
	img := pngBytes(b, 64, 64)
	up := newUpload("photo", "现场照片.png", "image/png", img)
	const concurrency = 64
	b.SetParallelism((concurrency + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	var mu sync.Mutex
	var all []time.Duration
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			start := time.Now()
			if _, err := m.Register(ctx, up); err != nil {
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
		slices.Sort(all)
		b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
	}
}

// BenchmarkSniff is the content check's type decision.
func BenchmarkSniff(b *testing.B) {
	head := pngBytes(b, 64, 64)[:files.SniffBytes]
	for b.Loop() {
		files.Sniff(head)
	}
}

// BenchmarkCheckName is the name check of every registration.
func BenchmarkCheckName(b *testing.B) {
	for b.Loop() {
		files.CheckName("2026年5月 宣传活动 现场照片（第3组）.jpg")
	}
}
