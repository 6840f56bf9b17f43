// Package watch is 居住证监督管理 (seed 000): daily comparisons of the
// floating-population and employee registers, and alerts on permit handling —
// rejection rates, volume spikes, off-hours registration, more than 3 working
// days to issue, print-terminal anomalies, waste-rate spikes, one person in
// many places and one address with many permits.
package watch

import "yamen/modules"

// Settings are a tenant's supervision thresholds (seed 000 居住证监督管理).
//
// Seed 000 fixes one number, the 3 working days from acceptance to issue. For
// the other alerts it says a threshold is set (阈值, 大幅提高, 某时间段内, 正常上班时间)
// but not its value: those defaults are ours.
type Settings struct {
	DailyCheckAt string `json:"daily_check_at" required:"false" pattern:"^([01][0-9]|2[0-3]):[0-5][0-9]$" default:"02:00" doc:"每天备份并比对登记表的时间（HH:MM） (time of the daily register backup and comparison, HH:MM)"`
	WorkStart    string `json:"work_start" required:"false" pattern:"^([01][0-9]|2[0-3]):[0-5][0-9]$" default:"08:30" doc:"工作日上班时间，之外登记的居住证视为异常（HH:MM） (start of office hours on working days; registrations outside office hours raise an alert)"`
	WorkEnd      string `json:"work_end" required:"false" pattern:"^([01][0-9]|2[0-3]):[0-5][0-9]$" default:"17:30" doc:"工作日下班时间（HH:MM） (end of office hours on working days)"`
	// Seed 000: 计算受理时间与领证时间之差是否大于3工作日，如果大于，则系统会自动进行预警提醒.
	IssueWithinWorkingDays    int `json:"issue_within_working_days" required:"false" minimum:"1" maximum:"30" default:"3" doc:"受理到领证超过多少个工作日即预警 (working days from acceptance to issue beyond which an alert is raised)"`
	RejectionRatePercent      int `json:"rejection_rate_percent" required:"false" minimum:"1" maximum:"100" default:"30" doc:"派出所审批不通过率超过多少（%）即预警 (a station's rejection rate, in percent, above which an alert is raised)"`
	BaselineDays              int `json:"baseline_days" required:"false" minimum:"7" maximum:"365" default:"30" doc:"计算各派出所每日办理量参考值所取的历史天数 (days of history a station's daily reference volume is computed from)"`
	VolumeOverBaselinePercent int `json:"volume_over_baseline_percent" required:"false" minimum:"1" maximum:"1000" default:"50" doc:"当日办理量超出参考值多少（%）即预警 (percent above the reference volume at which a day's volume raises an alert)"`
	WasteRateIncreasePercent  int `json:"waste_rate_increase_percent" required:"false" minimum:"1" maximum:"1000" default:"50" doc:"废证率较参考期上升多少（%）即预警 (percent rise of the waste rate over the reference period that raises an alert)"`
	SamePersonWindowDays      int `json:"same_person_window_days" required:"false" minimum:"1" maximum:"365" default:"30" doc:"同一人在多少天内于两地以上办证即预警 (days within which one person applying in two or more places raises an alert)"`
	SameAddressMaxPermits     int `json:"same_address_max_permits" required:"false" minimum:"2" maximum:"1000" default:"10" doc:"同一地址有效居住证超过多少张即预警 (valid permits at one address above which an alert is raised)"`
	// Seed 000: 提醒方式包括：短信提醒、消息提醒等.
	AlertChannels []string `json:"alert_channels" required:"false" enum:"in_app,sms,email,dingtalk,police_phone" uniqueItems:"true" minItems:"1" maxItems:"5" default:"in_app,sms" doc:"预警提醒渠道 (channels alerts are sent through)"`
}

// Module declares the watch module.
type Module struct{}

// New returns the watch module; it has no side effects.
func New() *Module { return &Module{} }

// Module implements modules.Module.
func (*Module) Module() modules.Info {
	return modules.Info{
		ID:      "watch",
		Title:   modules.Text{ZH: "监督预警", EN: "Supervision alerts"},
		Bundles: []string{"police_bureau"},
		// permits: the alerts are about permit handling; messages: 短信提醒、消息提醒.
		Needs: []string{"messages", "permits"},
		Permissions: []modules.Permission{
			{Name: "watch:read", Title: modules.Text{ZH: "查看预警记录和监控点统计", EN: "View alerts and monitoring statistics"}},
			{Name: "watch:configure", Title: modules.Text{ZH: "配置预警规则和登记打印终端", EN: "Configure alert rules and register print terminals"}},
			{Name: "watch:export", Title: modules.Text{ZH: "导出监控点统计报表", EN: "Export monitoring reports"}},
		},
		Settings: Settings{},
	}
}

var _ modules.Module = (*Module)(nil)
