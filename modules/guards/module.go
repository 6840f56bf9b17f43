// Package guards is 保安服务监管 (seed 003): security companies, self-hiring
// units, training schools and guards; the three licences and four filings
// approved level by level after automatic background checks; the guard
// qualification exam from registration to certificate; inspections,
// complaints, problem personnel and emergency tasks.
package guards

import "yamen/modules"

// Module declares the guards module.
type Module struct{}

// New returns the guards module; it has no side effects.
func New() *Module { return &Module{} }

// Module implements modules.Module.
func (*Module) Module() modules.Info {
	return modules.Info{
		ID:      "guards",
		Title:   modules.Text{ZH: "保安服务监管", EN: "Security-service supervision"},
		Bundles: []string{"police_bureau"},
		// approvals: licences, filings and exam registrations climb an
		// approval chain; messages: exam notices and results go out by SMS.
		Needs: []string{"approvals", "messages"},
		Permissions: []modules.Permission{
			{Name: "guards:read", Title: modules.Text{ZH: "查看保安行业信息", EN: "View the security industry"}},
			{Name: "guards:write", Title: modules.Text{ZH: "维护保安协会、公司、单位和培训单位", EN: "Edit associations, companies, units and schools"}},
			{Name: "guards:approve", Title: modules.Text{ZH: "审批许可、备案和资格证", EN: "Approve licences, filings and certificates"}},
			{Name: "guards:exam", Title: modules.Text{ZH: "安排考试、录入和导入成绩", EN: "Arrange exams and record or import scores"}},
			{Name: "guards:certify", Title: modules.Text{ZH: "打印许可证和资格证", EN: "Print licences and certificates"}},
			{Name: "guards:inspect", Title: modules.Text{ZH: "录入监督检查情况", EN: "Record inspections"}},
			{Name: "guards:problems", Title: modules.Text{ZH: "处理问题人员", EN: "Handle problem personnel"}},
			{Name: "guards:emergency", Title: modules.Text{ZH: "创建和结束紧急任务", EN: "Create and close emergency tasks"}},
			{Name: "guards:export", Title: modules.Text{ZH: "导出保安行业数据", EN: "Export industry data"}},
		},
		Settings: nil,
	}
}

var _ modules.Module = (*Module)(nil)
