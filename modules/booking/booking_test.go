package booking_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"yamen/modules"
	"yamen/modules/booking"
	"yamen/modules/messages"
	"yamen/problem"
	"yamen/tenants"
	"yamen/tenants/calendar"
	"yamen/tenants/tenanttest"
)

// The tests live in 2031, whose calendar they write themselves: National
// Day holidays 1–7 October, and Saturday 27 September worked in their
// place (调休上班).
var (
	shanghai, _ = time.LoadLocation("Asia/Shanghai")
	// Wednesday 24 September 2031, 08:00.
	wednesday    = time.Date(2031, 9, 24, 8, 0, 0, 0, shanghai)
	calendarOnce sync.Once
)

func at(month time.Month, day, hour, minute int) time.Time {
	return time.Date(2031, month, day, hour, minute, 0, 0, shanghai)
}

type fixture struct {
	db         *tenants.DB
	tn         tenants.Tenant
	m          *booking.Module
	cal        *calendar.Calendar
	hall, dept uuid.UUID
	item       uuid.UUID
}

func setup(t testing.TB) *fixture {
	t.Helper()
	db := tenanttest.DB(t)
	ctx := context.Background()
	calendarOnce.Do(func() {
		days := []tenants.CalendarDay{{Day: time.Date(2031, 9, 27, 0, 0, 0, 0, time.UTC), Kind: calendar.Workday, Name: "国庆节调休"}}
		for d := 1; d <= 7; d++ {
			days = append(days, tenants.CalendarDay{Day: time.Date(2031, 10, d, 0, 0, 0, 0, time.UTC), Kind: calendar.Holiday, Name: "国庆节"})
		}
		require.NoError(t, db.UpsertCalendar(ctx, days))
	})
	f := &fixture{db: db, tn: tenanttest.Tenant(t, tenants.KindAffairsHall, "catalog", "messages", "booking"), cal: calendar.New(db, shanghai)}
	f.m = booking.New(nil, booking.WithCalendar(f.cal))
	f.tx(t, func(tx *tenants.Tx) {
		require.NoError(t, tx.QueryRow(ctx, `INSERT INTO catalog_halls (tenant_id, code, name, region_code) VALUES (current_tenant(), 'H1', '市民服务中心', $1) RETURNING id`,
			tenanttest.CityCode).Scan(&f.hall))
		for wd := 1; wd <= 5; wd++ {
			_, err := tx.Exec(ctx, `INSERT INTO catalog_hall_hours (tenant_id, hall_id, weekday, opens, closes) VALUES
				(current_tenant(), $1, $2, '09:00', '12:00'), (current_tenant(), $1, $2, '13:30', '17:00')`, f.hall, wd)
			require.NoError(t, err)
		}
		require.NoError(t, tx.QueryRow(ctx, `INSERT INTO catalog_departments (tenant_id, hall_id, code, name) VALUES (current_tenant(), $1, 'D1', '公安户政') RETURNING id`,
			f.hall).Scan(&f.dept))
		f.item = f.newItem(t, tx, "身份证换领 𠀀䶮", false)
	})
	return f
}

func (f *fixture) newItem(t testing.TB, tx *tenants.Tx, name string, realName bool) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	require.NoError(t, tx.QueryRow(context.Background(), `INSERT INTO catalog_items (tenant_id, code, name, department_id, bookable, real_name)
		VALUES (current_tenant(), $1, $2, $3, true, $4) RETURNING id`, "I"+uuid.NewString()[:8], name, f.dept, realName).Scan(&id))
	return id
}

func (f *fixture) tx(t testing.TB, fn func(tx *tenants.Tx)) {
	t.Helper()
	require.NoError(t, f.db.Tx(context.Background(), f.tn.ID, tenants.System().String(), func(tx *tenants.Tx) error { fn(tx); return nil }))
}

