// Package oneflow is 一件事一次办 (seed 004): themes that bundle the service
// items of one life event into one form, one set of materials and one
// parallel approval across departments, with efficiency statistics.
package oneflow

import "yamen/modules"

// Module declares the oneflow module.
type Module struct{}

// New returns the oneflow module; it has no side effects.
func New() *Module { return &Module{} }

// Module implements modules.Module.
func (*Module) Module() modules.Info {
	return modules.Info{
		ID:      "oneflow",
		Title:   modules.Text{ZH: "一件事一次办", EN: "One-thing services"},
		Bundles: []string{"affairs_hall"},
		// approvals: the departments approve in parallel; catalog: a theme
		// bundles service items.
		Needs: []string{"approvals", "catalog"},
		Permissions: []modules.Permission{
			{Name: "oneflow:read", Title: modules.Text{ZH: "查看一件事办件和效能统计", EN: "View cases and efficiency statistics"}},
			{Name: "oneflow:accept", Title: modules.Text{ZH: "窗口受理（含容缺受理）", EN: "Accept applications at the window"}},
			{Name: "oneflow:design", Title: modules.Text{ZH: "设计主题、套餐、流程和一张表单", EN: "Design themes, packages, flows and forms"}},
			{Name: "oneflow:export", Title: modules.Text{ZH: "导出统计报表", EN: "Export statistics"}},
		},
		Settings: nil,
	}
}

var _ modules.Module = (*Module)(nil)
