// Package booking is the 预约 system of seed 004: citizens book a slot for a
// service item, are reminded, may cancel within limits, and are barred for a
// while after repeated no-shows (违约惩戒).
package booking

import "yamen/modules"

// Settings are a tenant's booking rules (seed 004 预约规则管理, 违约规则).
//
// Seed 004 says which rules are configurable — booking time and quantity,
// working days, cancellation deadline, cancellations per user per day, the
// appointment-ticket time limit, the number of violations, the penalty and its
// duration, the reminder time — but sets none of the numbers: every default
// below is ours.
type Settings struct {
	SlotMinutes         int  `json:"slot_minutes" required:"false" minimum:"5" maximum:"240" default:"30" doc:"每个预约时段的分钟数 (minutes per booking slot)"`
	DaysAhead           int  `json:"days_ahead" required:"false" minimum:"1" maximum:"90" default:"7" doc:"最多可提前多少天预约 (how many days ahead a slot can be booked)"`
	WorkingDaysOnly     bool `json:"working_days_only" required:"false" default:"true" doc:"只开放工作日的时段（按辖区工作日历，含调休） (offer slots on working days only, by the jurisdiction calendar)"`
	CancelMinutesBefore int  `json:"cancel_minutes_before" required:"false" minimum:"0" maximum:"2880" default:"60" doc:"最迟在预约时段开始前多少分钟可以取消 (latest cancellation, in minutes before the slot starts)"`
	CancellationsPerDay int  `json:"cancellations_per_day" required:"false" minimum:"1" maximum:"20" default:"3" doc:"每人每天最多取消次数，超过后当日不能再预约 (cancellations per person per day; beyond it the person cannot book again that day)"`
	NoShowGraceMinutes  int  `json:"no_show_grace_minutes" required:"false" minimum:"0" maximum:"120" default:"15" doc:"预约时段开始后多少分钟内未取号视为违约 (minutes after the slot starts by which the appointment ticket must be taken, or it counts as a no-show)"`
	ViolationLimit      int  `json:"violation_limit" required:"false" minimum:"1" maximum:"20" default:"3" doc:"统计周期内违约达到多少次即暂停预约资格 (no-shows within the window that bar a person)"`
	ViolationWindowDays int  `json:"violation_window_days" required:"false" minimum:"1" maximum:"365" default:"30" doc:"违约次数的统计周期（天） (window, in days, in which no-shows are counted)"`
	BarDays             int  `json:"bar_days" required:"false" minimum:"1" maximum:"365" default:"30" doc:"违约惩戒：暂停预约资格的天数 (days a barred person cannot book)"`
	RemindHoursBefore   int  `json:"remind_hours_before" required:"false" minimum:"0" maximum:"72" default:"24" doc:"在预约时段开始前多少小时发送办事提醒，0 为不提醒 (hours before the slot to send a reminder, 0 = none)"`
}

// Module declares the booking module.
type Module struct{}

// New returns the booking module; it has no side effects.
func New() *Module { return &Module{} }

// Module implements modules.Module.
func (*Module) Module() modules.Info {
	return modules.Info{
		ID:      "booking",
		Title:   modules.Text{ZH: "预约", EN: "Appointments"},
		Bundles: []string{"affairs_hall"},
		// catalog: slots are for service items; messages: confirmations,
		// cancellations and reminders.
		Needs: []string{"catalog", "messages"},
		Permissions: []modules.Permission{
			{Name: "booking:read", Title: modules.Text{ZH: "查看预约和履约情况", EN: "View bookings and attendance"}},
			{Name: "booking:configure", Title: modules.Text{ZH: "维护预约规则、违约规则和消息模板", EN: "Maintain booking rules, no-show rules and message templates"}},
			{Name: "booking:blacklist", Title: modules.Text{ZH: "管理预约黑白名单", EN: "Manage the booking black and white lists"}},
		},
		Settings: Settings{},
	}
}

var _ modules.Module = (*Module)(nil)
