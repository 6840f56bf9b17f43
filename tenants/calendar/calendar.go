// Package calendar answers working-day questions — is this a working day,
// which day is N working days on, how many working days lie between two
// days — for every "within N working days" rule of the modules.
//
// The week is Monday to Friday; the jurisdiction's calendar table holds the
// exceptions: public holidays, and the weekend days worked in their place
// (调休上班), so a Saturday can be a working day. Days are the
// jurisdiction's civil days: an instant counts on the day it falls on in the
// jurisdiction's time zone.
package calendar

import (
	"context"
	"fmt"
	"sync"
	"time"
	_ "time/tzdata" // the jurisdiction's zone, on hosts without zoneinfo

	"yamen/tenants"
)

// Kinds of exception, as the calendar table stores them.
const (
	Holiday = "holiday"
	Workday = "workday"
)

// DefaultTTL is how long a year's exceptions are trusted before they are
// read again, so that a calendar loaded or corrected later (next year's
// notice comes out in the autumn) reaches every process.
const DefaultTTL = time.Hour

// Calendar is the jurisdiction's working-day calendar. It reads a year's
// exceptions once, when first asked about the year, and keeps them for
// DefaultTTL. It is safe for concurrent use.
type Calendar struct {
	load func(ctx context.Context, from, to time.Time) ([]tenants.CalendarDay, error)
	loc  *time.Location
	ttl  time.Duration
	now  func() time.Time

	mu    sync.Mutex
	years map[int]*year
}

// year is one year's exceptions, by day of the year.
type year struct {
	kind   [367]exception
	known  bool // the table has at least one row for the year
	loaded time.Time
}

type exception uint8

const (
	none exception = iota
	holiday
	workday
)

// New returns the calendar of db in the time zone loc.
func New(db *tenants.DB, loc *time.Location) *Calendar {
	return newCalendar(db.Calendar, loc)
}

func newCalendar(load func(ctx context.Context, from, to time.Time) ([]tenants.CalendarDay, error), loc *time.Location) *Calendar {
	return &Calendar{load: load, loc: loc, ttl: DefaultTTL, now: time.Now, years: map[int]*year{}}
}

// ForJurisdiction returns the calendar of db in the jurisdiction's time zone.
func ForJurisdiction(ctx context.Context, db *tenants.DB) (*Calendar, error) {
	j, err := db.GetJurisdiction(ctx)
	if err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(j.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("calendar: time zone of the jurisdiction: %w", err)
	}
	return New(db, loc), nil
}

// Location is the time zone whose days the calendar counts.
func (c *Calendar) Location() *time.Location { return c.loc }

// Invalidate forgets every year read, for when the calendar table changed.
func (c *Calendar) Invalidate() {
	c.mu.Lock()
	c.years = map[int]*year{}
	c.mu.Unlock()
}

// Known reports whether the calendar table has the exceptions of a year.
// A year without any is taken as plain Monday to Friday, which is wrong for
// every Chinese year: it means next year's notice is yet to be loaded.
func (c *Calendar) Known(ctx context.Context, y int) (bool, error) {
	yr, err := c.year(ctx, y)
	if err != nil {
		return false, err
	}
	return yr.known, nil
}

// IsWorkingDay reports whether the day t falls on, in the jurisdiction, is
// a working day.
func (c *Calendar) IsWorkingDay(ctx context.Context, t time.Time) (bool, error) {
	return c.working(ctx, civil(t.In(c.loc)))
}

// AddWorkingDays returns the n-th working day after the day of from, at
// from's time of day in the jurisdiction's zone: with n = 3, from a
// Thursday before the Spring Festival, the third working day after it. The
// day of from itself is not counted, whether or not it is a working day. A
// negative n counts back; n = 0 returns from.
func (c *Calendar) AddWorkingDays(ctx context.Context, from time.Time, n int) (time.Time, error) {
	local := from.In(c.loc)
	d := civil(local)
	step := 1
	if n < 0 {
		step, n = -1, -n
	}
	for n > 0 {
		d = d.add(step)
		ok, err := c.working(ctx, d)
		if err != nil {
			return time.Time{}, err
		}
		if ok {
			n--
		}
	}
	h, m, s := local.Clock()
	return time.Date(d.y, d.m, d.d, h, m, s, local.Nanosecond(), c.loc), nil
}

// WorkingDaysBetween counts the working days after the day of from up to
// and including the day of to, so that
// WorkingDaysBetween(from, AddWorkingDays(from, n)) is n for n ≥ 0. When to
// is before from it is the negative count the other way round.
func (c *Calendar) WorkingDaysBetween(ctx context.Context, from, to time.Time) (int, error) {
	a, b := civil(from.In(c.loc)), civil(to.In(c.loc))
	sign := 1
	if b.before(a) {
		a, b, sign = b, a, -1
	}
	n := 0
	for d := a.add(1); !b.before(d); d = d.add(1) {
		ok, err := c.working(ctx, d)
		if err != nil {
			return 0, err
		}
		if ok {
			n++
		}
	}
	return sign * n, nil
}

func (c *Calendar) working(ctx context.Context, d date) (bool, error) {
	yr, err := c.year(ctx, d.y)
	if err != nil {
		return false, err
	}
	switch yr.kind[d.yearDay()] {
	case holiday:
		return false, nil
	case workday:
		return true, nil
	}
	wd := d.weekday()
	return wd != time.Saturday && wd != time.Sunday, nil
}

// year returns a year's exceptions, reading them when not yet read or
// older than the TTL. A year is read under the lock: readers of the same
// year wait for one read instead of each making their own.
func (c *Calendar) year(ctx context.Context, y int) (*year, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if yr, ok := c.years[y]; ok && c.now().Sub(yr.loaded) < c.ttl {
		return yr, nil
	}
	days, err := c.load(ctx, time.Date(y, time.January, 1, 0, 0, 0, 0, time.UTC), time.Date(y, time.December, 31, 0, 0, 0, 0, time.UTC))
	if err != nil {
		return nil, fmt.Errorf("calendar: %d: %w", y, err)
	}
	yr := &year{loaded: c.now(), known: len(days) > 0}
	for _, d := range days {
		e := holiday
		if d.Kind == Workday {
			e = workday
		}
		yr.kind[civil(d.Day).yearDay()] = e
	}
	c.years[y] = yr
	return yr, nil
}

// date is a civil day, free of any zone.
type date struct {
	y int
	m time.Month
	d int
}

// civil returns the day t falls on in t's own zone.
func civil(t time.Time) date {
	y, m, d := t.Date()
	return date{y, m, d}
}

func (d date) utc() time.Time { return time.Date(d.y, d.m, d.d, 0, 0, 0, 0, time.UTC) }

func (d date) add(days int) date { return civil(d.utc().AddDate(0, 0, days)) }

func (d date) before(e date) bool { return d.utc().Before(e.utc()) }

func (d date) yearDay() int { return d.utc().YearDay() }

func (d date) weekday() time.Weekday { return d.utc().Weekday() }
