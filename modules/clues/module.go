// Package clues is 情报线索 (seed 000): officers report clues by category,
// clues with sensitive keywords are routed to the state-security platform,
// specialists accept them, and only city-level units mark them adopted (采用).
package clues

import "yamen/modules"

// Settings are a tenant's clue-routing rules (seed 000).
type Settings struct {
	// Seed 000: 为国保平台提供"涉及社会稳定线索"以及其他情报线索中含有"上访"、"维权"、"游行"、"SJ"等敏感词的线索.
	SensitiveKeywords []string `json:"sensitive_keywords" required:"false" uniqueItems:"true" maxItems:"200" minLength:"1" maxLength:"20" default:"上访,维权,游行,SJ" doc:"敏感词：含任一敏感词的线索推送国保平台 (sensitive keywords: a clue containing any of them goes to the state-security platform)"`
}

// Module declares the clues module.
type Module struct{}

// New returns the clues module; it has no side effects.
func New() *Module { return &Module{} }

// Module implements modules.Module.
func (*Module) Module() modules.Info {
	return modules.Info{
		ID:      "clues",
		Title:   modules.Text{ZH: "情报线索", EN: "Intelligence clues"},
		Bundles: []string{"police_bureau"},
		Permissions: []modules.Permission{
			{Name: "clues:read", Title: modules.Text{ZH: "查看情报线索", EN: "View clues"}},
			{Name: "clues:report", Title: modules.Text{ZH: "录入、上报和续报线索", EN: "Record, report and follow up clues"}},
			{Name: "clues:accept", Title: modules.Text{ZH: "采纳线索（专干）", EN: "Accept clues (specialists)"}},
			{Name: "clues:adopt", Title: modules.Text{ZH: "标记线索是否采用（市局）", EN: "Mark clues adopted (city level)"}},
		},
		Settings: Settings{},
	}
}

var _ modules.Module = (*Module)(nil)
