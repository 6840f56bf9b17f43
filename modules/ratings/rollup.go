package ratings

import (
	"context"
	"fmt"
	"strings"
	"time"

	"yamen/tenants"
)

// The rollup (migration 012): monthly counts per community, department and
// rating channel of the days up to rating_rollup_state.through, rebuilt
// nightly by TaskRollup and adjusted by the changes to ratings already
// rolled up. GetStats reads it for the closed days and rating_cases for
// the rest.

// TaskRollup rolls up the days that ended.
const TaskRollup = "ratings:rollup"

// rollupColumns are the counters of rating_rollup, and rollupRow what one
// rated case (c) adds to them.
var (
	rollupColumns = []string{"total", "very_satisfied", "satisfied", "basic", "dissatisfied", "very_dissatisfied",
		"defaults", "rectified", "rectified_in_time"}
	rollupRow = []string{"1", "(c.level = 5)::int", "(c.level = 4)::int", "(c.level = 3)::int", "(c.level = 2)::int", "(c.level = 1)::int",
		"c.is_default::int",
		"(c.level <= 2 AND coalesce(c.rectify_status IN ('fed_back', 'closed'), false))::int",
		"(c.level <= 2 AND coalesce(c.rectify_status IN ('fed_back', 'closed'), false) AND coalesce(c.rectified_in_time, false))::int"}
)

// rollupTable is a rollup: its counters by month, community and dims.
type rollupTable struct {
	name string
	// dims are its other key columns, and what a case's row gives them
	dims, vals []string
	// extra is a column that follows the key, and its value over a group
	extra, extraVal, extraAgg string
}

var rollupTables = []rollupTable{
	{name: "rating_rollup", dims: []string{"department_code"}, vals: []string{"c.department_code"},
		extra: "department_name", extraVal: "c.department_name", extraAgg: "max(c.department_name)"},
	{name: "rating_rollup_channel", dims: []string{"rating_channel"}, vals: []string{"c.rating_channel"}},
}

// upsert is the statement that adds the counts of the rows of `from` (the
// rated cases, as c; s is the rollup state) meeting `where`, each times
// `sign`, to t.
func (t rollupTable) upsert(from, where, sign string) string {
	cols := append([]string{"tenant_id", "month", "region_code"}, t.dims...)
	vals := append([]string{"current_tenant()", "date_trunc('month', c.rated_at AT TIME ZONE s.tz)::date", "c.region_code"}, t.vals...)
	key := strings.Join(cols, ", ")
	if t.extra != "" {
		cols = append(cols, t.extra)
		vals = append(vals, t.extraVal)
	}
	var set []string
	for i, col := range rollupColumns {
		cols = append(cols, col)
		vals = append(vals, sign+" * "+rollupRow[i])
		set = append(set, col+" = "+t.name+"."+col+" + excluded."+col)
	}
	return "INSERT INTO " + t.name + " (" + strings.Join(cols, ", ") + ") SELECT " + strings.Join(vals, ", ") + " FROM " + from + " WHERE " + where +
		" ON CONFLICT (" + key + ") DO UPDATE SET " + strings.Join(set, ", ")
}

// rebuild is the statement that counts the rated cases from $1 (all when
// null) to $2 into t, in time zone $3.
func (t rollupTable) rebuild() string {
	cols := append([]string{"tenant_id", "month", "region_code"}, t.dims...)
	vals := append([]string{"current_tenant()", "date_trunc('month', c.rated_at AT TIME ZONE $3)::date AS m", "c.region_code"}, t.vals...)
	group := append([]string{"m", "c.region_code"}, t.vals...)
	if t.extra != "" {
		cols = append(cols, t.extra)
		vals = append(vals, t.extraAgg)
	}
	for i, col := range rollupColumns {
		cols = append(cols, col)
		vals = append(vals, "sum("+rollupRow[i]+")")
	}
	return "INSERT INTO " + t.name + " (" + strings.Join(cols, ", ") + ") SELECT " + strings.Join(vals, ", ") +
		" FROM rating_cases c WHERE c.level IS NOT NULL AND NOT c.excluded AND ($1::timestamptz IS NULL OR c.rated_at >= $1) AND c.rated_at < $2" +
		" GROUP BY " + strings.Join(group, ", ")
}

