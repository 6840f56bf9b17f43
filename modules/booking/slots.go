package booking

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"yamen/problem"
	"yamen/tenants"
	"yamen/tenants/calendar"
)

// item is a service item as booking sees it: where it is handled, its
// rules in force and its hall's opening hours.
type item struct {
	ID           uuid.UUID
	Name         string
	DepartmentID uuid.UUID
	HallID       uuid.UUID
	HallName     string
	Bookable     bool
	Rules        Rules
	Settings     Settings
	// hours[weekday] are the opening periods of the hall on that ISO
	// weekday, in seconds since midnight.
	hours [8][]period
}

type period struct{ opens, closes int }

// errNoItem is loadItem's answer for an item the tenant does not have.
var errNoItem = errors.New("booking: no such item")

// itemSQL reads an item ($1), its rules and its hall's hours in one
// statement; scanItem reads its row.
const itemSQL = `SELECT i.id, i.name, i.department_id, d.hall_id, h.name,
		i.bookable AND i.active AND d.active AND h.active, i.real_name,
		(SELECT settings FROM tenant_modules WHERE module = 'booking'),
		ri.slot_minutes, ri.capacity, ri.days_ahead, ri.min_notice_minutes, ri.daily_quota, ri.cancel_minutes_before, ri.working_days_only, ri.real_name_level,
		rd.slot_minutes, rd.capacity, rd.days_ahead, rd.min_notice_minutes, rd.daily_quota, rd.cancel_minutes_before, rd.working_days_only, rd.real_name_level,
		coalesce(hh.weekdays, '{}'), coalesce(hh.opens, '{}'), coalesce(hh.closes, '{}')
	FROM catalog_items i
	JOIN catalog_departments d ON d.id = i.department_id
	JOIN catalog_halls h ON h.id = d.hall_id
	LEFT JOIN booking_rules ri ON ri.item_id = i.id
	LEFT JOIN booking_rules rd ON rd.department_id = i.department_id AND rd.item_id IS NULL
	LEFT JOIN LATERAL (
		SELECT array_agg(weekday::int ORDER BY weekday, opens) AS weekdays,
			array_agg(extract(epoch FROM opens)::int ORDER BY weekday, opens) AS opens,
			array_agg(extract(epoch FROM closes)::int ORDER BY weekday, opens) AS closes
		FROM catalog_hall_hours WHERE hall_id = d.hall_id) hh ON true
	WHERE i.id = $1`

func scanItem(row pgx.Row) (item, error) {
	var (
		it                   item
		realName             bool
		raw                  []byte
		ri, rd               Rule
		weekdays, opens, cls []int32
	)
	err := row.Scan(&it.ID, &it.Name, &it.DepartmentID, &it.HallID, &it.HallName, &it.Bookable, &realName, &raw,
		&ri.SlotMinutes, &ri.Capacity, &ri.DaysAhead, &ri.MinNoticeMinutes, &ri.DailyQuota, &ri.CancelMinutesBefore, &ri.WorkingDaysOnly, &ri.RealNameLevel,
		&rd.SlotMinutes, &rd.Capacity, &rd.DaysAhead, &rd.MinNoticeMinutes, &rd.DailyQuota, &rd.CancelMinutesBefore, &rd.WorkingDaysOnly, &rd.RealNameLevel,
		&weekdays, &opens, &cls)
	if errors.Is(err, pgx.ErrNoRows) {
		return item{}, errNoItem
	}
	if err != nil {
		return item{}, fmt.Errorf("booking: item: %w", err)
	}
	if it.Settings, err = parseSettings(raw); err != nil {
		return item{}, err
	}
	it.Rules = resolve(it.Settings, realName, rd, ri)
	for i, wd := range weekdays {
		it.hours[wd] = append(it.hours[wd], period{int(opens[i]), int(cls[i])})
	}
	return it, nil
}

// loadItem reads an item, its rules and its hall's hours in one round trip.
func loadItem(ctx context.Context, q tenants.Querier, id uuid.UUID) (item, error) {
	return scanItem(q.QueryRow(ctx, itemSQL, id))
}

// Slot is one bookable time of an item.
type Slot struct {
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Capacity  int       `json:"capacity" doc:"时段容量 (places in the slot)"`
	Remaining int       `json:"remaining" doc:"剩余可预约数 (places left)"`
}

// ItemSlots is what GET …/items/{item}/slots answers.
type ItemSlots struct {
	ItemID   uuid.UUID `json:"item_id"`
	ItemName string    `json:"item_name"`
	HallID   uuid.UUID `json:"hall_id"`
	HallName string    `json:"hall_name"`
	Rules    Rules     `json:"rules" doc:"生效的预约规则 (the rules in force)"`
	Slots    []Slot    `json:"slots"`
}

