// Package queue is the 取号叫号 system of seed 004: on-site and appointment
// tickets per service item, window calling, queue and window configuration,
// ticket terminals and LED screens.
//
// A ticket (号票) is taken at a kiosk for a service item — with a verified
// ID number when the item is real-name or the tenant requires it — or made
// from an appointment by scanning its QR code (the booking module's signed
// pass, accepted once and only around its slot). Numbers carry the item's
// prefix and count up per hall and prefix, from 1 each service day (A001).
// A window calls the next ticket of the items it handles (never one ticket
// to two windows), recalls it, marks it a no-show after enough recalls,
// transfers it to another item (it keeps its number and its place) or
// finishes it; a finished ticket becomes a case (办件) for the ratings
// module. Display boards follow the calls over Server-Sent Events.
//
// The hall's windows, items and departments are the catalog module's
// tables, read here.
package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"yamen/modules"
	"yamen/modules/booking/pass"
	"yamen/tenants"
)

// The orders a hall may call its tickets in.
const (
	// OrderAppointmentsFirst calls appointment tickets whose slot has begun
	// first, then priority tickets, then everyone else by arrival.
	OrderAppointmentsFirst = "appointments_first"
	// OrderArrival calls strictly by arrival.
	OrderArrival = "arrival"
)

// Settings are a tenant's ticket rules (seed 004 取号系统, 队列配置). Seed 004
// names the rules but sets no numbers: every default below is ours.
//
// The ticket prefix is the service item's (catalog_items.ticket_prefix),
// so the tenant-wide prefix this struct once declared is gone.
type Settings struct {
	Order string `json:"order" required:"false" enum:"appointments_first,arrival" default:"appointments_first" doc:"叫号顺序：appointments_first 已到预约时段的预约号优先，其次优先号，再按到达先后；arrival 严格按到达先后 (calling order: appointments in their slot, then priority tickets, then arrival; or strictly by arrival)"`
	// Seed 004: 取号终端引导用户选择具体办理事项后验证身份(身份证、扫码、刷脸)，完成取号.
	VerifyIdentity bool `json:"verify_identity" required:"false" default:"true" doc:"现场取号一律须验证身份证号码；关闭时只有实名事项需要 (on-site tickets always require a verified ID number; when off, only real-name items do)"`
	ResetDaily     bool `json:"reset_daily" required:"false" default:"true" doc:"号码每天从 1 重新开始 (restart ticket numbers every day)"`
	ResetHour      int  `json:"reset_hour" required:"false" minimum:"0" maximum:"23" default:"0" doc:"每天几点起算新的一天的号码（辖区时间） (the hour, in the jurisdiction's time zone, at which a new day's numbers begin)"`
	// Seed 004 预约取号时限配置: when an appointment may be turned into a ticket.
	CheckInMinutesBefore int `json:"check_in_minutes_before" required:"false" minimum:"0" maximum:"240" default:"30" doc:"预约时段开始前多少分钟起可以扫码取号 (how many minutes before the slot an appointment may check in)"`
	CheckInMinutesAfter  int `json:"check_in_minutes_after" required:"false" minimum:"0" maximum:"240" default:"15" doc:"预约时段结束后多少分钟内仍可扫码取号 (how many minutes after the slot ends an appointment may still check in)"`
	RecallsBeforeNoShow  int `json:"recalls_before_no_show" required:"false" minimum:"0" maximum:"10" default:"2" doc:"重呼多少次后才可以标记为过号 (recalls needed before a ticket may be marked a no-show)"`
}

func defaultSettings() Settings {
	return Settings{Order: OrderAppointmentsFirst, VerifyIdentity: true, ResetDaily: true, CheckInMinutesBefore: 30, CheckInMinutesAfter: 15, RecallsBeforeNoShow: 2}
}

// Module is the queue module. Construct it with New; Provision connects it.
type Module struct {
	db      *tenants.DB
	log     *slog.Logger
	passKey []byte
	board   board
}

// New returns the queue module; it has no side effects.
func New() *Module { return &Module{} }

// Module implements modules.Module.
func (*Module) Module() modules.Info {
	return modules.Info{
		ID:      "queue",
		Title:   modules.Text{ZH: "取号叫号", EN: "Queue tickets"},
		Bundles: []string{"affairs_hall"},
		// catalog: tickets are taken per service item.
		Needs: []string{"catalog"},
		Permissions: []modules.Permission{
			{Name: "queue:read", Title: modules.Text{ZH: "查看排队和取号终端状态", EN: "View queues and terminal status"}},
			{Name: "queue:issue", Title: modules.Text{ZH: "现场取号和预约扫码取号（取号终端）", EN: "Issue on-site tickets and check appointments in (ticket kiosks)"}},
			{Name: "queue:call", Title: modules.Text{ZH: "窗口叫号、重呼、过号、转办和办结", EN: "Call, recall, mark no-show, transfer and finish tickets at a window"}},
			{Name: "queue:configure", Title: modules.Text{ZH: "配置窗口、队列、取号终端和叫号屏", EN: "Configure windows, queues, terminals and screens"}},
		},
		Settings: Settings{},
	}
}

// Provision connects the module and reads the pass key.
func (m *Module) Provision(_ context.Context, env modules.Env) error {
	if env.Setting == nil || env.DB == nil {
		return errors.New("queue: provisioned without settings or database")
	}
	key, err := pass.KeyFrom(env.Setting)
	if err != nil {
		return fmt.Errorf("queue: %w", err)
	}
	m.passKey = key
	m.db = &tenants.DB{Pool: env.DB}
	if m.db.AuditKey, err = tenants.ParseAuditKey(auditKey(env)); err != nil {
		return fmt.Errorf("queue: YAMEN_AUDIT_KEY: %w", err)
	}
	m.log = env.Logger
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	return nil
}

func auditKey(env modules.Env) string {
	if k := env.Setting("YAMEN_AUDIT_KEY"); k != "" {
		return k
	}
	return tenants.DevAuditKey
}

// Validate implements modules.Validator.
func (m *Module) Validate() error {
	if m.db == nil {
		return errors.New("queue: not provisioned")
	}
	return nil
}

// Cleanup implements modules.CleanerUpper: it stops the board listener.
func (m *Module) Cleanup() error {
	m.board.close()
	return nil
}

var (
	_ modules.Module         = (*Module)(nil)
	_ modules.Provisioner    = (*Module)(nil)
	_ modules.Validator      = (*Module)(nil)
	_ modules.RouteProvider  = (*Module)(nil)
	_ modules.CleanerUpper   = (*Module)(nil)
	_ modules.PolicyProvider = (*Module)(nil)
)
