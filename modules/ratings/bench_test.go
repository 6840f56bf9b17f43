package ratings_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"yamen/modules/ratings"
	"yamen/tenants"
	"yamen/tenants/tenanttest"
)

const benchSlug = "ratings-bench-1m"

// benchTenant returns the benchmark's own tenant holding 1,000,000 rated
// cases in 128 communities (4 districts × 4 streets × 8 communities under
// the test city), generating them the first time only.
func benchTenant(b *testing.B) tenants.Tenant {
	b.Helper()
	db := tenanttest.DB(b)
	ctx := context.Background()
	if t, err := db.TenantBySlug(ctx, benchSlug); err == nil {
		rollUpBench(b, db, t)
		return t
	}
	city := tenanttest.CityCode
	var rs []tenants.Region
	for d := 11; d <= 14; d++ {
		district := fmt.Sprintf("9901%02d", d)
		rs = append(rs, tenants.Region{Code: district, Name: fmt.Sprintf("压测区%d", d), ParentCode: &city, Level: 3})
		for s := 1; s <= 4; s++ {
			street := fmt.Sprintf("%s%03d", district, s)
			dc := district
			rs = append(rs, tenants.Region{Code: street, Name: fmt.Sprintf("压测街道%d-%d", d, s), ParentCode: &dc, Level: 4})
			for c := 1; c <= 8; c++ {
				sc := street
				rs = append(rs, tenants.Region{Code: fmt.Sprintf("%s%03d", street, c), Name: fmt.Sprintf("压测社区%d-%d-%d", d, s, c), ParentCode: &sc, Level: 5})
			}
		}
	}
	require.NoError(b, db.UpsertRegions(ctx, rs))
	t, err := db.CreateTenant(ctx, tenants.System(), tenants.NewTenant{Slug: benchSlug, Name: "好差评压测", Kind: tenants.KindAffairsHall,
		RegionCode: city, Modules: []string{"messages", "ratings"}})
	require.NoError(b, err)
	start := time.Now()
	require.NoError(b, db.Tx(ctx, t.ID, "system", func(tx *tenants.Tx) error {
		// Only the generated leaves: the test district's own children are
		// other tests'.
		return ratings.GenerateRatings(ctx, tx, 1_000_000, time.Now())
	}))
	admin, err := pgx.Connect(ctx, os.Getenv("YAMEN_DATABASE_ADMIN_URL"))
	require.NoError(b, err)
	defer admin.Close(ctx)
	_, err = admin.Exec(ctx, "VACUUM ANALYZE yamen.rating_cases")
	require.NoError(b, err)
	b.Logf("generated 1,000,000 ratings in %v", time.Since(start))
	rollUpBench(b, db, t)
	return t
}

// rollUpBench rolls up the benchmark tenant's ratings when they are not
// rolled up yet (the generator writes rating_cases only, as an import of
// past ratings would): one INSERT … SELECT … GROUP BY.
func rollUpBench(b *testing.B, db *tenants.DB, t tenants.Tenant) {
	ctx := context.Background()
	rd, err := db.Reader(t.ID, "system")
	require.NoError(b, err)
	var rolled bool
	require.NoError(b, rd.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM rating_rollup_state)").Scan(&rolled))
	if rolled {
		return
	}
	start := time.Now()
	require.NoError(b, db.Tx(ctx, t.ID, "system", func(tx *tenants.Tx) error {
		return ratings.RebuildRollup(ctx, tx, time.Time{}, time.Now(), shanghai)
	}))
	admin, err := pgx.Connect(ctx, os.Getenv("YAMEN_DATABASE_ADMIN_URL"))
	require.NoError(b, err)
	defer admin.Close(ctx)
	_, err = admin.Exec(ctx, "VACUUM ANALYZE yamen.rating_rollup, yamen.rating_rollup_channel")
	require.NoError(b, err)
	b.Logf("rolled up in %v", time.Since(start))
}

// BenchmarkStatistics runs the statistics a supervisor clicks through over
// 1,000,000 ratings: by district, drilling down to streets and
// communities, by department, channel and month, with and without the
// defaults.
//
//	go test ./modules/ratings/ -run '^$' -bench Statistics -benchtime 200x
func BenchmarkStatistics(b *testing.B) {
	tn := benchTenant(b)
	db := tenanttest.DB(b)
	rd, err := db.Reader(tn.ID, "system")
	require.NoError(b, err)
	ctx := context.Background()
	filters := []ratings.StatsFilter{
		{By: ratings.ByRegion},
		{By: ratings.ByRegion, Region: "990112"},
		{By: ratings.ByRegion, Region: "990112003"},
		{By: ratings.ByRegion, Region: "990113001", ExcludeDefaults: true},
		{By: ratings.ByDepartment, Region: "990114"},
		{By: ratings.ByChannel, From: time.Now().AddDate(0, -3, 0)},
		{By: ratings.ByMonth, Region: "990111002"},
		{By: ratings.ByStaff, Department: "D07", Region: "990111"},
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		st, err := ratings.GetStats(ctx, rd, filters[i%len(filters)], shanghai)
		lat = append(lat, time.Since(start))
		require.NoError(b, err)
		require.NotEmpty(b, st.Rows)
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
}