// rollupDelta adds $2 times the counts of case $1 to the rollups when the
// case is rated, counted, and its day already rolled up, holding a share
// lock on the rollup state.
var rollupDelta = func() string {
	var ctes []string
	for i, t := range rollupTables {
		ctes = append(ctes, fmt.Sprintf("r%d AS (%s)", i, t.upsert("rating_cases c, s",
			"c.case_no = $1 AND c.level IS NOT NULL AND NOT c.excluded AND (c.rated_at AT TIME ZONE s.tz)::date <= s.through", "$2")))
	}
	return "WITH s AS (SELECT through, tz FROM rating_rollup_state FOR SHARE), " + strings.Join(ctes, ", ") + " SELECT 1"
}()

// adjustRollup adds sign (1 or -1) times what the case counts to the
// rollup, when its day is rolled up already. A change to a rated case
// calls it with -1 before and 1 after; the share lock on the rollup state
// keeps a rebuild from counting the case between the two.
func adjustRollup(ctx context.Context, tx *tenants.Tx, caseNo string, sign int) error {
	if _, err := tx.Exec(ctx, rollupDelta, caseNo, sign); err != nil {
		return fmt.Errorf("ratings: rollup of %s: %w", caseNo, err)
	}
	return nil
}

// RebuildRollup rolls up again, from the first day of since's month (all
// of them when since is zero) up to and including the day before now, in
// tz; the nightly TaskRollup, and what an operator runs after fixing
// ratings by hand. A change of time zone rebuilds everything.
func RebuildRollup(ctx context.Context, tx *tenants.Tx, since, now time.Time, tz *time.Location) error {
	local := now.In(tz)
	throughEnd := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, tz)
	through := throughEnd.AddDate(0, 0, -1).Format(time.DateOnly)
	if _, err := tx.Exec(ctx, `INSERT INTO rating_rollup_state (tenant_id, through, tz) VALUES (current_tenant(), $1, $2)
		ON CONFLICT (tenant_id) DO NOTHING`, through, tz.String()); err != nil {
		return fmt.Errorf("ratings: rollup state: %w", err)
	}
	var oldTZ string
	if err := tx.QueryRow(ctx, "SELECT tz FROM rating_rollup_state FOR UPDATE").Scan(&oldTZ); err != nil {
		return fmt.Errorf("ratings: rollup state: %w", err)
	}
	if oldTZ != tz.String() {
		since = time.Time{}
	}
	var from *time.Time
	if !since.IsZero() {
		s := since.In(tz)
		m := time.Date(s.Year(), s.Month(), 1, 0, 0, 0, 0, tz)
		from = &m
	}
	for _, t := range rollupTables {
		if _, err := tx.Exec(ctx, "DELETE FROM "+t.name+" WHERE $1::timestamptz IS NULL OR month >= ($1::timestamptz AT TIME ZONE $2)::date",
			from, tz.String()); err != nil {
			return fmt.Errorf("ratings: rebuild rollup: %w", err)
		}
		if _, err := tx.Exec(ctx, t.rebuild(), from, throughEnd, tz.String()); err != nil {
			return fmt.Errorf("ratings: rebuild rollup: %w", err)
		}
	}
	if _, err := tx.Exec(ctx, "UPDATE rating_rollup_state SET through = $1, tz = $2, rebuilt_at = now()", through, tz.String()); err != nil {
		return fmt.Errorf("ratings: rebuild rollup: %w", err)
	}
	return nil
}

// rollUp is TaskRollup: the days since the last rollup, redoing the month
// that was still open then.
func (m *Module) rollUp(ctx context.Context, tx *tenants.Tx, now time.Time) error {
	tz, err := m.location(ctx)
	if err != nil {
		return err
	}
	var since time.Time
	err = tx.QueryRow(ctx, "SELECT through::timestamp FROM rating_rollup_state").Scan(&since)
	if err != nil && !isNoRows(err) {
		return fmt.Errorf("ratings: rollup state: %w", err)
	}
	if !since.IsZero() {
		since = time.Date(since.Year(), since.Month(), since.Day(), 12, 0, 0, 0, tz)
	}
	return RebuildRollup(ctx, tx, since, now, tz)
}

// rollupState is where the rollup stands: the first instant not rolled up.
type rollupState struct {
	end time.Time
	tz  string
}

func loadRollupState(ctx context.Context, q tenants.Querier) (*rollupState, error) {
	var (
		through time.Time
		tz      string
	)
	err := q.QueryRow(ctx, "SELECT through::timestamp, tz FROM rating_rollup_state").Scan(&through, &tz)
	if isNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ratings: rollup state: %w", err)
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, nil // a zone this build does not know: count from rating_cases
	}
	end := time.Date(through.Year(), through.Month(), through.Day(), 0, 0, 0, 0, loc).AddDate(0, 0, 1)
	return &rollupState{end: end, tz: tz}, nil
}
