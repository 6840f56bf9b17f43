// Package tasks is the 任务中心 of seeds 001 and 002: tasks are issued to
// people, groups or units, signed for, fed back on with text, photos and files,
// completed and reviewed.
package tasks

import "yamen/modules"

// Module declares the tasks module.
type Module struct{}

// New returns the tasks module; it has no side effects.
func New() *Module { return &Module{} }

// Module implements modules.Module.
func (*Module) Module() modules.Info {
	return modules.Info{
		ID:      "tasks",
		Title:   modules.Text{ZH: "任务中心", EN: "Task centre"},
		Bundles: []string{modules.EveryKind},
		// files: feedback carries photos and documents; messages: issued
		// tasks are pushed to the assignees (seed 001 6.1.1.8).
		Needs: []string{"files", "messages"},
		Permissions: []modules.Permission{
			{Name: "tasks:read", Title: modules.Text{ZH: "查看任务", EN: "View tasks"}},
			{Name: "tasks:issue", Title: modules.Text{ZH: "发布和下发任务", EN: "Issue tasks"}},
			{Name: "tasks:handle", Title: modules.Text{ZH: "签收、反馈和完结任务", EN: "Sign for, report on and complete tasks"}},
			{Name: "tasks:review", Title: modules.Text{ZH: "点评任务并给予奖惩", EN: "Review tasks and reward or penalise"}},
			{Name: "tasks:import", Title: modules.Text{ZH: "Excel 导入批量分派任务", EN: "Import tasks from Excel"}},
		},
		Settings: nil,
	}
}

var _ modules.Module = (*Module)(nil)