// window is when an item can be booked at now: from the minimum notice to
// the end of the last day ahead.
func (it item) window(now time.Time, loc *time.Location) (earliest, latest time.Time) {
	earliest = now.Add(time.Duration(it.Rules.MinNoticeMinutes) * time.Minute)
	y, m, d := now.In(loc).Date()
	latest = time.Date(y, m, d+it.Rules.DaysAhead+1, 0, 0, 0, 0, loc)
	return earliest, latest
}

// dayPeriods returns the opening periods of the item's hall on day (local
// midnight), nil when it offers no slots that day.
func (it item) dayPeriods(ctx context.Context, cal *calendar.Calendar, day time.Time) ([]period, error) {
	wd := int(day.Weekday())
	if wd == 0 {
		wd = 7
	}
	if !it.Rules.WorkingDaysOnly {
		return it.hours[wd], nil
	}
	working, err := cal.IsWorkingDay(ctx, day.Add(12*time.Hour))
	if err != nil {
		return nil, fmt.Errorf("booking: calendar: %w", err)
	}
	if !working {
		return nil, nil
	}
	if len(it.hours[wd]) == 0 && wd >= 6 {
		// A weekend day worked in place of a holiday (调休上班) keeps the
		// hours of a regular working day: the first weekday the hall opens.
		for w := 1; w <= 5; w++ {
			if len(it.hours[w]) > 0 {
				return it.hours[w], nil
			}
		}
	}
	return it.hours[wd], nil
}

// slotTimes lists the slot starts of the item from the day of from to the
// day of to, inside its booking window at now.
func (it item) slotTimes(ctx context.Context, cal *calendar.Calendar, from, to, now time.Time) ([]time.Time, error) {
	loc := cal.Location()
	earliest, latest := it.window(now, loc)
	length := it.Rules.SlotMinutes * 60
	var out []time.Time
	fy, fm, fd := from.In(loc).Date()
	for day := time.Date(fy, fm, fd, 0, 0, 0, 0, loc); !day.After(to) && day.Before(latest); day = day.AddDate(0, 0, 1) {
		ps, err := it.dayPeriods(ctx, cal, day)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			for s := p.opens; s+length <= p.closes; s += length {
				start := day.Add(time.Duration(s) * time.Second)
				if start.Before(earliest) || start.Before(from) || start.After(to) {
					continue
				}
				out = append(out, start)
			}
		}
	}
	return out, nil
}

// MaxSlotDays bounds a slots query.
const MaxSlotDays = 92

// ListSlots returns the item's slots between from and to (both
// inclusive, by start) with the places left in each.
func ListSlots(ctx context.Context, q tenants.Querier, cal *calendar.Calendar, itemID uuid.UUID, from, to, now time.Time) (ItemSlots, error) {
	it, err := loadItem(ctx, q, itemID)
	if errors.Is(err, errNoItem) {
		return ItemSlots{}, problem.NotFound("没有这个事项 (no such item)")
	}
	if err != nil {
		return ItemSlots{}, err
	}
	if !it.Bookable {
		return ItemSlots{}, problem.Conflict("该事项不开放预约 (the item cannot be booked)")
	}
	out := ItemSlots{ItemID: it.ID, ItemName: it.Name, HallID: it.HallID, HallName: it.HallName, Rules: it.Rules, Slots: []Slot{}}
	starts, err := it.slotTimes(ctx, cal, from, to, now)
	if err != nil || len(starts) == 0 {
		return out, err
	}
	loc := cal.Location()
	first, last := starts[0], starts[len(starts)-1]
	rows, err := q.Query(ctx, `SELECT 's', slot_start, booked FROM booking_slot_counts WHERE item_id = $1 AND slot_start BETWEEN $2 AND $3
		UNION ALL
		SELECT 'd', day::timestamp AT TIME ZONE $4, booked FROM booking_day_counts WHERE item_id = $1 AND day BETWEEN ($2 AT TIME ZONE $4)::date AND ($3 AT TIME ZONE $4)::date`,
		it.ID, first, last, loc.String())
	if err != nil {
		return out, fmt.Errorf("booking: slots: %w", err)
	}
	booked, dayBooked := map[int64]int{}, map[int64]int{}
	var (
		kind string
		at   time.Time
		n    int
	)
	_, err = pgx.ForEachRow(rows, []any{&kind, &at, &n}, func() error {
		if kind == "s" {
			booked[at.Unix()] = n
		} else {
			dayBooked[at.Unix()] = n
		}
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("booking: slots: %w", err)
	}
	length := time.Duration(it.Rules.SlotMinutes) * time.Minute
	out.Slots = make([]Slot, len(starts))
	for i, s := range starts {
		left := max(0, it.Rules.Capacity-booked[s.Unix()])
		if it.Rules.DailyQuota > 0 {
			y, m, d := s.In(loc).Date()
			left = min(left, max(0, it.Rules.DailyQuota-dayBooked[time.Date(y, m, d, 0, 0, 0, 0, loc).Unix()]))
		}
		out.Slots[i] = Slot{Start: s, End: s.Add(length), Capacity: it.Rules.Capacity, Remaining: left}
	}
	return out, nil
}
