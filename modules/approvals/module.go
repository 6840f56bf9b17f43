// Package approvals runs multi-step approval chains for the other modules: the
// 通用审批 to-do list of seed 003 (each level approves or sends back, with a
// visible progress log), the transfer and third-push approvals of seed 001 and
// the residence-permit review of seed 000.
package approvals

import "yamen/modules"

// Module declares the approvals module.
type Module struct{}

// New returns the approvals module; it has no side effects.
func New() *Module { return &Module{} }

// Module implements modules.Module.
func (*Module) Module() modules.Info {
	return modules.Info{
		ID:      "approvals",
		Title:   modules.Text{ZH: "通用审批", EN: "Approvals"},
		Bundles: []string{modules.EveryKind},
		Permissions: []modules.Permission{
			{Name: "approvals:read", Title: modules.Text{ZH: "查看待办和审批进度", EN: "View to-dos and approval progress"}},
			{Name: "approvals:approve", Title: modules.Text{ZH: "审批（同意或退回）", EN: "Approve or send back"}},
			{Name: "approvals:configure", Title: modules.Text{ZH: "配置审批流程", EN: "Configure approval chains"}},
			{Name: "approvals:export", Title: modules.Text{ZH: "导出审批记录", EN: "Export approval records"}},
		},
		Settings: nil,
	}
}

var _ modules.Module = (*Module)(nil)
