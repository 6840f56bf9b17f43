// Package units is 单位场所统一管理 (seeds 000, 002): the register of units and
// places by industry, dispatched by the specialist departments to stations,
// signed for or returned with a reason and re-dispatched, inspected per
// managing department, with Excel import of suspect units and the
// economic-investigation keyword rules.
package units

import "yamen/modules"

// Module declares the units module.
type Module struct{}

// New returns the units module; it has no side effects.
func New() *Module { return &Module{} }

// Module implements modules.Module.
func (*Module) Module() modules.Info {
	return modules.Info{
		ID:      "units",
		Title:   modules.Text{ZH: "单位场所", EN: "Units and places"},
		Bundles: []string{"police_bureau"},
		// files: inspections upload pictures (e.g. the 落实安全审计措施告知函).
		Needs: []string{"files"},
		Permissions: []modules.Permission{
			{Name: "units:read", Title: modules.Text{ZH: "查看单位场所", EN: "View units and places"}},
			{Name: "units:write", Title: modules.Text{ZH: "录入和修改单位信息", EN: "Record and edit units"}},
			{Name: "units:dispatch", Title: modules.Text{ZH: "派发、转发和再次派发单位", EN: "Dispatch, forward and re-dispatch units"}},
			{Name: "units:sign", Title: modules.Text{ZH: "签收或退回派发的单位", EN: "Sign for or return dispatched units"}},
			{Name: "units:deregister", Title: modules.Text{ZH: "注销单位", EN: "Deregister units"}},
			{Name: "units:inspect", Title: modules.Text{ZH: "录入单位检查", EN: "Record inspections"}},
			{Name: "units:keywords", Title: modules.Text{ZH: "维护经侦关键词匹配规则", EN: "Maintain economic-investigation keyword rules"}},
			{Name: "units:import", Title: modules.Text{ZH: "Excel 导入嫌疑单位", EN: "Import suspect units from Excel"}},
			{Name: "units:export", Title: modules.Text{ZH: "导出单位和统计报表", EN: "Export units and reports"}},
		},
		Settings: nil,
	}
}

var _ modules.Module = (*Module)(nil)
