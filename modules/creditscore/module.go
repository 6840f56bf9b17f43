// Package creditscore is the scoring half of seed 004's credit platform:
// credit indicators and rating models give each person a credit score and
// grade, and warning rules watch subjects and raise credit-risk warnings.
package creditscore

import "yamen/modules"

// Settings are a tenant's credit-warning schedule (seed 004 信用监测预警).
type Settings struct {
	// Seed 004: 系统支持设置日、周、月模式，并且可设置预警时点，如0点、8点.
	WarningPeriod string `json:"warning_period" required:"false" enum:"day,week,month" default:"day" doc:"预警周期：day 每日, week 每周, month 每月 (how often warnings are raised)"`
	WarningHour   int    `json:"warning_hour" required:"false" minimum:"0" maximum:"23" default:"8" doc:"预警时点（0–23 点） (hour of day warnings are raised)"`
	// Seed 004: 系统消息预警、系统预警信息推送、预警邮件发送三种预警方式，可自定义设置.
	WarningChannels []string `json:"warning_channels" required:"false" enum:"in_app,sms,email" uniqueItems:"true" minItems:"1" maxItems:"3" default:"in_app" doc:"预警方式 (channels warnings are sent through)"`
}

// Module declares the creditscore module.
type Module struct{}

// New returns the creditscore module; it has no side effects.
func New() *Module { return &Module{} }

// Module implements modules.Module.
func (*Module) Module() modules.Info {
	return modules.Info{
		ID:      "creditscore",
		Title:   modules.Text{ZH: "信用评价与预警", EN: "Credit scores and warnings"},
		Bundles: []string{"credit_center"},
		// credit: scores are computed from credit records; messages: warnings.
		Needs: []string{"credit", "messages"},
		Permissions: []modules.Permission{
			{Name: "creditscore:read", Title: modules.Text{ZH: "查看信用评分、评级和预警", EN: "View scores, grades and warnings"}},
			{Name: "creditscore:query_personal", Title: modules.Text{ZH: "经授权查询他人个人信用积分", EN: "Query another person's credit score, with authorisation"}},
			{Name: "creditscore:configure", Title: modules.Text{ZH: "维护信用指标、评价模型和预警规则", EN: "Maintain indicators, models and warning rules"}},
			{Name: "creditscore:warn", Title: modules.Text{ZH: "人工发布和处置预警", EN: "Raise and handle warnings by hand"}},
		},
		Settings: Settings{},
	}
}

var _ modules.Module = (*Module)(nil)
