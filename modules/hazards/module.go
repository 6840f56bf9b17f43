// Package hazards is 隐患清零排查 (seed 002): hazards found in daily control or
// by model comparison are collected, approved and passed on until cleared,
// with reminders to officers and overdue items pushed to the responsible
// units.
package hazards

import "yamen/modules"

// Module declares the hazards module.
type Module struct{}

// New returns the hazards module; it has no side effects.
func New() *Module { return &Module{} }

// Module implements modules.Module.
func (*Module) Module() modules.Info {
	return modules.Info{
		ID:      "hazards",
		Title:   modules.Text{ZH: "隐患清零", EN: "Hazard clearance"},
		Bundles: []string{"police_bureau"},
		// messages: reminders to officers and overdue escalations.
		Needs: []string{"messages"},
		Permissions: []modules.Permission{
			{Name: "hazards:read", Title: modules.Text{ZH: "查看隐患", EN: "View hazards"}},
			{Name: "hazards:report", Title: modules.Text{ZH: "录入隐患", EN: "Report hazards"}},
			{Name: "hazards:approve", Title: modules.Text{ZH: "审批隐患处置", EN: "Approve hazard handling"}},
			{Name: "hazards:handle", Title: modules.Text{ZH: "流转、处置和反馈隐患", EN: "Pass on, handle and report back on hazards"}},
		},
		Settings: nil,
	}
}

var _ modules.Module = (*Module)(nil)
