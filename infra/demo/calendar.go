package demo

import (
	"fmt"
	"time"

	"yamen/tenants"
)

// Kinds of calendar exception.
const (
	Holiday = "holiday"
	Workday = "workday"
)

// span is a run of days, from and to inclusive ("2006-01-02"), that are all
// holidays or all make-up working days (调休上班). A named holiday block is
// stored whole, its weekend days included, so the calendar reads like the
// notice; make-up days are weekend days that become working days.
type span struct {
	kind, name, from, to string
}

// calendar2026 is 国务院办公厅关于2026年部分节假日安排的通知 (the State
// Council's notice on the 2026 public holidays).
var calendar2026 = []span{
	{Holiday, "元旦", "2026-01-01", "2026-01-03"},
	{Workday, "元旦调休上班", "2026-01-04", "2026-01-04"}, // 周日
	{Workday, "春节调休上班", "2026-02-14", "2026-02-14"}, // 周六
	{Holiday, "春节", "2026-02-15", "2026-02-23"},
	{Workday, "春节调休上班", "2026-02-28", "2026-02-28"}, // 周六
	{Holiday, "清明节", "2026-04-04", "2026-04-06"},
	{Holiday, "劳动节", "2026-05-01", "2026-05-05"},
	{Workday, "劳动节调休上班", "2026-05-09", "2026-05-09"}, // 周六
	{Holiday, "端午节", "2026-06-19", "2026-06-21"},
	{Workday, "国庆节调休上班", "2026-09-20", "2026-09-20"}, // 周日
	{Holiday, "中秋节", "2026-09-25", "2026-09-27"},
	{Holiday, "国庆节", "2026-10-01", "2026-10-07"},
	{Workday, "国庆节调休上班", "2026-10-10", "2026-10-10"}, // 周六
}

// calendar2027 is PROVISIONAL: the State Council had not published its 2027
// notice when this table was written. It is derived from the statutory days
// of 《全国年节及纪念日放假办法》 (as amended in 2024) and the arrangement
// rules that came with the amendment: 春节 8 days from 除夕, 劳动节 5 days,
// 国庆节 7 days, statutory days falling on a weekend made up on the next
// working days, other weekday shortfalls borrowed from weekends, and in
// general no more than 6 consecutive working days around a holiday.
// Holidays on a Wednesday (端午, 中秋) get no bridging. Where the notice
// could reasonably choose another make-up day, the choice is noted.
//
// Replace this table with the official notice (国务院办公厅关于2027年部分节假日
// 安排的通知) when it is published.
var calendar2027 = []span{
	// 1 Jan is a Friday: Fri–Sun, nothing to make up.
	{Holiday, "元旦", "2027-01-01", "2027-01-03"},
	// 除夕 5 Feb (Fri), 初一–初三 6–8 Feb. 8 days Fri 5 – Fri 12 Feb: 2 weekday
	// statutory days, 6–7 Feb (weekend) made up on 9–10 Feb, 11–12 Feb
	// borrowed from Sun 31 Jan and Sat 13 Feb (as in 2024, a make-up day right
	// after the break; Sat 20 Feb would be the alternative).
	{Workday, "春节调休上班", "2027-01-31", "2027-01-31"}, // 周日
	{Holiday, "春节", "2027-02-05", "2027-02-12"},
	{Workday, "春节调休上班", "2027-02-13", "2027-02-13"}, // 周六
	// 清明 5 Apr is a Monday: Sat–Mon.
	{Holiday, "清明节", "2027-04-03", "2027-04-05"},
	// 1–2 May fall on Sat–Sun, made up on 3–4 May; 5 May borrowed from Sat
	// 8 May (Sun 25 Apr would be the alternative).
	{Holiday, "劳动节", "2027-05-01", "2027-05-05"},
	{Workday, "劳动节调休上班", "2027-05-08", "2027-05-08"}, // 周六
	// 端午 9 Jun and 中秋 15 Sep are Wednesdays: the day alone.
	{Holiday, "端午节", "2027-06-09", "2027-06-09"},
	{Holiday, "中秋节", "2027-09-15", "2027-09-15"},
	// 1 Oct is a Friday: 7 days Fri 1 – Thu 7 Oct, 2–3 Oct made up on 4–5
	// Oct, 6–7 Oct borrowed from Sun 26 Sep and Sat 9 Oct (as in 2021, the
	// same weekdays).
	{Workday, "国庆节调休上班", "2027-09-26", "2027-09-26"}, // 周日
	{Holiday, "国庆节", "2027-10-01", "2027-10-07"},
	{Workday, "国庆节调休上班", "2027-10-09", "2027-10-09"}, // 周六
}

// ProvisionalYears are the years whose calendar is derived rather than taken
// from a published notice.
var ProvisionalYears = []int{2027}

// CalendarDays returns the demo calendar exceptions of 2026 and 2027, one
// per day, in date order.
func CalendarDays() []tenants.CalendarDay {
	var days []tenants.CalendarDay
	for _, table := range [][]span{calendar2026, calendar2027} {
		for _, s := range table {
			from, to := mustDay(s.from), mustDay(s.to)
			for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
				days = append(days, tenants.CalendarDay{Day: d, Kind: s.kind, Name: s.name})
			}
		}
	}
	return days
}

func mustDay(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(fmt.Sprintf("demo: calendar day %q: %v", s, err))
	}
	return d
}
