// Package permits is 居住证 (seed 000): applications checked against the
// residence precondition, registration (first issue, renewal, replacement),
// the deputy station director's approval, printing and issue, queries and
// statistics.
package permits

import "yamen/modules"

// Settings are a tenant's residence-permit rules (seed 000).
type Settings struct {
	// Seed 000: 限定居住证办理的前置条件为"三实"信息登记累计满半年.
	MinResidenceMonths int `json:"min_residence_months" required:"false" minimum:"1" maximum:"24" default:"6" doc:"申领居住证须在本地居住或从业登记累计满多少个月 (months of registered residence or employment required before applying)"`
}

// Module declares the permits module.
type Module struct{}

// New returns the permits module; it has no side effects.
func New() *Module { return &Module{} }

// Module implements modules.Module.
func (*Module) Module() modules.Info {
	return modules.Info{
		ID:      "permits",
		Title:   modules.Text{ZH: "居住证", EN: "Residence permits"},
		Bundles: []string{"police_bureau"},
		// approvals: the deputy director approves or sends back.
		Needs: []string{"approvals"},
		Permissions: []modules.Permission{
			{Name: "permits:read", Title: modules.Text{ZH: "查询居住证", EN: "View residence permits"}},
			{Name: "permits:register", Title: modules.Text{ZH: "受理登记居住证申请", EN: "Register applications"}},
			{Name: "permits:approve", Title: modules.Text{ZH: "审核居住证申请（派出所副所长）", EN: "Approve applications (deputy station director)"}},
			{Name: "permits:issue", Title: modules.Text{ZH: "制证和发证", EN: "Print and issue permits"}},
			{Name: "permits:export", Title: modules.Text{ZH: "导出居住证数据", EN: "Export permit data"}},
		},
		Settings: Settings{},
	}
}

var _ modules.Module = (*Module)(nil)
