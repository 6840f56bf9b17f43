// Package intermediaries is the 中介超市 of seed 004: intermediaries register
// and are approved, owners publish project demands and select, contracts and
// results are filed, each project is evaluated on five dimensions, and credit
// scores, red and black lists and complaints follow.
package intermediaries

import "yamen/modules"

// Settings are a tenant's intermediary-marketplace rules (seed 004).
type Settings struct {
	// Seed 004: 中介机构对单宗项目评价结果有异议的，在评价结果公布后5个工作日内申请调整，超期项目不予受理.
	AppealWorkingDays int `json:"appeal_working_days" required:"false" minimum:"1" maximum:"30" default:"5" doc:"评价结果公布后多少个工作日内可申请调整，超期不予受理 (working days after an evaluation is published in which an intermediary may ask for a change)"`
	// Seed 004: 不良记录累计达到一定次数后，可将中介机构列入黑名单 — the count
	// is not given; 3 is ours.
	BlacklistThreshold int `json:"blacklist_threshold" required:"false" minimum:"1" maximum:"20" default:"3" doc:"不良记录累计达到多少次时提示列入黑名单 (bad records after which the intermediary is proposed for the black list)"`
}

// Module declares the intermediaries module.
type Module struct{}

// New returns the intermediaries module; it has no side effects.
func New() *Module { return &Module{} }

// Module implements modules.Module.
func (*Module) Module() modules.Info {
	return modules.Info{
		ID:      "intermediaries",
		Title:   modules.Text{ZH: "中介超市", EN: "Intermediary marketplace"},
		Bundles: []string{"affairs_hall"},
		// files: contract scans and service results; messages: SMS to
		// intermediaries on approvals and new project demands.
		Needs: []string{"files", "messages"},
		Permissions: []modules.Permission{
			{Name: "intermediaries:read", Title: modules.Text{ZH: "查看中介机构、项目和合同", EN: "View intermediaries, projects and contracts"}},
			{Name: "intermediaries:approve", Title: modules.Text{ZH: "审批入驻、变更和退出", EN: "Approve registrations, changes and withdrawals"}},
			{Name: "intermediaries:publish", Title: modules.Text{ZH: "核验发布项目需求和公告", EN: "Verify and publish project demands and notices"}},
			{Name: "intermediaries:evaluate", Title: modules.Text{ZH: "评价中介服务", EN: "Evaluate intermediary services"}},
			{Name: "intermediaries:score", Title: modules.Text{ZH: "评定信用分、登记不良记录、审核评分调整", EN: "Set credit scores, record misconduct, review score appeals"}},
			{Name: "intermediaries:blacklist", Title: modules.Text{ZH: "管理红黑名单", EN: "Manage the red and black lists"}},
			{Name: "intermediaries:complaints", Title: modules.Text{ZH: "处理投诉和咨询", EN: "Handle complaints and enquiries"}},
			{Name: "intermediaries:configure", Title: modules.Text{ZH: "配置综合得分公式和短信模板", EN: "Configure the score formula and SMS templates"}},
			{Name: "intermediaries:export", Title: modules.Text{ZH: "导出办件和统计（Excel）", EN: "Export cases and statistics (Excel)"}},
		},
		Settings: Settings{},
	}
}

var _ modules.Module = (*Module)(nil)
