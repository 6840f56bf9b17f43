// Package messages is the 消息中心 of seed 001: one push service for SMS,
// DingTalk, email, 警务通 and in-app messages, with retry, delivery records,
// statistics and announcements, that every other module sends through.
package messages

import "yamen/modules"

// Settings are a tenant's push rules (seed 001 消息中心: 阈值设置、白名单).
// Seed 001 names the thresholds and the whitelist but sets no numbers, so the
// limits default to 0 (no limit) and whitelist mode defaults to off. The
// channel ids are the ones other modules' settings use.
type Settings struct {
	// Seed 001: 推送方式包含短信、钉钉、邮件、警务通、系统; seed 004 uses 站内信、短信、邮件,
	// so those three are on by default and DingTalk and 警务通 are opt-in.
	Channels []string `json:"channels" required:"false" enum:"in_app,sms,email,dingtalk,police_phone" uniqueItems:"true" maxItems:"5" default:"in_app,sms,email" doc:"启用的推送渠道：in_app 站内信, sms 短信, email 邮件, dingtalk 钉钉/浙政钉, police_phone 警务通 (enabled channels)"`

	SMSPerMinute         int `json:"sms_per_minute" required:"false" minimum:"0" maximum:"100000" default:"0" doc:"短信每分钟最多推送条数，0 为不限 (SMS messages per minute, 0 = no limit)"`
	EmailPerMinute       int `json:"email_per_minute" required:"false" minimum:"0" maximum:"100000" default:"0" doc:"邮件每分钟最多推送封数，0 为不限 (emails per minute, 0 = no limit)"`
	DingTalkPerMinute    int `json:"dingtalk_per_minute" required:"false" minimum:"0" maximum:"100000" default:"0" doc:"钉钉每分钟最多推送条数，0 为不限 (DingTalk messages per minute, 0 = no limit)"`
	PolicePhonePerMinute int `json:"police_phone_per_minute" required:"false" minimum:"0" maximum:"100000" default:"0" doc:"警务通每分钟最多推送条数，0 为不限 (police-phone messages per minute, 0 = no limit)"`
	InAppPerMinute       int `json:"in_app_per_minute" required:"false" minimum:"0" maximum:"100000" default:"0" doc:"站内信每分钟最多推送条数，0 为不限 (in-app messages per minute, 0 = no limit)"`

	WhitelistOnly bool     `json:"whitelist_only" required:"false" default:"false" doc:"白名单模式：开启后只向白名单中的接收人推送 (whitelist mode: deliver only to the recipients listed below)"`
	Whitelist     []string `json:"whitelist" required:"false" maxItems:"1000" minLength:"1" maxLength:"200" uniqueItems:"true" default:"[]" doc:"白名单：手机号、邮箱或人员编号 (whitelisted recipients: phone numbers, email addresses or member ids)"`
}

// Module declares the messages module.
type Module struct{}

// New returns the messages module; it has no side effects.
func New() *Module { return &Module{} }

// Module implements modules.Module.
func (*Module) Module() modules.Info {
	return modules.Info{
		ID:      "messages",
		Title:   modules.Text{ZH: "消息中心", EN: "Message centre"},
		Bundles: []string{modules.EveryKind},
		Permissions: []modules.Permission{
			{Name: "messages:read", Title: modules.Text{ZH: "查看推送记录和统计", EN: "View delivery records and statistics"}},
			{Name: "messages:send", Title: modules.Text{ZH: "推送消息", EN: "Send messages"}},
			{Name: "messages:announce", Title: modules.Text{ZH: "发布系统公告", EN: "Publish announcements"}},
			{Name: "messages:templates", Title: modules.Text{ZH: "维护推送模板", EN: "Maintain message templates"}},
		},
		Settings: Settings{},
	}
}

var _ modules.Module = (*Module)(nil)