func (f *fixture) settings(t testing.TB, s map[string]any) {
	t.Helper()
	f.tx(t, func(tx *tenants.Tx) { require.NoError(t, tenants.SaveSettings(context.Background(), tx, "booking", s)) })
}

func (f *fixture) rule(t testing.TB, target booking.RuleTarget, id uuid.UUID, r booking.Rule) {
	t.Helper()
	f.tx(t, func(tx *tenants.Tx) {
		_, err := booking.PutRule(context.Background(), tx, target, id, r)
		require.NoError(t, err)
	})
}

func citizen() booking.Citizen {
	id := uuid.New()
	return booking.Citizen{ID: id, Name: "王小明", Phone: "+8613800138000", RealNameLevel: booking.LevelRealName}
}

// book books in a transaction of its own, as a request does.
func (f *fixture) book(t testing.TB, c booking.Citizen, item uuid.UUID, slot, now time.Time, key string) (booking.Appointment, error) {
	t.Helper()
	var a booking.Appointment
	err := f.db.Tx(context.Background(), f.tn.ID, "citizen:"+c.ID.String(), func(tx *tenants.Tx) error {
		var err error
		a, err = f.m.Book(context.Background(), tx, f.cal, c, booking.NewAppointment{ItemID: item, SlotStart: slot}, key, now)
		return err
	})
	return a, err
}

func (f *fixture) cancel(t testing.TB, c booking.Citizen, id uuid.UUID, now time.Time) (booking.Appointment, error) {
	t.Helper()
	var a booking.Appointment
	err := f.db.Tx(context.Background(), f.tn.ID, "citizen:"+c.ID.String(), func(tx *tenants.Tx) error {
		var err error
		a, err = f.m.Cancel(context.Background(), tx, f.cal, c.ID, id, "临时有事 𠀀", now)
		return err
	})
	return a, err
}

func (f *fixture) slots(t testing.TB, from, to, now time.Time) []booking.Slot {
	t.Helper()
	r, err := f.db.Reader(f.tn.ID, "anonymous")
	require.NoError(t, err)
	s, err := booking.ListSlots(context.Background(), r, f.cal, f.item, from, to, now)
	require.NoError(t, err)
	return s.Slots
}

func (f *fixture) count(t testing.TB, sql string, args ...any) int {
	t.Helper()
	var n int
	f.tx(t, func(tx *tenants.Tx) { require.NoError(t, tx.QueryRow(context.Background(), sql, args...).Scan(&n)) })
	return n
}

func requireStatus(t *testing.T, err error, status int) *problem.Error {
	t.Helper()
	p, ok := problem.As(err)
	require.True(t, ok, "want a problem, got %v", err)
	require.Equal(t, status, p.Status, p.Detail)
	return p
}

func days(slots []booking.Slot) map[string]int {
	out := map[string]int{}
	for _, s := range slots {
		out[s.Start.In(shanghai).Format(time.DateOnly)]++
	}
	return out
}

// Slots follow the hall's hours on working days: none on the National Day
// holidays or an ordinary weekend, the Monday hours on the 调休 Saturday.
func TestSlotsFollowTheCalendar(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.rule(t, booking.TargetDepartment, f.dept, booking.Rule{DaysAhead: new(30)})
	got := days(f.slots(t, at(9, 24, 0, 0), at(10, 12, 23, 59), wednesday))
	// 09:00–12:00 and 13:30–17:00 in 30 minutes: 6 + 7 slots a day.
	require.Equal(t, 13, got["2031-09-25"], "a Thursday")
	require.Equal(t, 13, got["2031-09-27"], "the Saturday worked in place of a holiday")
	require.Zero(t, got["2031-09-28"], "an ordinary Sunday")
	for d := 1; d <= 7; d++ {
		require.Zero(t, got[at(10, d, 0, 0).Format(time.DateOnly)], "National Day holiday %d October", d)
	}
	require.Equal(t, 13, got["2031-10-08"])
	// Today: the minimum notice (60 minutes by default) hides 09:00 at 08:30.
	today := f.slots(t, at(9, 24, 0, 0), at(9, 24, 23, 59), at(9, 24, 8, 30))
	require.Equal(t, at(9, 24, 9, 30), today[0].Start)
	require.Len(t, today, 12)

	// An item's rule overrides its department's: 60-minute slots of 2.
	f.rule(t, booking.TargetItem, f.item, booking.Rule{SlotMinutes: new(60), Capacity: new(2)})
	s := f.slots(t, at(9, 25, 0, 0), at(9, 25, 23, 59), wednesday)
	require.Len(t, s, 6, "09–12 and 13:30–16:30")
	require.Equal(t, 2, s[0].Remaining)
	_, err := f.book(t, citizen(), f.item, s[0].Start, wednesday, "")
	require.NoError(t, err)
	require.Equal(t, 1, f.slots(t, at(9, 25, 0, 0), at(9, 25, 23, 59), wednesday)[0].Remaining)
}

