package ratings

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"yamen/problem"
	"yamen/tenants"
)

// Groupings of the statistics.
const (
	ByDepartment = "department"
	ByRegion     = "region"
	ByChannel    = "channel"
	ByStaff      = "staff"
	ByDay        = "day"
	ByWeek       = "week"
	ByMonth      = "month"
)

// StatsFilter says what to count and how to group it.
type StatsFilter struct {
	By              string    `query:"by" required:"false" enum:"department,region,channel,staff,day,week,month" default:"department" doc:"分组：department 部门, region 下级区划, channel 评价渠道, staff 工作人员, day/week/month 日/周/月 (grouping)"`
	From            time.Time `query:"from" required:"false" doc:"评价时间起（含） (rated at or after)"`
	To              time.Time `query:"to" required:"false" doc:"评价时间止（不含） (rated before)"`
	Region          string    `query:"region" required:"false" pattern:"^[0-9]{6}([0-9]{3}([0-9]{3})?)?$" doc:"区划：只统计该区划内的办件；按区划分组时列出其下一级（逐级下钻到社区） (only cases in this region; by=region lists its children, down to communities)"`
	Department      string    `query:"department" required:"false" maxLength:"40" doc:"部门编码：只统计该部门 (only this department's cases)"`
	ExcludeDefaults bool      `query:"exclude_defaults" required:"false" doc:"不计系统默认评价 (leave the default ratings out)"`
}

// StatsRow is the figures of one group.
type StatsRow struct {
	Key  string `json:"key" doc:"分组值：部门编码、区划代码、渠道、人员、日期 (the group: department code, region code, channel, staff, date)"`
	Name string `json:"name"`
	// Drill is the query that opens the group one level down, when there is one.
	Drill            string  `json:"drill,omitempty" doc:"下钻查询参数 (query parameters one level down)"`
	Total            int     `json:"total" doc:"评价数 (ratings)"`
	VerySatisfied    int     `json:"very_satisfied" doc:"非常满意"`
	Satisfied        int     `json:"satisfied" doc:"满意"`
	Basic            int     `json:"basic" doc:"基本满意"`
	Dissatisfied     int     `json:"dissatisfied" doc:"不满意"`
	VeryDissatisfied int     `json:"very_dissatisfied" doc:"非常不满意"`
	Defaults         int     `json:"defaults" doc:"其中系统默认评价 (of which default ratings)"`
	Bad              int     `json:"bad" doc:"差评数 (bad ratings)"`
	Rectified        int     `json:"rectified" doc:"已整改反馈的差评 (bad ratings fed back)"`
	RectifiedInTime  int     `json:"rectified_in_time" doc:"按期整改反馈的差评 (fed back by the deadline)"`
	SatisfactionRate float64 `json:"satisfaction_rate" doc:"满意率：非常满意、满意、基本满意之和 / 评价数 (share rated 基本满意 or better)"`
	RectifyRate      float64 `json:"rectify_rate" doc:"差评整改率 (share of bad ratings fed back)"`
	TimelyRate       float64 `json:"timely_rate" doc:"差评整改及时率 (share of fed-back bad ratings fed back in time)"`
	DefaultShare     float64 `json:"default_share" doc:"默认评价占比 (share of default ratings)"`
}

// Stats is the statistics of a filter: the groups and their total.
type Stats struct {
	By    string     `json:"by"`
	Rows  []StatsRow `json:"rows"`
	Total StatsRow   `json:"total"`
}

// regionPrefix is what the codes of a region's subtree start with: the
// code itself, less the trailing 00 pairs of a 6-digit GB/T 2260 code
// (230600 → 2306).
func regionPrefix(code string) string {
	if len(code) != 6 {
		return code
	}
	p := code
	for len(p) > 2 && strings.HasSuffix(p, "00") {
		p = p[:len(p)-2]
	}
	return p
}

const statsAggregates = `count(*),
	count(*) FILTER (WHERE level = 5), count(*) FILTER (WHERE level = 4), count(*) FILTER (WHERE level = 3),
	count(*) FILTER (WHERE level = 2), count(*) FILTER (WHERE level = 1), count(*) FILTER (WHERE is_default),
	count(*) FILTER (WHERE level <= 2),
	count(*) FILTER (WHERE level <= 2 AND rectify_status IN ('fed_back', 'closed')),
	count(*) FILTER (WHERE level <= 2 AND rectify_status IN ('fed_back', 'closed') AND rectified_in_time)`

