// Package reports is the drill-down statistics of seeds 000 and 001: counts by
// district, then station, then police area (or hall, department, window), with
// year-on-year and month-on-month comparisons, Excel export and printing.
package reports

import "yamen/modules"

// Module declares the reports module.
type Module struct{}

// New returns the reports module; it has no side effects.
func New() *Module { return &Module{} }

// Module implements modules.Module.
func (*Module) Module() modules.Info {
	return modules.Info{
		ID:      "reports",
		Title:   modules.Text{ZH: "统计报表", EN: "Reports"},
		Bundles: []string{modules.EveryKind},
		Permissions: []modules.Permission{
			{Name: "reports:read", Title: modules.Text{ZH: "查看和钻取统计报表", EN: "View and drill into reports"}},
			{Name: "reports:export", Title: modules.Text{ZH: "导出统计报表（Excel）", EN: "Export reports (Excel)"}},
			{Name: "reports:design", Title: modules.Text{ZH: "设计报表", EN: "Design reports"}},
		},
		Settings: nil,
	}
}

var _ modules.Module = (*Module)(nil)
