// Package catalog is the 政务服务事项 list of seed 004: the service items of a
// hall's departments, synchronised with the city's item management system, and
// for each item whether it can be booked and whether tickets are taken on site.
package catalog

import "yamen/modules"

// Module declares the catalog module.
type Module struct{}

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

var _ modules.Module = (*Module)(nil)
