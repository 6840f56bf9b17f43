// Package campaigns is 宣传活动 (seed 000): officers record publicity
// activities with one or more activity types and on-site photos (one more
// photo than types), with anti-drug and safe-community statistics.
package campaigns

import "yamen/modules"

// Settings are a tenant's activity-recording rules (seed 000).
type Settings struct {
	// Seed 000: 活动照片数量应为活动类型数+1.
	ExtraPhotos int `json:"extra_photos" required:"false" minimum:"0" maximum:"10" default:"1" doc:"每条活动须上传的现场照片数 = 所选活动类型数 + 本值 (photos required per activity = number of activity types chosen + this value)"`
}

// Module declares the campaigns module.
type Module struct{}

// New returns the campaigns module; it has no side effects.
func New() *Module { return &Module{} }

// Module implements modules.Module.
func (*Module) Module() modules.Info {
	return modules.Info{
		ID:      "campaigns",
		Title:   modules.Text{ZH: "宣传活动", EN: "Publicity campaigns"},
		Bundles: []string{"police_bureau"},
		// files: activity photos.
		Needs: []string{"files"},
		Permissions: []modules.Permission{
			{Name: "campaigns:read", Title: modules.Text{ZH: "查看宣传活动和统计", EN: "View activities and statistics"}},
			{Name: "campaigns:write", Title: modules.Text{ZH: "录入宣传活动", EN: "Record activities"}},
			{Name: "campaigns:export", Title: modules.Text{ZH: "导出宣传活动统计报表（Excel）", EN: "Export activity reports (Excel)"}},
		},
		Settings: Settings{},
	}
}

var _ modules.Module = (*Module)(nil)
