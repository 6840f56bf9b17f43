// Package catalog is the hall's catalogue of seed 004 (系统后台管理: 业务部门管理,
// 政务服务事项管理, 窗口配置): its halls (办事网点) with their opening hours,
// the business departments working in them, the service items (政务服务事项)
// each department offers — synchronised with the city's item management
// system, and for each whether it can be booked and whether tickets are
// taken on site — and the windows (办事窗口) that handle them.
//
// Staff maintain it through catalog:write (catalog:sync for the bulk import);
// anyone reads what is active through the tenant's public operations, which
// the portal, booking and the ticket machines use. Booking, queue and ratings
// read the tables directly; the exported functions (GetItem, ListItems,
// ItemsOfWindow, WindowsOfItem, GetHall, HallHours) are the same reads for Go
// callers.
package catalog

import (
	"context"
	"errors"

	"yamen/modules"
	"yamen/tenants"
)

// Module is the catalog module. Construct it with New; Provision connects it.
type Module struct {
	db *tenants.DB
}

// New returns the catalog module; it has no side effects.
func New() *Module { return &Module{} }

// Module implements modules.Module.
func (*Module) Module() modules.Info {
	return modules.Info{
		ID:      "catalog",
		Title:   modules.Text{ZH: "政务服务事项", EN: "Service items"},
		Bundles: []string{"affairs_hall"},
		Permissions: []modules.Permission{
			{Name: "catalog:read", Title: modules.Text{ZH: "查看服务事项", EN: "View service items"}},
			{Name: "catalog:write", Title: modules.Text{ZH: "维护服务事项及其预约、取号配置", EN: "Edit service items and their booking and ticket options"}},
			{Name: "catalog:sync", Title: modules.Text{ZH: "从事项管理系统同步事项", EN: "Sync items from the item management system"}},
		},
		Settings: nil,
	}
}

// Provision connects the module to the database.
func (m *Module) Provision(_ context.Context, env modules.Env) error {
	if env.DB == nil || env.Setting == nil {
		return errors.New("catalog: provisioned without settings or database")
	}
	m.db = &tenants.DB{Pool: env.DB}
	key, err := tenants.ParseAuditKey(env.Setting(settingAuditKey))
	if err != nil {
		return err
	}
	m.db.AuditKey = key
	return nil
}

// settingAuditKey is the key the module's writes sign the audit chain with.
const settingAuditKey = "YAMEN_AUDIT_KEY"

// Validate implements modules.Validator.
func (m *Module) Validate() error {
	if m.db == nil {
		return errors.New("catalog: not provisioned")
	}
	return nil
}

var (
	_ modules.Module        = (*Module)(nil)
	_ modules.Provisioner   = (*Module)(nil)
	_ modules.Validator     = (*Module)(nil)
	_ modules.RouteProvider = (*Module)(nil)
)
