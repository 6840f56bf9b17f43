// Package incidents is 一警情三推送 (seed 001): the first push of every 110
// incident to the responding officer, the second push to the station with
// assignment, feedback and transfer requests, the third push to grassroots
// governance after approval, and the 12358 response-time assessment.
package incidents

import "yamen/modules"

// Settings are a tenant's push and 12358 rules (seed 001).
type Settings struct {
	// Seed 001: 1推送拟对110接处警全量警情(除交通警情)进行推送.
	FirstPushSkipsTraffic bool `json:"first_push_skips_traffic" required:"false" default:"true" doc:"一推送不推交通警情 (the first push leaves out traffic incidents)"`
	// Seed 001 12358: 1分钟内派警，2分钟内签收警单并出警，3分钟内调取现场视频，5分钟内联系报警人，8分钟内到达现场.
	DispatchMinutes int `json:"dispatch_minutes" required:"false" minimum:"1" maximum:"60" default:"1" doc:"接警后多少分钟内派警（12358 之 1） (minutes from answering the call to dispatch)"`
	SignMinutes     int `json:"sign_minutes" required:"false" minimum:"1" maximum:"60" default:"2" doc:"派警后多少分钟内签收警单并出警（12358 之 2） (minutes from dispatch to signing for the incident)"`
	VideoMinutes    int `json:"video_minutes" required:"false" minimum:"1" maximum:"60" default:"3" doc:"派警后多少分钟内调取现场视频（12358 之 3） (minutes from dispatch to opening the scene video)"`
	CallbackMinutes int `json:"callback_minutes" required:"false" minimum:"1" maximum:"60" default:"5" doc:"多少分钟内联系报警人（12358 之 5） (minutes to call the caller back)"`
	ArriveMinutes   int `json:"arrive_minutes" required:"false" minimum:"1" maximum:"120" default:"8" doc:"多少分钟内到达现场（12358 之 8） (minutes to arrive at the scene)"`
	// Seed 001: 以五十米为半径，取最快在周边出现的警力为实际到达现场的时间.
	ArrivalRadiusMeters int `json:"arrival_radius_meters" required:"false" minimum:"10" maximum:"1000" default:"50" doc:"警力进入警情地点多少米内即视为到达现场 (metres from the incident within which an officer counts as arrived)"`
}

// Module declares the incidents module.
type Module struct{}

// New returns the incidents module; it has no side effects.
func New() *Module { return &Module{} }

// Module implements modules.Module.
func (*Module) Module() modules.Info {
	return modules.Info{
		ID:      "incidents",
		Title:   modules.Text{ZH: "一警情三推送", EN: "Incident pushes"},
		Bundles: []string{"police_bureau"},
		// approvals: transfers between stations and third pushes are
		// approved by station leaders; messages: pushes reach officers' phones.
		Needs: []string{"approvals", "messages"},
		Permissions: []modules.Permission{
			{Name: "incidents:read", Title: modules.Text{ZH: "查看警情推送和 12358 考核", EN: "View incident pushes and 12358 assessment"}},
			{Name: "incidents:push", Title: modules.Text{ZH: "将警情转为二推送", EN: "Escalate incidents to the second push"}},
			{Name: "incidents:assign", Title: modules.Text{ZH: "指派二推送责任民警", EN: "Assign second pushes to officers"}},
			{Name: "incidents:feedback", Title: modules.Text{ZH: "跟进反馈警情", EN: "Report back on incidents"}},
			{Name: "incidents:transfer", Title: modules.Text{ZH: "发起所间流转或三推送申请", EN: "Request a transfer or a third push"}},
			{Name: "incidents:review", Title: modules.Text{ZH: "研判补充或驳回流转申请（综合指挥室）", EN: "Review, complete or reject requests (command room)"}},
			{Name: "incidents:approve", Title: modules.Text{ZH: "审批流转和三推送（所领导）", EN: "Approve transfers and third pushes (station leaders)"}},
		},
		Settings: Settings{},
	}
}

var _ modules.Module = (*Module)(nil)