// GetStats counts the tenant's ratings (appeals upheld left out) by the
// filter's grouping.
func GetStats(ctx context.Context, q tenants.Querier, f StatsFilter, tz *time.Location) (Stats, error) {
	if f.By == "" {
		f.By = ByDepartment
	}
	where := []string{"level IS NOT NULL", "NOT excluded"}
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if !f.From.IsZero() {
		where = append(where, "rated_at >= "+arg(f.From))
	}
	if !f.To.IsZero() {
		where = append(where, "rated_at < "+arg(f.To))
	}
	if f.ExcludeDefaults {
		where = append(where, "NOT is_default")
	}
	// the rollup's filters: the same but for the period, which
	// rollupStatsSQL splits
	var rollWhere []string
	if f.Department != "" {
		where = append(where, "department_code = "+arg(f.Department))
		rollWhere = append(rollWhere, where[len(where)-1])
	}
	region := f.Region
	if region == "" && f.By == ByRegion {
		if err := q.QueryRow(ctx, "SELECT region_code FROM tenants WHERE id = current_tenant()").Scan(&region); err != nil {
			return Stats{}, fmt.Errorf("ratings: stats: tenant region: %w", err)
		}
	}
	if region != "" {
		// A range, not LIKE: row level security lets only leakproof
		// operators reach an index, and LIKE is not one.
		lo := regionPrefix(region)
		hi := lo[:len(lo)-1] + string(lo[len(lo)-1]+1)
		where = append(where, "region_code ~>=~ "+arg(lo), "region_code ~<~ "+arg(hi))
		rollWhere = append(rollWhere, where[len(where)-2:]...)
	}
	var key, name, rollKey, rollName string
	children := map[string]string{} // prefix → code, for by=region
	names := map[string]string{}
	switch f.By {
	case ByDepartment:
		key, name = "department_code", "max(department_name)"
		rollKey, rollName = key, name
	case ByChannel:
		key, name = "rating_channel", "''"
		if f.Department == "" {
			// rating_rollup_channel has no departments
			rollKey, rollName = key, name
		}
	case ByStaff:
		key, name = "coalesce(staff_member_id::text, staff_name)", "max(staff_name)"
	case ByDay, ByWeek, ByMonth:
		key, name = fmt.Sprintf("to_char(date_trunc('%s', rated_at AT TIME ZONE %s), 'YYYY-MM-DD')", f.By, arg(tz.String())), "''"
		if f.By == ByMonth {
			rollKey, rollName = "to_char(month, 'YYYY-MM-DD')", "''"
		}
	case ByRegion:
		rows, err := q.Query(ctx, "SELECT code, name FROM regions WHERE parent_code = $1 ORDER BY code", region)
		if err != nil {
			return Stats{}, fmt.Errorf("ratings: stats: regions: %w", err)
		}
		n := 0
		for rows.Next() {
			var code, nm string
			if err := rows.Scan(&code, &nm); err != nil {
				rows.Close()
				return Stats{}, fmt.Errorf("ratings: stats: regions: %w", err)
			}
			children[regionPrefix(code)] = code
			names[code] = nm
			n = len(regionPrefix(code))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return Stats{}, fmt.Errorf("ratings: stats: regions: %w", err)
		}
		if len(children) == 0 {
			return Stats{}, problem.InvalidField("query.region", "该区划没有下级区划，不能再下钻 (the region has no children to drill down to)", region)
		}
		key, name = fmt.Sprintf("left(region_code, %d)", n), "''"
		rollKey, rollName = key, name
	default:
		return Stats{}, problem.InvalidField("query.by", "不支持的分组 (unknown grouping)", f.By)
	}
	sql := "SELECT " + key + ", " + name + ", " + statsAggregates + " FROM rating_cases WHERE " + strings.Join(where, " AND ") + " GROUP BY 1 ORDER BY 1"
	if rollKey != "" {
		st, err := loadRollupState(ctx, q)
		if err != nil {
			return Stats{}, err
		}
		if st != nil && st.tz == tz.String() {
			sql = rollupStatsSQL(f, tz, st, key, name, rollKey, rollName, where, rollWhere, arg)
		}
	}
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return Stats{}, fmt.Errorf("ratings: stats: %w", err)
	}
	defer rows.Close()
	out := Stats{By: f.By, Rows: []StatsRow{}}
	byKey := map[string]int{}
	for rows.Next() {
		var r StatsRow
		var k *string
		if err := rows.Scan(&k, &r.Name, &r.Total, &r.VerySatisfied, &r.Satisfied, &r.Basic, &r.Dissatisfied, &r.VeryDissatisfied,
			&r.Defaults, &r.Bad, &r.Rectified, &r.RectifiedInTime); err != nil {
			return Stats{}, fmt.Errorf("ratings: stats: %w", err)
		}
		if k != nil {
			r.Key = *k
		}
		switch f.By {
		case ByRegion:
			code, ok := children[r.Key]
			if !ok {
				// Cases filed at the parent's own level, or under a code
				// the regions table does not list: counted in the total.
				code = ""
			}
			r.Key, r.Name = code, names[code]
			if code == "" {
				r.Name = "本级及未列明区划 (the region itself, or unlisted)"
			} else if len(code) < 12 {
				r.Drill = "by=region&region=" + code
			}
		case ByDepartment:
			r.Drill = "by=staff&department=" + r.Key
		}
		if i, ok := byKey[r.Key]; ok {
			out.Rows[i] = sumRows(out.Rows[i], r)
			continue
		}
		byKey[r.Key] = len(out.Rows)
		out.Rows = append(out.Rows, r)
	}
	if err := rows.Err(); err != nil {
		return Stats{}, fmt.Errorf("ratings: stats: %w", err)
	}
	total := StatsRow{Key: "total", Name: "合计 (total)"}
	for i := range out.Rows {
		total = sumRows(total, out.Rows[i])
		out.Rows[i].rates()
	}
	total.Key, total.Name, total.Drill = "total", "合计 (total)", ""
	total.rates()
	out.Total = total
	return out, nil
}

