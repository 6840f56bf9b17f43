// Package ratings is 好差评 (seed 004): every case rated on five levels with
// tags, unrated cases rated 基本满意 by default, bad ratings assigned, rectified
// and rated a second time, statistics down to the community, and upload to the
// provincial system.
package ratings

import "yamen/modules"

// Settings are a tenant's 好差评 rules (seed 004).
type Settings struct {
	// Seed 004: 若办件生成7个自然日内未获评价，评价结果默认为"基本满意".
	DefaultAfterDays int `json:"default_after_days" required:"false" minimum:"1" maximum:"30" default:"7" doc:"办件办结后多少个自然日内未评价，由系统默认评价为“基本满意” (natural days after which the system rates an unrated case 基本满意)"`
	// Seed 004: 在企业和群众完成评价或系统完成超期默认评价后5个工作日，可以通过线上渠道完成追加评价.
	FollowUpWorkingDays int `json:"follow_up_working_days" required:"false" minimum:"1" maximum:"30" default:"5" doc:"评价（含系统默认评价）后多少个工作日内可以追加评价 (working days after a rating, or the default rating, in which a follow-up rating is accepted)"`
	// Seed 004 sets no rectification deadline (差评 are to be handled 及时);
	// 5 working days is the platform's default.
	RectifyWorkingDays int `json:"rectify_working_days" required:"false" minimum:"1" maximum:"30" default:"5" doc:"差评须在多少个工作日内完成整改反馈 (working days to rectify a bad rating and report back)"`
	// Seed 004: 差评时系统自动推送信息到站内信、短信或邮件给管理员或主管部门.
	BadRatingChannels []string `json:"bad_rating_channels" required:"false" enum:"in_app,sms,email" uniqueItems:"true" minItems:"1" maxItems:"3" default:"in_app,sms" doc:"差评通知管理员或主管部门的渠道 (channels that notify admins and the responsible department of a bad rating)"`
}

// Module declares the ratings module.
type Module struct{}

// New returns the ratings module; it has no side effects.
func New() *Module { return &Module{} }

// Module implements modules.Module.
func (*Module) Module() modules.Info {
	return modules.Info{
		ID:      "ratings",
		Title:   modules.Text{ZH: "好差评", EN: "Service ratings"},
		Bundles: []string{"affairs_hall"},
		// messages: bad-rating and rectification notices.
		Needs: []string{"messages"},
		Permissions: []modules.Permission{
			{Name: "ratings:read", Title: modules.Text{ZH: "查看评价和统计", EN: "View ratings and statistics"}},
			{Name: "ratings:assign", Title: modules.Text{ZH: "交办差评", EN: "Assign bad ratings"}},
			{Name: "ratings:rectify", Title: modules.Text{ZH: "差评整改反馈", EN: "Rectify bad ratings"}},
			{Name: "ratings:configure", Title: modules.Text{ZH: "维护评价标签", EN: "Maintain rating tags"}},
			{Name: "ratings:export", Title: modules.Text{ZH: "导出评价数据", EN: "Export ratings"}},
		},
		Settings: Settings{},
	}
}

var _ modules.Module = (*Module)(nil)
