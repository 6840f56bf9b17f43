package ratings_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"yamen/infra/demo"
	"yamen/modules"
	"yamen/modules/files/filestest"
	"yamen/modules/ratings"
	"yamen/problem"
	"yamen/tenants"
	"yamen/tenants/calendar"
	"yamen/tenants/tenanttest"
)

var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}()

// at is a time of a day in Shanghai.
func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

type bundle struct {
	db     *tenants.DB
	m      *ratings.Module
	tenant tenants.Tenant
}

// setup gives a provisioned module, the 2026 calendar (国庆 across the
// first week of October, 10 October worked) and a hall tenant of its own.
func setup(t *testing.T) *bundle {
	t.Helper()
	db := tenanttest.DB(t)
	var days []tenants.CalendarDay
	for _, d := range demo.CalendarDays() {
		if d.Day.Year() == 2026 {
			days = append(days, d)
		}
	}
	require.NoError(t, db.UpsertCalendar(context.Background(), days))
	m := ratings.New(ratings.WithCalendar(calendar.New(db, shanghai)))
	require.NoError(t, m.Provision(context.Background(), modules.Env{DB: db.Pool, Setting: filestest.Setting}))
	t.Cleanup(func() { _ = m.Cleanup() })
	return &bundle{db: db, m: m, tenant: tenanttest.Tenant(t, tenants.KindAffairsHall, "messages", "ratings")}
}

func (b *bundle) tx(t *testing.T, fn func(tx *tenants.Tx) error) error {
	t.Helper()
	return b.db.Tx(context.Background(), b.tenant.ID, tenants.System().String(), fn)
}

func newCase(no string, handled time.Time) ratings.NewCase {
	return ratings.NewCase{CaseNo: no, ItemCode: "ITEM-1", ItemName: "户口迁移𠀀", DepartmentCode: "GA", DepartmentName: "公安局䶮",
		StaffName: "张三", RegionCode: tenanttest.DistrictCode, Channel: "window", CitizenName: "李四", CitizenPhone: "13812345678", HandledAt: handled}
}

func (b *bundle) push(t *testing.T, in ratings.NewCase, now time.Time) ratings.Case {
	t.Helper()
	var c ratings.Case
	require.NoError(t, b.tx(t, func(tx *tenants.Tx) error {
		var err error
		c, err = b.m.CreateCase(context.Background(), tx, in, now)
		return err
	}))
	return c
}

func requireStatus(t *testing.T, err error, status int) *problem.Error {
	t.Helper()
	pe, ok := problem.As(err)
	require.True(t, ok, "want a problem, got %v", err)
	require.Equal(t, status, pe.Status, pe.Error())
	return pe
}

func TestCasePushedTwiceChangesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	now := time.Now()
	first := b.push(t, newCase("A-1", now.Add(-time.Hour)), now)
	require.True(t, first.Created)
	again := newCase("A-1", now.Add(-2*time.Hour))
	again.ItemName = "另一个事项"
	second := b.push(t, again, now)
	require.False(t, second.Created)
	require.Equal(t, first.ID, second.ID)
	require.Equal(t, "户口迁移𠀀", second.ItemName, "GB18030 text kept, nothing changed")

	var defaults int
	require.NoError(t, b.tx(t, func(tx *tenants.Tx) error {
		return tx.QueryRow(context.Background(), "SELECT count(*) FROM outbox WHERE task_type = 'ratings:default'").Scan(&defaults)
	}))
	require.Equal(t, 1, defaults, "one default rating scheduled")

	err := b.tx(t, func(tx *tenants.Tx) error {
		bad := newCase("A-2", now.Add(time.Hour))
		bad.RegionCode = "123456"
		_, err := b.m.CreateCase(context.Background(), tx, bad, now)
		return err
	})
	pe := requireStatus(t, err, http.StatusUnprocessableEntity)
	var locs []string
	for _, f := range pe.Fields {
		locs = append(locs, f.Location)
	}
	require.ElementsMatch(t, []string{"body.region_code", "body.handled_at"}, locs)
}

func TestDifferentTenantSeesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	now := time.Now()
	b.push(t, newCase("ISO-1", now.Add(-time.Hour)), now)
	other := tenanttest.Tenant(t, tenants.KindAffairsHall, "messages", "ratings")
	r, err := b.db.Reader(other.ID, "system")
	require.NoError(t, err)
	_, err = ratings.GetCase(context.Background(), r, "ISO-1")
	requireStatus(t, err, http.StatusNotFound)
	cases, err := ratings.ListCases(context.Background(), r, ratings.CaseFilter{})
	require.NoError(t, err)
	require.Empty(t, cases)
	st, err := ratings.GetStats(context.Background(), r, ratings.StatsFilter{}, shanghai)
	require.NoError(t, err)
	require.Zero(t, st.Total.Total)
	pending, err := ratings.Unacknowledged(context.Background(), r, 100)
	require.NoError(t, err)
	require.Empty(t, pending)
	// and the same case number is free in the other tenant
	require.NoError(t, b.db.Tx(context.Background(), other.ID, "system", func(tx *tenants.Tx) error {
		c, err := b.m.CreateCase(context.Background(), tx, newCase("ISO-1", now.Add(-time.Hour)), now)
		require.True(t, c.Created)
		return err
	}))
}

// people makes a department org with a manager holding ratings:rectify, a
// clerk without it, and a catalogue department linked to the org.
type people struct {
	manager, clerk, department uuid.UUID
}

