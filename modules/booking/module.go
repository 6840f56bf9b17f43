// Package booking is the 预约 system of seed 004: citizens book a slot for a
// service item, are reminded, may cancel within limits, and are barred for a
// while after repeated no-shows (违约惩戒).
//
// Slots are computed, not stored: the hall's opening hours cut into slots
// of the item's length on the jurisdiction's working days (调休 included).
// What is stored is how many places of a slot are taken
// (booking_slot_counts): a booking takes one with a conditional upsert in
// the transaction that writes the appointment, so no slot is ever oversold
// whatever the concurrency.
//
// Rules (seed 004 预约规则管理) come from three layers: the tenant's module
// settings, a department's rule, an item's rule; each gives only what
// differs from the layer below.
package booking

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"yamen/modules"
	"yamen/modules/booking/pass"
	"yamen/modules/messages"
	"yamen/tenants"
	"yamen/tenants/calendar"
)

// Settings are a tenant's booking rules (seed 004 预约规则管理, 违约规则),
// the defaults a department's or an item's rule overrides.
//
// Seed 004 says which rules are configurable — booking time and quantity,
// working days, cancellation deadline, cancellations per user per day, the
// appointment-ticket time limit, the number of violations, the penalty and its
// duration, the reminder time — but sets none of the numbers: every default
// below is ours.
type Settings struct {
	SlotMinutes         int      `json:"slot_minutes" required:"false" minimum:"5" maximum:"240" default:"30" doc:"每个预约时段的分钟数 (minutes per booking slot)"`
	CapacityPerSlot     int      `json:"capacity_per_slot" required:"false" minimum:"1" maximum:"10000" default:"5" doc:"每个时段可预约人数 (places per slot)"`
	DaysAhead           int      `json:"days_ahead" required:"false" minimum:"1" maximum:"90" default:"7" doc:"最多可提前多少天预约 (how many days ahead a slot can be booked)"`
	MinNoticeMinutes    int      `json:"min_notice_minutes" required:"false" minimum:"0" maximum:"10080" default:"60" doc:"最迟在时段开始前多少分钟预约 (latest booking, in minutes before the slot starts)"`
	DailyQuota          int      `json:"daily_quota" required:"false" minimum:"0" maximum:"1000000" default:"0" doc:"每个事项每天最多预约人数，0 为不限 (bookings per item per day, 0 = no limit)"`
	WorkingDaysOnly     bool     `json:"working_days_only" required:"false" default:"true" doc:"只开放工作日的时段（按辖区工作日历，含调休） (offer slots on working days only, by the jurisdiction calendar)"`
	RealNameLevel       string   `json:"real_name_level" required:"false" enum:"real_name,real_person,in_person" default:"real_name" doc:"须实名的事项要求的实名等级 (the real-name level items that require real names ask for)"`
	CancelMinutesBefore int      `json:"cancel_minutes_before" required:"false" minimum:"0" maximum:"2880" default:"60" doc:"最迟在预约时段开始前多少分钟可以取消 (latest cancellation, in minutes before the slot starts)"`
	CancellationsPerDay int      `json:"cancellations_per_day" required:"false" minimum:"1" maximum:"20" default:"3" doc:"每人每天最多取消次数，达到后当日不能再预约 (cancellations per person per day; once reached the person cannot book again that day)"`
	ActiveBookingsLimit int      `json:"active_bookings_limit" required:"false" minimum:"1" maximum:"100" default:"3" doc:"每人同时持有的未到期预约数上限 (bookings a person may hold at once)"`
	NoShowGraceMinutes  int      `json:"no_show_grace_minutes" required:"false" minimum:"0" maximum:"120" default:"15" doc:"预约时段结束后多少分钟内仍未取号视为违约 (minutes after the slot ends by which the appointment ticket must have been taken, or it counts as a no-show)"`
	ViolationLimit      int      `json:"violation_limit" required:"false" minimum:"1" maximum:"20" default:"3" doc:"统计周期内违约达到多少次即暂停预约资格 (no-shows within the window that bar a person)"`
	ViolationWindowDays int      `json:"violation_window_days" required:"false" minimum:"1" maximum:"365" default:"30" doc:"违约次数的统计周期（天） (window, in days, in which no-shows are counted)"`
	BarDays             int      `json:"bar_days" required:"false" minimum:"1" maximum:"365" default:"30" doc:"违约惩戒：暂停预约资格的天数 (days a barred person cannot book)"`
	RemindHoursBefore   int      `json:"remind_hours_before" required:"false" minimum:"0" maximum:"72" default:"24" doc:"在预约时段开始前多少小时发送办事提醒，0 为不提醒 (hours before the slot to send a reminder, 0 = none)"`
	RemindChannels      []string `json:"remind_channels" required:"false" enum:"sms" uniqueItems:"true" maxItems:"1" default:"sms" doc:"预约提醒的推送渠道；居民只有手机号，目前为短信 (channels reminders are sent on; citizens give only a phone number, so SMS for now)"`
}

