// Package credit is the public credit platform of seed 004: departments submit
// credit records, administrative licences and penalties are published (双公示),
// red and black lists drive joint rewards and punishments, and subjects raise
// objections and apply for credit repair.
package credit

import "yamen/modules"

// Settings are a tenant's credit-publication rules (seed 004).
type Settings struct {
	// Seed 004: 在行政许可和行政处罚作出决定之日起7个工作日内发布相应信息. The
	// maximum is the rule itself: a tenant may be stricter, not slower.
	PublishWithinWorkingDays int `json:"publish_within_working_days" required:"false" minimum:"1" maximum:"7" default:"7" doc:"行政许可、行政处罚自作出决定之日起多少个工作日内公示（双公示，不得超过 7 个工作日） (working days from a licence or penalty decision to its publication, at most 7)"`
	// Seed 004: 对于无需审核直接生效的信息直接发布，需审核的经审核后方可发布 —
	// configurable; reviewing first is our default.
	ReviewBeforePublish bool `json:"review_before_publish" required:"false" default:"true" doc:"双公示信息须经审核后方可发布 (licence and penalty records are reviewed before they are published)"`
}

// Module declares the credit module.
type Module struct{}

// New returns the credit module; it has no side effects.
func New() *Module { return &Module{} }

// Module implements modules.Module.
func (*Module) Module() modules.Info {
	return modules.Info{
		ID:      "credit",
		Title:   modules.Text{ZH: "信用信息", EN: "Credit records"},
		Bundles: []string{"credit_center"},
		// files: credit commitments and repair materials are uploaded.
		Needs: []string{"files"},
		Permissions: []modules.Permission{
			{Name: "credit:read", Title: modules.Text{ZH: "查询信用信息", EN: "Query credit records"}},
			{Name: "credit:read_restricted", Title: modules.Text{ZH: "查询受控信用信息", EN: "Query restricted credit records"}},
			{Name: "credit:submit", Title: modules.Text{ZH: "报送信用信息", EN: "Submit credit records"}},
			{Name: "credit:import", Title: modules.Text{ZH: "Excel 批量报送", EN: "Import credit records from Excel"}},
			{Name: "credit:review", Title: modules.Text{ZH: "审核双公示信息和信用承诺", EN: "Review licence, penalty and commitment records"}},
			{Name: "credit:publish", Title: modules.Text{ZH: "发布和停发双公示信息", EN: "Publish and withdraw licences and penalties (双公示)"}},
			{Name: "credit:lists", Title: modules.Text{ZH: "管理红黑名单", EN: "Manage the red and black lists"}},
			{Name: "credit:sanctions", Title: modules.Text{ZH: "发起联合奖惩并反馈执行", EN: "Start joint rewards and punishments and report on them"}},
			{Name: "credit:objections", Title: modules.Text{ZH: "处理信用异议", EN: "Handle credit objections"}},
			{Name: "credit:repair", Title: modules.Text{ZH: "审核信用修复", EN: "Review credit repair"}},
			{Name: "credit:export", Title: modules.Text{ZH: "导出信用统计", EN: "Export credit statistics"}},
		},
		Settings: Settings{},
	}
}

var _ modules.Module = (*Module)(nil)
