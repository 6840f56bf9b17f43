package calendar_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"yamen/infra/demo"
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

// cal loads the official 2026 arrangement (国务院办公厅关于2026年部分节假日安排的
// 通知, as infra/demo carries it) into the test database and returns the
// calendar of Asia/Shanghai. The table is jurisdiction-wide and other tests
// load the same rows, so it upserts them and deletes nothing.
func cal(t *testing.T) *calendar.Calendar {
	t.Helper()
	db := tenanttest.DB(t)
	var days []tenants.CalendarDay
	for _, d := range demo.CalendarDays() {
		if d.Day.Year() == 2026 {
			days = append(days, d)
		}
	}
	require.NoError(t, db.UpsertCalendar(context.Background(), days))
	return calendar.New(db, shanghai)
}

// day is noon of a day in Shanghai.
func day(s string) time.Time {
	d, err := time.ParseInLocation(time.DateOnly, s, shanghai)
	if err != nil {
		panic(err)
	}
	return d.Add(12 * time.Hour)
}

func TestIsWorkingDay2026(t *testing.T) {
	t.Parallel()
	c := cal(t)
	for s, want := range map[string]bool{
		// 元旦: Thu 1 – Sat 3 Jan off, Sun 4 Jan worked.
		"2025-12-31": true, "2026-01-01": false, "2026-01-02": false, "2026-01-03": false, "2026-01-04": true, "2026-01-05": true,
		// 春节: Sat 14 Feb worked, Sun 15 – Mon 23 Feb off, Sat 28 Feb worked.
		"2026-02-13": true, "2026-02-14": true, "2026-02-15": false, "2026-02-16": false, "2026-02-17": false,
		"2026-02-20": false, "2026-02-23": false, "2026-02-24": true, "2026-02-28": true, "2026-03-01": false,
		// An ordinary week.
		"2026-03-06": true, "2026-03-07": false, "2026-03-08": false, "2026-03-09": true,
		// 清明: Sat 4 – Mon 6 Apr.
		"2026-04-03": true, "2026-04-04": false, "2026-04-06": false, "2026-04-07": true,
		// 劳动节: Fri 1 – Tue 5 May off, Sat 9 May worked.
		"2026-04-30": true, "2026-05-01": false, "2026-05-04": false, "2026-05-05": false, "2026-05-06": true,
		"2026-05-09": true, "2026-05-10": false,
		// 端午: Fri 19 – Sun 21 Jun.
		"2026-06-18": true, "2026-06-19": false, "2026-06-22": true,
		// 中秋 and 国庆: Sun 20 Sep worked, Fri 25 – Sun 27 Sep off,
		// Thu 1 – Wed 7 Oct off, Sat 10 Oct worked.
		"2026-09-19": false, "2026-09-20": true, "2026-09-25": false, "2026-09-28": true, "2026-09-30": true,
		"2026-10-01": false, "2026-10-05": false, "2026-10-07": false, "2026-10-08": true, "2026-10-09": true,
		"2026-10-10": true, "2026-10-11": false, "2026-10-12": true,
		"2026-12-31": true,
	} {
		got, err := c.IsWorkingDay(context.Background(), day(s))
		require.NoError(t, err)
		require.Equal(t, want, got, s)
	}
}

// An instant counts on the day it falls on in the jurisdiction, not in UTC.
func TestDaysAreTheJurisdictions(t *testing.T) {
	t.Parallel()
	c := cal(t)
	ctx := context.Background()
	// 20:00 UTC on Fri 13 Feb is 04:00 on Sat 14 Feb in Beijing: a make-up day.
	ok, err := c.IsWorkingDay(ctx, time.Date(2026, 2, 13, 20, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	require.True(t, ok)
	// 17:00 UTC on Sat 14 Feb is 01:00 on Sun 15 Feb: the Spring Festival.
	ok, err = c.IsWorkingDay(ctx, time.Date(2026, 2, 14, 17, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	require.False(t, ok)
}

func TestAddWorkingDays(t *testing.T) {
	t.Parallel()
	c := cal(t)
	ctx := context.Background()
	from := time.Date(2026, 2, 12, 9, 30, 0, 0, shanghai) // Thu before the Spring Festival
	for _, tc := range []struct {
		name string
		from time.Time
		n    int
		want string
	}{
		{"SpringFestival", from, 1, "2026-02-13"},
		{"SpringFestival", from, 2, "2026-02-14"}, // the make-up Saturday
		{"SpringFestival", from, 3, "2026-02-24"}, // straight over the nine days off
		{"SpringFestival", from, 5, "2026-02-26"},
		{"SpringFestival", from, 7, "2026-02-28"}, // the second make-up Saturday
		{"SpringFestival", from, 8, "2026-03-02"},
		{"FromAHoliday", day("2026-02-18"), 1, "2026-02-24"},
		{"Zero", day("2026-02-18"), 0, "2026-02-18"},
		{"Back", day("2026-02-24"), -1, "2026-02-14"},
		{"Back", day("2026-02-24"), -2, "2026-02-13"},
		{"NationalDay", day("2026-09-30"), 1, "2026-10-08"},
		{"NationalDay", day("2026-09-30"), 3, "2026-10-10"},
		{"NationalDay", day("2026-09-30"), 4, "2026-10-12"},
		{"IntoTheNewYear", day("2025-12-31"), 1, "2026-01-04"},
		{"LabourDay", day("2026-04-30"), 1, "2026-05-06"},
		{"LabourDay", day("2026-04-30"), 4, "2026-05-09"},
	} {
		got, err := c.AddWorkingDays(ctx, tc.from, tc.n)
		require.NoError(t, err)
		require.Equal(t, tc.want, got.In(shanghai).Format(time.DateOnly), "%s: %s + %d", tc.name, tc.from.Format(time.DateOnly), tc.n)
		h, m, _ := tc.from.In(shanghai).Clock()
		gh, gm, _ := got.In(shanghai).Clock()
		require.Equal(t, [2]int{h, m}, [2]int{gh, gm}, "the time of day is kept")

		if tc.n >= 0 {
			n, err := c.WorkingDaysBetween(ctx, tc.from, got)
			require.NoError(t, err)
			require.Equal(t, tc.n, n, "WorkingDaysBetween undoes AddWorkingDays")
		}
	}
}

func TestWorkingDaysBetween(t *testing.T) {
	t.Parallel()
	c := cal(t)
	ctx := context.Background()
	for _, tc := range []struct {
		from, to string
		want     int
	}{
		// 365 days, 104 weekend days, 19 weekday holidays, 6 make-up days.
		{"2025-12-31", "2026-12-31", 248},
		// February: 2–6, 9–13, Sat 14, 24–27, Sat 28.
		{"2026-01-31", "2026-02-28", 16},
		{"2026-02-14", "2026-02-23", 0},
		{"2026-02-28", "2026-02-14", -5}, // 24–27 and Sat 28, counted backwards
		{"2026-03-04", "2026-03-04", 0},
	} {
		n, err := c.WorkingDaysBetween(ctx, day(tc.from), day(tc.to))
		require.NoError(t, err)
		require.Equal(t, tc.want, n, "%s → %s", tc.from, tc.to)
	}
}

func TestKnown(t *testing.T) {
	t.Parallel()
	c := cal(t)
	known, err := c.Known(context.Background(), 2026)
	require.NoError(t, err)
	require.True(t, known)
	// No notice for 2099: plain Monday to Friday, and Known says so.
	known, err = c.Known(context.Background(), 2099)
	require.NoError(t, err)
	require.False(t, known)
}