func sumRows(a, b StatsRow) StatsRow {
	a.Total += b.Total
	a.VerySatisfied += b.VerySatisfied
	a.Satisfied += b.Satisfied
	a.Basic += b.Basic
	a.Dissatisfied += b.Dissatisfied
	a.VeryDissatisfied += b.VeryDissatisfied
	a.Defaults += b.Defaults
	a.Bad += b.Bad
	a.Rectified += b.Rectified
	a.RectifiedInTime += b.RectifiedInTime
	return a
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(int(float64(a)/float64(b)*10000+0.5)) / 10000
}

func (r *StatsRow) rates() {
	r.SatisfactionRate = ratio(r.VerySatisfied+r.Satisfied+r.Basic, r.Total)
	r.RectifyRate = ratio(r.Rectified, r.Bad)
	r.TimelyRate = ratio(r.RectifiedInTime, r.Rectified)
	r.DefaultShare = ratio(r.Defaults, r.Total)
}

// PublicSummary is what the portal shows (seed 004 公示功能): the figures
// and the rectifications with their second ratings, without anyone's
// personal data.
type PublicSummary struct {
	Total          StatsRow              `json:"total"`
	Rectifications []PublicRectification `json:"rectifications"`
}

// PublicRectification is a published rectification.
type PublicRectification struct {
	ItemName       string    `json:"item_name"`
	DepartmentName string    `json:"department_name"`
	Level          string    `json:"level"`
	Tags           []string  `json:"tags"`
	Outcome        string    `json:"outcome"`
	Feedback       string    `json:"feedback"`
	SecondRating   string    `json:"second_rating" doc:"二次评价 (the citizen's second rating)"`
	ClosedAt       time.Time `json:"closed_at"`
}