func (b *bundle) people(t *testing.T) people {
	t.Helper()
	var p people
	ctx := context.Background()
	require.NoError(t, b.tx(t, func(tx *tenants.Tx) error {
		org, err := tenants.CreateOrg(ctx, tx, tenants.NewOrg{Code: "ga", Name: "公安窗口", Kind: "department"})
		if err != nil {
			return err
		}
		sub, err := tenants.CreateOrg(ctx, tx, tenants.NewOrg{ParentID: &org.ID, Code: "ga-1", Name: "户籍组", Kind: "team"})
		if err != nil {
			return err
		}
		role, err := tenants.CreateRole(ctx, tx, tenants.NewRole{Name: "科长", Permissions: []string{"ratings:rectify", "ratings:read"}, DataScope: "org_subtree"})
		if err != nil {
			return err
		}
		phone1, phone2 := "13900000001", "13900000002"
		mgr, err := tenants.CreateMember(ctx, tx, tenants.NewMember{OrgID: sub.ID, Name: "王科长", Phone: &phone1, RoleIDs: []uuid.UUID{role.ID}})
		if err != nil {
			return err
		}
		clerk, err := tenants.CreateMember(ctx, tx, tenants.NewMember{OrgID: sub.ID, Name: "赵办事员", Phone: &phone2})
		if err != nil {
			return err
		}
		var hall uuid.UUID
		if err := tx.QueryRow(ctx, `INSERT INTO catalog_halls (tenant_id, code, name, region_code) VALUES (current_tenant(), 'H1', '政务服务中心', $1) RETURNING id`,
			tenanttest.DistrictCode).Scan(&hall); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO catalog_departments (tenant_id, hall_id, code, name, org_id) VALUES (current_tenant(), $1, 'GA', '公安局', $2) RETURNING id`,
			hall, org.ID).Scan(&p.department); err != nil {
			return err
		}
		p.manager, p.clerk = mgr.ID, clerk.ID
		return nil
	}))
	return p
}

func (b *bundle) rate(t *testing.T, no string, in ratings.RateInput, now time.Time) (ratings.Case, error) {
	t.Helper()
	var c ratings.Case
	err := b.tx(t, func(tx *tenants.Tx) error {
		var err error
		c, err = b.m.Rate(context.Background(), tx, no, in, ratings.Rater{Subject: "system"}, now)
		return err
	})
	return c, err
}

// A bad rating needs a tag of its level; with one it opens a rectification
// due 5 working days on — across 国庆 and its make-up Saturday — and
// notifies the department's manager in-app and by SMS, not the clerk.
func TestBadRatingOpensRectificationAcrossHoliday(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.people(t)
	rated := at("2026-09-30 10:00")
	in := newCase("BAD-1", rated.Add(-time.Hour))
	in.DepartmentID = &p.department
	b.push(t, in, rated)

	_, err := b.rate(t, "BAD-1", ratings.RateInput{Level: 2, Channel: "app"}, rated)
	pe := requireStatus(t, err, http.StatusUnprocessableEntity)
	require.Equal(t, "body.tags", pe.Fields[0].Location)
	_, err = b.rate(t, "BAD-1", ratings.RateInput{Level: 1, Tags: []string{"207", "nope"}, Channel: "app"}, rated)
	pe = requireStatus(t, err, http.StatusUnprocessableEntity)
	require.Len(t, pe.Fields, 2, "207 is a tag of 不满意, nope is no tag: %v", pe.Fields)

	c, err := b.rate(t, "BAD-1", ratings.RateInput{Level: 2, Tags: []string{"207", "209"}, Channel: "app", Comment: "材料样本没有"}, rated)
	require.NoError(t, err)
	require.Equal(t, "不满意", c.Rating.LevelName)
	_, err = b.rate(t, "BAD-1", ratings.RateInput{Level: 5, Channel: "app"}, rated)
	requireStatus(t, err, http.StatusConflict)

	r, err := ratings.GetRectification(context.Background(), b.db.Pool, "BAD-1")
	_ = r
	require.Error(t, err, "the pool has no tenant: row level security shows nothing")
	rd, err := b.db.Reader(b.tenant.ID, "system")
	require.NoError(t, err)
	r, err = ratings.GetRectification(context.Background(), rd, "BAD-1")
	require.NoError(t, err)
	require.Equal(t, "open", r.Status)
	// Wed 30 Sep + 5 working days: 8, 9, 10 (Saturday worked), 12, 13 October.
	require.Equal(t, at("2026-10-13 10:00"), r.Deadline.In(shanghai))
	require.Equal(t, 1, r.Notified)

	rows, err := rd.Query(context.Background(), "SELECT recipient_id, channel::text FROM message_deliveries ORDER BY channel")
	require.NoError(t, err)
	var got []string
	for rows.Next() {
		var id uuid.UUID
		var ch string
		require.NoError(t, rows.Scan(&id, &ch))
		require.Equal(t, p.manager, id, "only the holder of ratings:rectify")
		got = append(got, ch)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{"in_app", "sms"}, got)

	// Fed back on the deadline's day: in time; then the citizen's second
	// rating closes it and publishes it.
	require.NoError(t, b.tx(t, func(tx *tenants.Tx) error {
		r, err := b.m.GiveFeedback(context.Background(), tx, "BAD-1", ratings.Feedback{Outcome: ratings.OutcomeByDeadline, Feedback: "已补充材料样本"}, at("2026-10-13 09:00"))
		require.True(t, *r.InTime)
		return err
	}))
	require.NoError(t, b.tx(t, func(tx *tenants.Tx) error {
		_, err := b.m.RateSecond(context.Background(), tx, "BAD-1", ratings.SecondRatingInput{Rating: "satisfied"}, ratings.Rater{Subject: "system"}, at("2026-10-14 09:00"))
		return err
	}))
	sum, err := ratings.GetPublicSummary(context.Background(), rd, at("2026-10-15 09:00"), shanghai)
	require.NoError(t, err)
	require.Len(t, sum.Rectifications, 1)
	require.Equal(t, "satisfied", sum.Rectifications[0].SecondRating)
	st, err := ratings.GetStats(context.Background(), rd, ratings.StatsFilter{}, shanghai)
	require.NoError(t, err)
	require.Equal(t, 1, st.Total.Bad)
	require.Equal(t, 1, st.Total.Rectified)
	require.Equal(t, 1.0, st.Total.TimelyRate)
}

// An upheld appeal takes the rating out of the statistics, audited.
func TestUpheldAppealLeavesStatistics(t *testing.T) {
	t.Parallel()
	b := setup(t)
	now := time.Now()
	b.push(t, newCase("AP-1", now.Add(-time.Hour)), now)
	_, err := b.rate(t, "AP-1", ratings.RateInput{Level: 1, Tags: []string{"115"}, Channel: "kiosk"}, now)
	require.NoError(t, err)
	rd, err := b.db.Reader(b.tenant.ID, "system")
	require.NoError(t, err)
	st, err := ratings.GetStats(context.Background(), rd, ratings.StatsFilter{}, shanghai)
	require.NoError(t, err)
	require.Equal(t, 1, st.Total.VeryDissatisfied)
	require.NoError(t, b.tx(t, func(tx *tenants.Tx) error {
		_, err := b.m.GiveFeedback(context.Background(), tx, "AP-1", ratings.Feedback{Outcome: ratings.OutcomeAppealed, Feedback: "评价人误操作"}, now)
		return err
	}))
	require.NoError(t, b.tx(t, func(tx *tenants.Tx) error {
		r, err := b.m.DecideAppeal(context.Background(), tx, "AP-1", ratings.AppealDecision{Upheld: true, Note: "核实为误评"}, now)
		require.Equal(t, "closed", r.Status)
		return err
	}))
	st, err = ratings.GetStats(context.Background(), rd, ratings.StatsFilter{}, shanghai)
	require.NoError(t, err)
	require.Zero(t, st.Total.Total)
	var audited int
	require.NoError(t, rd.QueryRow(context.Background(), "SELECT count(*) FROM audit_log WHERE action = 'ratings.appeal.decide' AND target = 'AP-1'").Scan(&audited))
	require.Equal(t, 1, audited)
}

// Seed 004: a follow-up within 5 working days of the rating. Rated on 30
// September, the fifth working day is 13 October (国庆 in between).
func TestFollowUpWithinFiveWorkingDays(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rated := at("2026-09-30 16:00")
	for _, no := range []string{"FU-5", "FU-6"} {
		b.push(t, newCase(no, rated.Add(-time.Hour)), rated)
		_, err := b.rate(t, no, ratings.RateInput{Level: 4, Tags: []string{"406"}, Channel: "pc"}, rated)
		require.NoError(t, err)
	}
	follow := func(no string, now time.Time) error {
		return b.tx(t, func(tx *tenants.Tx) error {
			_, err := b.m.AddFollowUp(context.Background(), tx, no, ratings.FollowUpInput{Comment: "补充：窗口人员很耐心"}, ratings.Rater{Subject: "system"}, now)
			return err
		})
	}
	require.NoError(t, follow("FU-5", at("2026-10-13 23:00")), "working day 5")
	err := follow("FU-6", at("2026-10-14 08:00"))
	pe := requireStatus(t, err, http.StatusConflict)
	require.Contains(t, pe.Detail, "2026-10-13", "says until when")
	requireStatus(t, follow("FU-5", at("2026-10-13 23:30")), http.StatusConflict) // only one follow-up
}

// The default rating: due after 7 natural days, not before; a rated case
// is left alone.
func TestDefaultRatingAfterSevenDays(t *testing.T) {
	t.Parallel()
	b := setup(t)
	now := time.Now()
	b.push(t, newCase("D-8", now.AddDate(0, 0, -8)), now)
	b.push(t, newCase("D-6", now.AddDate(0, 0, -6)), now)
	b.push(t, newCase("D-R", now.AddDate(0, 0, -9)), now)
	_, err := b.rate(t, "D-R", ratings.RateInput{Level: 5, Channel: "sms"}, now)
	require.NoError(t, err)
	var n int
	require.NoError(t, b.tx(t, func(tx *tenants.Tx) error {
		n, err = b.m.Sweep(context.Background(), tx, now, 100)
		return err
	}))
	require.Equal(t, 1, n)
	rd, err := b.db.Reader(b.tenant.ID, "system")
	require.NoError(t, err)
	c, err := ratings.GetCase(context.Background(), rd, "D-8")
	require.NoError(t, err)
	require.True(t, c.Rating.Default)
	require.Equal(t, "基本满意", c.Rating.LevelName)
	c, err = ratings.GetCase(context.Background(), rd, "D-6")
	require.NoError(t, err)
	require.Nil(t, c.Rating)
	c, err = ratings.GetCase(context.Background(), rd, "D-R")
	require.NoError(t, err)
	require.False(t, c.Rating.Default)
	st, err := ratings.GetStats(context.Background(), rd, ratings.StatsFilter{}, shanghai)
	require.NoError(t, err)
	require.Equal(t, 2, st.Total.Total)
	require.Equal(t, 1, st.Total.Defaults)
	st, err = ratings.GetStats(context.Background(), rd, ratings.StatsFilter{ExcludeDefaults: true}, shanghai)
	require.NoError(t, err)
	require.Equal(t, 1, st.Total.Total)
}

func TestTagsEditablePerTenant(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rd, err := b.db.Reader(b.tenant.ID, "system")
	require.NoError(t, err)
	tags, err := ratings.ListTags(context.Background(), rd)
	require.NoError(t, err)
	codes := map[string]ratings.Tag{}
	for _, tg := range tags {
		codes[tg.Code] = tg
	}
	for _, c := range []string{"510", "511", "512", "406", "407", "408", "307", "308", "309", "207", "208", "209", "108", "109", "110", "115"} {
		require.True(t, codes[c].SeedCode, "seed 004 code %s", c)
	}
	require.Equal(t, "服务态度差效率低", codes["115"].Name)
	require.Equal(t, 1, codes["115"].Level)

	off := false
	require.NoError(t, b.tx(t, func(tx *tenants.Tx) error {
		_, err := ratings.PutTag(context.Background(), tx, "207", ratings.TagEdit{Level: 2, Name: "没有提供材料样本", Active: &off})
		if err != nil {
			return err
		}
		_, err = ratings.PutTag(context.Background(), tx, "T01", ratings.TagEdit{Level: 2, Name: "排队时间过长"})
		return err
	}))
	now := time.Now()
	b.push(t, newCase("TG-1", now.Add(-time.Hour)), now)
	_, err = b.rate(t, "TG-1", ratings.RateInput{Level: 2, Tags: []string{"207"}, Channel: "pc"}, now)
	requireStatus(t, err, http.StatusUnprocessableEntity)
	_, err = b.rate(t, "TG-1", ratings.RateInput{Level: 2, Tags: []string{"T01"}, Channel: "pc"}, now)
	require.NoError(t, err)

	other := tenanttest.Tenant(t, tenants.KindAffairsHall, "messages", "ratings")
	ro, err := b.db.Reader(other.ID, "system")
	require.NoError(t, err)
	tags, err = ratings.ListTags(context.Background(), ro)
	require.NoError(t, err)
	for _, tg := range tags {
		require.NotEqual(t, "T01", tg.Code, "another tenant's tag")
		if tg.Code == "207" {
			require.True(t, tg.Active)
		}
	}
}

// Statistics agree with a direct SQL count on generated data, for every
// grouping and the region drill-down, through the rollup and its
// adjustments: defaults, an upheld appeal, rectification counters, and
// periods that cut months in two.
func TestStatisticsAgreeWithDirectCount(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	towns := []string{tenanttest.DistrictCode + "001", tenanttest.DistrictCode + "002"}
	c := tenanttest.DistrictCode
	var rs []tenants.Region
	for i, town := range towns {
		rs = append(rs, tenants.Region{Code: town, Name: fmt.Sprintf("测试街道%d", i), ParentCode: &c, Level: 4})
	}
	for i, town := range towns {
		for j := 1; j <= 3; j++ {
			tc := town
			rs = append(rs, tenants.Region{Code: fmt.Sprintf("%s%03d", town, j), Name: fmt.Sprintf("社区%d-%d", i, j), ParentCode: &tc, Level: 5})
		}
	}
	require.NoError(t, b.db.UpsertRegions(ctx, rs))
	now := time.Now()
	require.NoError(t, b.tx(t, func(tx *tenants.Tx) error {
		if err := ratings.GenerateRatings(ctx, tx, 5000, now); err != nil {
			return err
		}
		// the days before today into the rollup; today stays in rating_cases
		return ratings.RebuildRollup(ctx, tx, time.Time{}, now, shanghai)
	}))
	// Changes to ratings already rolled up adjust the rollup: ratings given
	// with a past time (a good one, two bad ones, a default), a
	// department's feedback, an upheld appeal.
	past := now.AddDate(0, 0, -40)
	for _, no := range []string{"RU-GOOD", "RU-BAD", "RU-APPEAL", "RU-DEFAULT"} {
		in := newCase(no, past.Add(-time.Hour))
		in.RegionCode = towns[0] + "001"
		b.push(t, in, past)
	}
	_, err := b.rate(t, "RU-GOOD", ratings.RateInput{Level: 4, Channel: "app"}, past)
	require.NoError(t, err)
	for _, no := range []string{"RU-BAD", "RU-APPEAL"} {
		_, err = b.rate(t, no, ratings.RateInput{Level: 1, Tags: []string{"115"}, Channel: "pc"}, past)
		require.NoError(t, err)
	}
	require.NoError(t, b.tx(t, func(tx *tenants.Tx) error {
		if _, err := b.m.GiveFeedback(ctx, tx, "RU-BAD", ratings.Feedback{Outcome: ratings.OutcomeAtOnce, Feedback: "已当场整改"}, past.Add(time.Hour)); err != nil {
			return err
		}
		if _, err := b.m.GiveFeedback(ctx, tx, "RU-APPEAL", ratings.Feedback{Outcome: ratings.OutcomeAppealed, Feedback: "评价人误操作"}, past.Add(time.Hour)); err != nil {
			return err
		}
		if _, err := b.m.DecideAppeal(ctx, tx, "RU-APPEAL", ratings.AppealDecision{Upheld: true, Note: "核实为误评"}, past.Add(2*time.Hour)); err != nil {
			return err
		}
		ok, err := b.m.DefaultRating(ctx, tx, "RU-DEFAULT", past.AddDate(0, 0, 8))
		require.True(t, ok)
		return err
	}))
	rd, err := b.db.Reader(b.tenant.ID, "system")
	require.NoError(t, err)

	direct := func(where string, args ...any) int {
		var n int
		require.NoError(t, rd.QueryRow(ctx, "SELECT count(*) FROM rating_cases WHERE level IS NOT NULL AND NOT excluded AND "+where, args...).Scan(&n))
		return n
	}
	st, err := ratings.GetStats(ctx, rd, ratings.StatsFilter{By: ratings.ByDepartment}, shanghai)
	require.NoError(t, err)
	require.Equal(t, direct("true"), st.Total.Total)
	require.Equal(t, direct("level >= 3"), st.Total.VerySatisfied+st.Total.Satisfied+st.Total.Basic)
	const fedBack = "level <= 2 AND rectify_status IN ('fed_back', 'closed')"
	require.Equal(t, direct("is_default"), st.Total.Defaults)
	require.Equal(t, direct("level <= 2"), st.Total.Bad)
	require.Equal(t, direct(fedBack), st.Total.Rectified)
	require.Equal(t, direct(fedBack+" AND rectified_in_time"), st.Total.RectifiedInTime)
	for _, r := range st.Rows {
		require.Equal(t, direct("department_code = $1", r.Key), r.Total, r.Key)
		require.Equal(t, direct("department_code = $1 AND level = 1", r.Key), r.VeryDissatisfied, r.Key)
		require.Equal(t, direct("department_code = $1 AND is_default", r.Key), r.Defaults, r.Key)
		require.Equal(t, direct("department_code = $1 AND "+fedBack, r.Key), r.Rectified, r.Key)
		require.Equal(t, direct("department_code = $1 AND "+fedBack+" AND rectified_in_time", r.Key), r.RectifiedInTime, r.Key)
	}
	// the department of the RU- cases: the appealed rating is out
	ga := st.Rows[slices.IndexFunc(st.Rows, func(r ratings.StatsRow) bool { return r.Key == "GA" })]
	require.Equal(t, 3, ga.Total)
	require.Equal(t, 1, ga.Defaults)
	require.Equal(t, 1, ga.VeryDissatisfied)
	require.Equal(t, 1, ga.Rectified)
	require.Equal(t, 1, ga.RectifiedInTime)
	// periods that cut months in two: their edges are counted from rating_cases
	from, to := now.AddDate(0, 0, -75).Add(3*time.Hour), now.AddDate(0, 0, -20).Add(5*time.Hour)
	st, err = ratings.GetStats(ctx, rd, ratings.StatsFilter{By: ratings.ByMonth, From: from, To: to}, shanghai)
	require.NoError(t, err)
	require.Equal(t, direct("rated_at >= $1 AND rated_at < $2", from, to), st.Total.Total)
	for _, r := range st.Rows {
		m, err := time.ParseInLocation(time.DateOnly, r.Key, shanghai)
		require.NoError(t, err)
		require.Equal(t, direct("rated_at >= greatest($1, $3::timestamptz) AND rated_at < least($2, $4::timestamptz)", from, to, m, m.AddDate(0, 1, 0)), r.Total, r.Key)
	}
	st, err = ratings.GetStats(ctx, rd, ratings.StatsFilter{By: ratings.ByChannel, From: from, ExcludeDefaults: true}, shanghai)
	require.NoError(t, err)
	for _, r := range st.Rows {
		require.Equal(t, direct("rating_channel = $1 AND NOT is_default AND rated_at >= $2", r.Key, from), r.Total, r.Key)
		require.Equal(t, direct("rating_channel = $1 AND NOT is_default AND rated_at >= $2 AND level = 3", r.Key, from), r.Basic, r.Key)
		require.Zero(t, r.Defaults)
	}
	st, err = ratings.GetStats(ctx, rd, ratings.StatsFilter{By: ratings.ByDepartment, Region: towns[0], To: to}, shanghai)
	require.NoError(t, err)
	for _, r := range st.Rows {
		require.Equal(t, direct("department_code = $1 AND region_code LIKE $2 AND rated_at < $3", r.Key, towns[0]+"%", to), r.Total, r.Key)
	}
	for _, by := range []string{ratings.ByChannel, ratings.ByStaff, ratings.ByDay, ratings.ByWeek, ratings.ByMonth} {
		st, err := ratings.GetStats(ctx, rd, ratings.StatsFilter{By: by}, shanghai)
		require.NoError(t, err, by)
		sum := 0
		for _, r := range st.Rows {
			sum += r.Total
		}
		require.Equal(t, direct("true"), sum, by)
	}
	st, err = ratings.GetStats(ctx, rd, ratings.StatsFilter{By: ratings.ByChannel}, shanghai)
	require.NoError(t, err)
	for _, r := range st.Rows {
		require.Equal(t, direct("rating_channel = $1", r.Key), r.Total, r.Key)
	}
	// city → district → town → community
	st, err = ratings.GetStats(ctx, rd, ratings.StatsFilter{By: ratings.ByRegion}, shanghai)
	require.NoError(t, err)
	require.Equal(t, tenanttest.DistrictCode, st.Rows[0].Key)
	require.Equal(t, direct("region_code LIKE $1", tenanttest.DistrictCode+"%"), st.Rows[0].Total)
	st, err = ratings.GetStats(ctx, rd, ratings.StatsFilter{By: ratings.ByRegion, Region: tenanttest.DistrictCode}, shanghai)
	require.NoError(t, err)
	require.Len(t, st.Rows, 2)
	for _, r := range st.Rows {
		require.Equal(t, direct("region_code LIKE $1", r.Key+"%"), r.Total, r.Key)
		require.Equal(t, "by=region&region="+r.Key, r.Drill)
	}
	st, err = ratings.GetStats(ctx, rd, ratings.StatsFilter{By: ratings.ByRegion, Region: towns[1], ExcludeDefaults: true}, shanghai)
	require.NoError(t, err)
	require.Len(t, st.Rows, 3)
	for _, r := range st.Rows {
		require.Len(t, r.Key, 12)
		require.Equal(t, direct("region_code = $1 AND NOT is_default", r.Key), r.Total, r.Key)
		require.Empty(t, r.Drill, "communities are the last level")
	}
	_, err = ratings.GetStats(ctx, rd, ratings.StatsFilter{By: ratings.ByRegion, Region: towns[1] + "001"}, shanghai)
	requireStatus(t, err, http.StatusUnprocessableEntity)

	// the nightly rollup redoes the months from the one it stopped in, and
	// agrees with what the adjustments made of them
	before, err := ratings.GetStats(ctx, rd, ratings.StatsFilter{By: ratings.ByMonth}, shanghai)
	require.NoError(t, err)
	require.NoError(t, b.tx(t, func(tx *tenants.Tx) error { return ratings.RebuildRollup(ctx, tx, past, now, shanghai) }))
	after, err := ratings.GetStats(ctx, rd, ratings.StatsFilter{By: ratings.ByMonth}, shanghai)
	require.NoError(t, err)
	require.Equal(t, before, after)
	require.Equal(t, direct("true"), after.Total.Total)

	raw, err := ratings.StatsWorkbook(st)
	require.NoError(t, err)
	require.NotEmpty(t, raw)
}

// A citizen's cases are theirs: newest first, phone masked, no rating
// token; another citizen and another tenant see none of them.
func TestCitizenCases(t *testing.T) {
	t.Parallel()
	b := setup(t)
	now := time.Now()
	citizen := uuid.New()
	for i, no := range []string{"CZ-1", "CZ-2"} {
		in := newCase(no, now.Add(-time.Duration(2-i)*time.Hour))
		in.CitizenID = &citizen
		b.push(t, in, now)
	}
	b.push(t, newCase("CZ-3", now.Add(-time.Hour)), now)
	r, err := b.db.Reader(b.tenant.ID, "system")
	require.NoError(t, err)
	cs, err := ratings.ListCitizenCases(context.Background(), r, citizen, 10)
	require.NoError(t, err)
	require.Len(t, cs, 2)
	require.Equal(t, "CZ-2", cs[0].CaseNo)
	require.Equal(t, "138****5678", cs[0].CitizenPhone)
	require.Empty(t, cs[0].RateToken)
	none, err := ratings.ListCitizenCases(context.Background(), r, uuid.New(), 10)
	require.NoError(t, err)
	require.Empty(t, none)
	other := tenanttest.Tenant(t, tenants.KindAffairsHall, "messages", "ratings")
	ro, err := b.db.Reader(other.ID, "system")
	require.NoError(t, err)
	none, err = ratings.ListCitizenCases(context.Background(), ro, citizen, 10)
	require.NoError(t, err)
	require.Empty(t, none)
}
