// Package queue is the 取号叫号 system of seed 004: on-site and appointment
// tickets per service item, window calling, queue and window configuration,
// ticket terminals and LED screens.
package queue

import "yamen/modules"

// Settings are a tenant's ticket rules (seed 004 取号系统).
type Settings struct {
	// Not set by seed 004; a single letter is the common hall convention.
	TicketPrefix string `json:"ticket_prefix" required:"false" pattern:"^[A-Z]{0,3}$" maxLength:"3" default:"A" doc:"号票号码前缀（大写字母，最多 3 位） (ticket number prefix, up to 3 capital letters)"`
	ResetDaily   bool   `json:"reset_daily" required:"false" default:"true" doc:"号码每天从 1 重新开始 (restart ticket numbers every day)"`
	// Seed 004: 取号终端引导用户选择具体办理事项后验证身份(身份证、扫码、刷脸)，完成取号.
	VerifyIdentity bool `json:"verify_identity" required:"false" default:"true" doc:"现场取号须验证身份（身份证、扫码或刷脸） (on-site tickets require an identity check: ID card, QR code or face)"`
}

// Module declares the queue module.
type Module struct{}

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
			{Name: "queue:call", Title: modules.Text{ZH: "窗口叫号", EN: "Call tickets at a window"}},
			{Name: "queue:configure", Title: modules.Text{ZH: "配置窗口、队列、取号终端和叫号屏", EN: "Configure windows, queues, terminals and screens"}},
		},
		Settings: Settings{},
	}
}

var _ modules.Module = (*Module)(nil)