// 200 citizens booking the last 5 places of one slot at once: exactly 5
// succeed, the others get 409, and nothing is oversold.
func TestConcurrentBookingNeverOversells(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.rule(t, booking.TargetItem, f.item, booking.Rule{Capacity: new(8)})
	slot := at(9, 25, 10, 0)
	for range 3 {
		_, err := f.book(t, citizen(), f.item, slot, wednesday, "")
		require.NoError(t, err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, full := 0, 0
	start := make(chan struct{})
	for range 200 {
		wg.Go(func() {
			<-start
			_, err := f.book(t, citizen(), f.item, slot, wednesday, "")
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				ok++
				return
			}
			if p, isProblem := problem.As(err); isProblem && p.Status == http.StatusConflict {
				full++
				return
			}
			t.Errorf("unexpected error: %v", err)
		})
	}
	close(start)
	wg.Wait()
	require.Equal(t, 5, ok)
	require.Equal(t, 195, full)
	require.Equal(t, 8, f.count(t, "SELECT count(*) FROM booking_appointments WHERE slot_start = $1", slot))
	require.Equal(t, 8, f.count(t, "SELECT booked FROM booking_slot_counts WHERE slot_start = $1", slot))
	require.Zero(t, f.slots(t, slot, slot, wednesday)[0].Remaining)
}

// Past slots, slots too soon or beyond the window, times that are no slot
// and another tenant's item are refused, naming the field, writing nothing.
func TestBadBookingsWriteNothing(t *testing.T) {
	t.Parallel()
	f := setup(t)
	other := setup(t)
	c := citizen()
	for name, tc := range map[string]struct {
		item  uuid.UUID
		slot  time.Time
		field string
		now   time.Time
	}{
		"past":           {f.item, at(9, 23, 10, 0), "body.slot_start", time.Time{}},
		"started":        {f.item, at(9, 24, 8, 0), "body.slot_start", time.Time{}},
		"too soon":       {f.item, at(9, 24, 9, 0), "body.slot_start", at(9, 24, 8, 30)},
		"beyond window":  {f.item, at(10, 9, 10, 0), "body.slot_start", time.Time{}},
		"not on a slot":  {f.item, at(9, 25, 10, 10), "body.slot_start", time.Time{}},
		"after hours":    {f.item, at(9, 25, 18, 0), "body.slot_start", time.Time{}},
		"holiday":        {f.item, at(10, 1, 10, 0), "body.slot_start", time.Time{}},
		"another's item": {other.item, at(9, 25, 10, 0), "body.item_id", time.Time{}},
		"no such item":   {uuid.New(), at(9, 25, 10, 0), "body.item_id", time.Time{}},
	} {
		now := wednesday
		if !tc.now.IsZero() {
			now = tc.now
		}
		_, err := f.book(t, c, tc.item, tc.slot, now, "")
		require.Error(t, err, name)
		p := requireStatus(t, err, http.StatusUnprocessableEntity)
		require.Len(t, p.Fields, 1, name)
		require.Equal(t, tc.field, p.Fields[0].Location, name)
	}
	require.Zero(t, f.count(t, "SELECT count(*) FROM booking_appointments"))
	require.Zero(t, f.count(t, "SELECT count(*) FROM booking_slot_counts"))
}

// A repeated request with the same Idempotency-Key books once.
func TestIdempotentBooking(t *testing.T) {
	t.Parallel()
	f := setup(t)
	c := citizen()
	a, err := f.book(t, c, f.item, at(9, 25, 10, 0), wednesday, "key-1")
	require.NoError(t, err)
	b, err := f.book(t, c, f.item, at(9, 25, 10, 0), wednesday, "key-1")
	require.NoError(t, err)
	require.Equal(t, a.ID, b.ID)
	require.True(t, b.Replayed)
	_, err = f.book(t, c, f.item, at(9, 25, 10, 0), wednesday, "key-2")
	requireStatus(t, err, http.StatusConflict)
	require.Equal(t, 1, f.count(t, "SELECT booked FROM booking_slot_counts"))
}

// Seed 004: over the cancellation limit a citizen cannot book that day; the
// next day they can. Cancelled bookings are kept and free their place.
func TestCancellationLimit(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.settings(t, map[string]any{"cancellations_per_day": 2})
	c := citizen()
	slot := at(9, 26, 9, 0)
	for range 2 {
		a, err := f.book(t, c, f.item, slot, wednesday, "")
		require.NoError(t, err)
		a, err = f.cancel(t, c, a.ID, wednesday)
		require.NoError(t, err)
		require.Equal(t, "cancelled", a.Status)
	}
	require.Equal(t, 5, f.slots(t, slot, slot, wednesday)[0].Remaining, "cancelled places are free again")
	_, err := f.book(t, c, f.item, slot, wednesday.Add(time.Hour), "")
	p := requireStatus(t, err, http.StatusForbidden)
	require.Contains(t, p.Detail, "今日不能再预约")
	_, err = f.book(t, c, f.item, slot, at(9, 25, 7, 0), "")
	require.NoError(t, err, "the next day")
	require.Equal(t, 3, f.count(t, "SELECT count(*) FROM booking_appointments WHERE citizen_id = $1", c.ID), "cancelled bookings are kept")

	// Cancelling too late, or twice, or someone else's.
	a, err := f.book(t, citizen(), f.item, at(9, 26, 10, 0), wednesday, "")
	require.NoError(t, err)
	_, err = f.cancel(t, c, a.ID, wednesday)
	requireStatus(t, err, http.StatusNotFound)
}

// An item's daily quota closes every slot of the day once reached.
func TestDailyQuota(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.rule(t, booking.TargetItem, f.item, booking.Rule{DailyQuota: new(2)})
	for _, h := range []int{9, 10} {
		_, err := f.book(t, citizen(), f.item, at(9, 25, h, 0), wednesday, "")
		require.NoError(t, err)
	}
	_, err := f.book(t, citizen(), f.item, at(9, 25, 11, 0), wednesday, "")
	p := requireStatus(t, err, http.StatusConflict)
	require.Contains(t, p.Detail, "当日预约已满")
	for _, s := range f.slots(t, at(9, 25, 0, 0), at(9, 25, 23, 59), wednesday) {
		require.Zero(t, s.Remaining, s.Start)
	}
	require.Equal(t, 2, f.slots(t, at(9, 26, 0, 0), at(9, 26, 23, 59), wednesday)[0].Remaining, "the next day is open, up to its quota")
}

// Citizens booking every slot of a day at once, while others cancel, never
// pass the item's daily quota: the day is full at exactly the quota, each
// slot's count matches its appointments, and a booking refused for the day
// leaves no place taken in its slot.
func TestConcurrentDailyQuotaIsExact(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.rule(t, booking.TargetItem, f.item, booking.Rule{Capacity: new(50), DailyQuota: new(20)})
	slots := f.slots(t, at(9, 25, 0, 0), at(9, 25, 23, 59), wednesday)
	type held struct {
		c booking.Citizen
		a booking.Appointment
	}
	var early []held
	for i := range 6 {
		c := citizen()
		a, err := f.book(t, c, f.item, slots[i].Start, wednesday, "")
		require.NoError(t, err)
		early = append(early, held{c, a})
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, full := 0, 0
	start := make(chan struct{})
	for i := range 120 {
		wg.Go(func() {
			<-start
			_, err := f.book(t, citizen(), f.item, slots[i%len(slots)].Start, wednesday, "")
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				ok++
				return
			}
			if p, isProblem := problem.As(err); isProblem && p.Status == http.StatusConflict {
				full++
				return
			}
			t.Errorf("unexpected error: %v", err)
		})
	}
	for _, h := range early[:3] {
		wg.Go(func() {
			<-start
			if _, err := f.cancel(t, h.c, h.a.ID, wednesday); err != nil {
				t.Errorf("cancel: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	require.Equal(t, 120, ok+full)
	// The quota filled (6 held, 14 more) whatever the cancellations did; the
	// places freed by cancelling went to bookings or stayed free.
	require.GreaterOrEqual(t, ok, 14)
	booked := f.count(t, "SELECT count(*) FROM booking_appointments WHERE status = 'booked' AND slot_start BETWEEN $1 AND $2",
		slots[0].Start, slots[len(slots)-1].Start)
	require.LessOrEqual(t, booked, 20)
	require.Equal(t, 6-3+ok, booked)
	require.Equal(t, booked, f.count(t, "SELECT booked FROM booking_day_counts WHERE day = $1", "2031-09-25"))
	require.Equal(t, booked, f.count(t, "SELECT sum(booked)::int FROM booking_slot_counts WHERE slot_start BETWEEN $1 AND $2",
		slots[0].Start, slots[len(slots)-1].Start))
}

// A citizen holds at most the active-booking limit at once.
func TestActiveBookingLimit(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.settings(t, map[string]any{"active_bookings_limit": 2})
	c := citizen()
	for _, h := range []int{9, 10} {
		_, err := f.book(t, c, f.item, at(9, 25, h, 0), wednesday, "")
		require.NoError(t, err)
	}
	_, err := f.book(t, c, f.item, at(9, 25, 11, 0), wednesday, "")
	requireStatus(t, err, http.StatusConflict)
	// Once the first slots are over, the citizen may book again.
	_, err = f.book(t, c, f.item, at(9, 26, 9, 0), at(9, 25, 11, 30), "")
	require.NoError(t, err)
}

// Too late to cancel inside the deadline; a cancelled booking cannot be
// cancelled again.
func TestCancellationWindow(t *testing.T) {
	t.Parallel()
	f := setup(t)
	c := citizen()
	a, err := f.book(t, c, f.item, at(9, 25, 10, 0), wednesday, "")
	require.NoError(t, err)
	_, err = f.cancel(t, c, a.ID, at(9, 25, 9, 30))
	requireStatus(t, err, http.StatusConflict)
	_, err = f.cancel(t, c, a.ID, at(9, 25, 8, 30))
	require.NoError(t, err)
	_, err = f.cancel(t, c, a.ID, at(9, 25, 8, 31))
	requireStatus(t, err, http.StatusConflict)
}

// No-shows: N in M days bar the citizen for K days, shown with the reason
// and the end; after it, booking is allowed again.
func TestNoShowsBarUntilExpiry(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.settings(t, map[string]any{"violation_limit": 2, "violation_window_days": 30, "bar_days": 3, "no_show_grace_minutes": 15})
	c := citizen()
	for _, h := range []int{9, 10} {
		_, err := f.book(t, c, f.item, at(9, 25, h, 0), wednesday, "")
		require.NoError(t, err)
	}
	f.markNoShows(t, at(9, 25, 10, 40), 1, "10:00–10:30 ends 10:30, grace until 10:45")
	f.markNoShows(t, at(9, 25, 10, 46), 1, "")
	f.markNoShows(t, at(9, 25, 10, 50), 0, "idempotent")

	barredAt := at(9, 25, 10, 46)
	_, err := f.book(t, c, f.item, at(9, 26, 10, 0), at(9, 25, 12, 0), "")
	p := requireStatus(t, err, http.StatusForbidden)
	require.Contains(t, p.Detail, "违约")
	st := f.standing(t, c.ID, at(9, 25, 12, 0))
	require.False(t, st.CanBook)
	require.Equal(t, barredAt.AddDate(0, 0, 3), st.Until.In(shanghai))
	require.Len(t, st.Violations, 2)
	require.Len(t, st.Bars, 1)

	// Three days on, the bar is over.
	_, err = f.book(t, c, f.item, at(9, 29, 10, 0), at(9, 28, 11, 0), "")
	require.NoError(t, err)
	require.True(t, f.standing(t, c.ID, at(9, 28, 11, 0)).CanBook)
}

func (f *fixture) markNoShows(t testing.TB, now time.Time, want int, msg string) {
	t.Helper()
	f.tx(t, func(tx *tenants.Tx) {
		n, err := booking.MarkNoShows(context.Background(), tx, now)
		require.NoError(t, err)
		require.Equal(t, want, n, msg)
	})
}

func (f *fixture) standing(t testing.TB, c uuid.UUID, now time.Time) booking.Standing {
	t.Helper()
	r, err := f.db.Reader(f.tn.ID, "citizen:"+c.String())
	require.NoError(t, err)
	s, err := booking.GetStanding(context.Background(), r, c, now)
	require.NoError(t, err)
	return s
}

// A barred citizen appeals; staff reject one appeal and uphold the next,
// which lifts the bar at once.
func TestAppeal(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.settings(t, map[string]any{"violation_limit": 1, "bar_days": 30})
	c := citizen()
	_, err := f.book(t, c, f.item, at(9, 25, 9, 0), wednesday, "")
	require.NoError(t, err)
	f.markNoShows(t, at(9, 25, 12, 0), 1, "")
	bar := f.standing(t, c.ID, at(9, 25, 12, 0)).Bars[0]

	appeal := func(by uuid.UUID, bar uuid.UUID) (booking.Appeal, error) {
		var a booking.Appeal
		err := f.db.Tx(context.Background(), f.tn.ID, "citizen:"+by.String(), func(tx *tenants.Tx) error {
			var err error
			a, err = booking.FileAppeal(context.Background(), tx, by, booking.NewAppeal{BarID: bar, Reason: "当天生病住院 䶮"}, at(9, 25, 13, 0))
			return err
		})
		return a, err
	}
	decide := func(id uuid.UUID, uphold bool) (booking.Appeal, error) {
		var a booking.Appeal
		err := f.db.Tx(context.Background(), f.tn.ID, "member:"+uuid.NewString(), func(tx *tenants.Tx) error {
			var err error
			a, err = booking.DecideAppeal(context.Background(), tx, id, booking.Decision{Uphold: uphold, Note: "已核实"}, at(9, 25, 14, 0))
			return err
		})
		return a, err
	}
	_, err = appeal(uuid.New(), bar.ID)
	requireStatus(t, err, http.StatusUnprocessableEntity) // not their bar
	first, err := appeal(c.ID, bar.ID)
	require.NoError(t, err)
	_, err = appeal(c.ID, bar.ID)
	requireStatus(t, err, http.StatusConflict) // one pending at a time
	rejected, err := decide(first.ID, false)
	require.NoError(t, err)
	require.Equal(t, "rejected", rejected.Status)
	_, err = decide(first.ID, true)
	requireStatus(t, err, http.StatusConflict)
	_, err = f.book(t, c, f.item, at(9, 26, 9, 0), at(9, 25, 15, 0), "")
	requireStatus(t, err, http.StatusForbidden)

	second, err := appeal(c.ID, bar.ID)
	require.NoError(t, err)
	upheld, err := decide(second.ID, true)
	require.NoError(t, err)
	require.Equal(t, "upheld", upheld.Status)
	_, err = f.book(t, c, f.item, at(9, 26, 9, 0), at(9, 25, 15, 0), "")
	require.NoError(t, err)
	st := f.standing(t, c.ID, at(9, 25, 15, 0))
	require.True(t, st.Violations[0].Voided)
	require.Len(t, st.Appeals, 2)
}

// 黑白名单: a whitelisted citizen is never barred, a blacklisted one cannot
// book.
func TestBlackAndWhiteLists(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.settings(t, map[string]any{"violation_limit": 1})
	white, black := citizen(), citizen()
	f.tx(t, func(tx *tenants.Tx) {
		_, err := booking.PutListEntry(context.Background(), tx, booking.ListEntry{CitizenID: white.ID, List: "white", Note: "残障人士"})
		require.NoError(t, err)
		_, err = booking.PutListEntry(context.Background(), tx, booking.ListEntry{CitizenID: black.ID, List: "black"})
		require.NoError(t, err)
	})
	_, err := f.book(t, black, f.item, at(9, 25, 9, 0), wednesday, "")
	p := requireStatus(t, err, http.StatusForbidden)
	require.Contains(t, p.Detail, "黑名单")
	_, err = f.book(t, white, f.item, at(9, 25, 9, 0), wednesday, "")
	require.NoError(t, err)
	f.markNoShows(t, at(9, 25, 12, 0), 1, "")
	require.True(t, f.standing(t, white.ID, at(9, 25, 12, 0)).CanBook)
	require.Empty(t, f.standing(t, white.ID, at(9, 25, 12, 0)).Bars)

	f.tx(t, func(tx *tenants.Tx) { require.NoError(t, booking.DeleteListEntry(context.Background(), tx, black.ID)) })
	_, err = f.book(t, black, f.item, at(9, 25, 10, 0), wednesday, "")
	require.NoError(t, err)
}

// An item that requires real names refuses a citizen below the level.
func TestRealNameRequirement(t *testing.T) {
	t.Parallel()
	f := setup(t)
	var item uuid.UUID
	f.tx(t, func(tx *tenants.Tx) { item = f.newItem(t, tx, "出入境证件", true) })
	f.rule(t, booking.TargetItem, item, booking.Rule{RealNameLevel: new(booking.LevelRealPerson)})
	c := citizen()
	_, err := f.book(t, c, item, at(9, 25, 9, 0), wednesday, "")
	p := requireStatus(t, err, http.StatusForbidden)
	require.Contains(t, p.Detail, "real_person")
	c.RealNameLevel = booking.LevelInPerson
	_, err = f.book(t, c, item, at(9, 25, 9, 0), wednesday, "")
	require.NoError(t, err)
	// The item without the requirement takes anyone.
	_, err = f.book(t, booking.Citizen{ID: uuid.New(), Name: "匿名", RealNameLevel: booking.LevelNone}, f.item, at(9, 25, 9, 0), wednesday, "")
	require.NoError(t, err)
}

// Another tenant sees none of the bookings, rules or bars.
func TestDifferentTenantSeesNothing(t *testing.T) {
	t.Parallel()
	f := setup(t)
	other := setup(t)
	f.rule(t, booking.TargetItem, f.item, booking.Rule{Capacity: new(3)})
	_, err := f.book(t, citizen(), f.item, at(9, 25, 9, 0), wednesday, "")
	require.NoError(t, err)
	r, err := other.db.Reader(other.tn.ID, "system")
	require.NoError(t, err)
	as, err := booking.ListAppointments(context.Background(), r, booking.AppointmentFilter{}, true)
	require.NoError(t, err)
	require.Empty(t, as)
	rules, err := booking.ListRules(context.Background(), r)
	require.NoError(t, err)
	require.Empty(t, rules)
	_, err = booking.ListSlots(context.Background(), r, f.cal, f.item, wednesday, wednesday.Add(48*time.Hour), wednesday)
	requireStatus(t, err, http.StatusNotFound)
}

// Staff lists mask phone digits 4–7.
func TestStaffListMasksPhones(t *testing.T) {
	t.Parallel()
	f := setup(t)
	_, err := f.book(t, citizen(), f.item, at(9, 25, 9, 0), wednesday, "")
	require.NoError(t, err)
	r, err := f.db.Reader(f.tn.ID, "system")
	require.NoError(t, err)
	as, err := booking.ListAppointments(context.Background(), r, booking.AppointmentFilter{}, false)
	require.NoError(t, err)
	require.Equal(t, "+86138****8000", as[0].CitizenPhone)
	require.Equal(t, "138****8000", booking.MaskPhone("13800138000"))
}

// The reminder goes out the day before, to the citizen through the
// message centre, once however often the sweep runs; a cancelled booking
// is not reminded.
func TestReminderThroughMessageCentre(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	env := modules.Env{DB: f.db.Pool, Setting: func(name string) string {
		if name == messages.SettingAuditKey {
			return tenants.DevAuditKey
		}
		return ""
	}}
	msgs := messages.New()
	require.NoError(t, msgs.Provision(ctx, env))
	f.m = booking.New(msgs, booking.WithCalendar(f.cal))
	require.NoError(t, f.m.Provision(ctx, env))

	c := citizen()
	slot := at(9, 26, 10, 0)
	a, err := f.book(t, c, f.item, slot, wednesday, "")
	require.NoError(t, err)
	b, err := f.book(t, c, f.item, at(9, 26, 11, 0), wednesday, "")
	require.NoError(t, err)
	_, err = f.cancel(t, c, b.ID, wednesday)
	require.NoError(t, err)
	remind := func(now time.Time) int {
		var n int
		f.tx(t, func(tx *tenants.Tx) {
			var err error
			n, err = f.m.RemindDue(ctx, tx, now)
			require.NoError(t, err)
		})
		return n
	}
	require.Zero(t, remind(slot.Add(-25*time.Hour)), "not due yet")
	require.Equal(t, 1, remind(slot.Add(-24*time.Hour)))
	require.Zero(t, remind(slot.Add(-23*time.Hour)), "sent once")
	f.tx(t, func(tx *tenants.Tx) {
		sent, err := f.m.RemindIn(ctx, tx, a.ID)
		require.NoError(t, err)
		require.False(t, sent, "sent once")
	})
	var kind, phone, body string
	f.tx(t, func(tx *tenants.Tx) {
		require.NoError(t, tx.QueryRow(ctx, `SELECT d.recipient_kind::text, d.recipient_phone, m.body FROM message_deliveries d JOIN messages m ON m.id = d.message_id
			WHERE d.recipient_id = $1`, c.ID).Scan(&kind, &phone, &body))
	})
	require.Equal(t, "citizen", kind)
	require.Equal(t, c.Phone, phone)
	require.Contains(t, body, "2031-09-26 10:00")
	require.Contains(t, body, "身份证换领 𠀀䶮")
	require.Equal(t, 1, f.count(t, "SELECT count(*) FROM outbox WHERE task_type = 'messages:deliver'"))

	// The worker runs the sweep through the module's task.
	tasks := f.m.Tasks()
	require.Equal(t, booking.TaskSweep, tasks[0].Type)
	f.tx(t, func(tx *tenants.Tx) { require.NoError(t, tasks[0].Handle(ctx, tx, []byte("{}"))) })
}