// GetPublicSummary returns the summary of the last year.
func GetPublicSummary(ctx context.Context, q tenants.Querier, now time.Time, tz *time.Location) (PublicSummary, error) {
	st, err := GetStats(ctx, q, StatsFilter{By: ByChannel, From: now.AddDate(-1, 0, 0)}, tz)
	if err != nil {
		return PublicSummary{}, err
	}
	out := PublicSummary{Total: st.Total, Rectifications: []PublicRectification{}}
	rows, err := q.Query(ctx, `SELECT c.item_name, r.department_name, c.level, c.tags, coalesce(r.outcome, ''), r.feedback, r.second_rating, r.second_rated_at
		FROM rating_rectifications r JOIN rating_cases c ON c.id = r.case_id
		WHERE r.status = 'closed' AND r.second_rating IS NOT NULL AND NOT c.excluded
		ORDER BY r.second_rated_at DESC LIMIT 20`)
	if err != nil {
		return PublicSummary{}, fmt.Errorf("ratings: public summary: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p PublicRectification
		var level int16
		if err := rows.Scan(&p.ItemName, &p.DepartmentName, &level, &p.Tags, &p.Outcome, &p.Feedback, &p.SecondRating, &p.ClosedAt); err != nil {
			return PublicSummary{}, fmt.Errorf("ratings: public summary: %w", err)
		}
		p.Level = LevelNames[int(level)]
		out.Rectifications = append(out.Rectifications, p)
	}
	return out, rows.Err()
}

// rollupStatsSQL counts the months of the period that the rollup holds
// from rating_rollup, and the rest — the partial months at the edges of the
// period, the days not rolled up yet — from rating_cases, in one query.
func rollupStatsSQL(f StatsFilter, tz *time.Location, st *rollupState, key, name, rollKey, rollName string,
	where, rollWhere []string, arg func(any) string) string {
	// the rollup covers [coverStart, coverEnd); coverStart zero: from the first month
	var coverStart time.Time
	if !f.From.IsZero() {
		l := f.From.In(tz)
		coverStart = time.Date(l.Year(), l.Month(), 1, 0, 0, 0, 0, tz)
		if coverStart.Before(f.From) {
			coverStart = coverStart.AddDate(0, 1, 0)
		}
	}
	coverEnd := st.end
	if !f.To.IsZero() && f.To.Before(coverEnd) {
		l := f.To.In(tz)
		coverEnd = time.Date(l.Year(), l.Month(), 1, 0, 0, 0, 0, tz)
	}
	base := func(extra string) string {
		return "SELECT " + key + ", " + name + ", " + statsAggregates + " FROM rating_cases WHERE " + strings.Join(append(slices.Clone(where), extra), " AND ") + " GROUP BY 1"
	}
	if !coverStart.IsZero() && !coverStart.Before(coverEnd) {
		return base("true") + " ORDER BY 1"
	}
	parts := []string{base("rated_at >= " + arg(coverEnd))}
	rw := append(slices.Clone(rollWhere), "month < "+arg(coverEnd.Format(time.DateOnly))+"::date")
	if !coverStart.IsZero() {
		parts = append(parts, base("rated_at < "+arg(coverStart)))
		rw = append(rw, "month >= "+arg(coverStart.Format(time.DateOnly))+"::date")
	}
	counts := "sum(total), sum(very_satisfied), sum(satisfied), sum(basic), sum(dissatisfied), sum(very_dissatisfied), sum(defaults), " +
		"sum(dissatisfied + very_dissatisfied), sum(rectified), sum(rectified_in_time)"
	if f.ExcludeDefaults {
		// the defaults are 基本满意 ratings
		counts = "sum(total - defaults), sum(very_satisfied), sum(satisfied), sum(basic - defaults), sum(dissatisfied), sum(very_dissatisfied), 0, " +
			"sum(dissatisfied + very_dissatisfied), sum(rectified), sum(rectified_in_time)"
	}
	// Both rollups count the same ratings; without a department to group
	// or filter by, the one by channel (a handful of channels against tens
	// of departments) has the fewer rows to add up.
	table := "rating_rollup"
	if f.By != ByDepartment && f.Department == "" {
		table = "rating_rollup_channel"
	}
	parts = append(parts, "SELECT "+rollKey+", "+rollName+", "+counts+" FROM "+table+" WHERE "+strings.Join(rw, " AND ")+" GROUP BY 1")
	return `SELECT k, max(nm), sum(total)::bigint, sum(l5)::bigint, sum(l4)::bigint, sum(l3)::bigint, sum(l2)::bigint, sum(l1)::bigint,
		sum(dflt)::bigint, sum(bad)::bigint, sum(rect)::bigint, sum(rit)::bigint
		FROM (` + strings.Join(parts, " UNION ALL ") + `) AS u (k, nm, total, l5, l4, l3, l2, l1, dflt, bad, rect, rit) GROUP BY k ORDER BY k`
}