// defaultSettings are the defaults the struct tags declare.
func defaultSettings() Settings {
	return Settings{
		SlotMinutes: 30, CapacityPerSlot: 5, DaysAhead: 7, MinNoticeMinutes: 60, WorkingDaysOnly: true,
		RealNameLevel: LevelRealName, CancelMinutesBefore: 60, CancellationsPerDay: 3, ActiveBookingsLimit: 3,
		NoShowGraceMinutes: 15, ViolationLimit: 3, ViolationWindowDays: 30, BarDays: 30, RemindHoursBefore: 24,
		RemindChannels: []string{messages.ChannelSMS},
	}
}

// Module is the booking module. Construct it with New; Provision connects it.
type Module struct {
	db       *tenants.DB
	log      *slog.Logger
	cal      *calendar.Calendar
	msgs     *messages.Module
	passKey  []byte
	now      func() time.Time
	provided *calendar.Calendar
	calMu    sync.Mutex
}

// Option changes a default of New.
type Option func(*Module)

// WithCalendar makes the module use c rather than the jurisdiction's
// calendar read at Provision (tests).
func WithCalendar(c *calendar.Calendar) Option { return func(m *Module) { m.provided = c } }

// WithClock makes the module read the time from now (tests).
func WithClock(now func() time.Time) Option { return func(m *Module) { m.now = now } }

// New returns the booking module, which sends its confirmations and
// reminders through msgs; it has no side effects.
func New(msgs *messages.Module, opts ...Option) *Module {
	m := &Module{msgs: msgs, now: time.Now}
	for _, o := range opts {
		o(m)
	}
	return m
}

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
			{Name: "booking:read_restricted", Title: modules.Text{ZH: "查看预约人完整手机号", EN: "See bookers' full phone numbers"}},
			{Name: "booking:configure", Title: modules.Text{ZH: "维护预约规则、违约规则和消息模板", EN: "Maintain booking rules, no-show rules and message templates"}},
			{Name: "booking:blacklist", Title: modules.Text{ZH: "管理预约黑白名单", EN: "Manage the booking black and white lists"}},
			{Name: "booking:appeals", Title: modules.Text{ZH: "处理违约申诉", EN: "Decide appeals against bars"}},
		},
		Settings: Settings{},
	}
}

// The actions citizens perform on their own bookings; no role grants them.
const (
	ActionBook   = "booking:book"
	ActionCancel = "booking:cancel"
	ActionAppeal = "booking:appeal"
	ActionOwn    = "booking:own"
)

// Policy implements modules.PolicyProvider: citizens book, cancel, appeal
// and read their own bookings.
func (*Module) Policy() string {
	return `package yamen.modules.booking

public_actions := {"citizen": {"booking:book", "booking:cancel", "booking:appeal", "booking:own"}}
`
}

// Provision connects the module and reads the jurisdiction's calendar and
// the pass key.
func (m *Module) Provision(ctx context.Context, env modules.Env) error {
	if env.Setting == nil || env.DB == nil {
		return errors.New("booking: provisioned without settings or database")
	}
	m.db = &tenants.DB{Pool: env.DB}
	var err error
	if m.db.AuditKey, err = tenants.ParseAuditKey(env.Setting(messages.SettingAuditKey)); err != nil {
		return fmt.Errorf("booking: %s: %w", messages.SettingAuditKey, err)
	}
	if m.passKey, err = pass.KeyFrom(env.Setting); err != nil {
		return fmt.Errorf("booking: %w", err)
	}
	m.log = env.Logger
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	return nil
}

// calendar returns the jurisdiction's working-day calendar, read when first
// needed: a service set up before its jurisdiction (tests, a fresh install)
// counts days in China Standard Time until the jurisdiction exists.
func (m *Module) calendar(ctx context.Context) *calendar.Calendar {
	m.calMu.Lock()
	defer m.calMu.Unlock()
	if m.provided != nil {
		return m.provided
	}
	if m.cal != nil {
		return m.cal
	}
	c, err := calendar.ForJurisdiction(ctx, m.db)
	if err != nil {
		loc, _ := time.LoadLocation("Asia/Shanghai")
		return calendar.New(m.db, loc)
	}
	m.cal = c
	return c
}

// Validate implements modules.Validator.
func (m *Module) Validate() error {
	if m.db == nil {
		return errors.New("booking: not provisioned")
	}
	return nil
}

var (
	_ modules.Module           = (*Module)(nil)
	_ modules.Provisioner      = (*Module)(nil)
	_ modules.Validator        = (*Module)(nil)
	_ modules.RouteProvider    = (*Module)(nil)
	_ modules.TaskProvider     = (*Module)(nil)
	_ modules.ScheduleProvider = (*Module)(nil)
	_ modules.PolicyProvider   = (*Module)(nil)
)
