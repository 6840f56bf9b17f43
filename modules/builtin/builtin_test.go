package builtin_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"yamen/modules"
	"yamen/modules/builtin"
)

func registry(t *testing.T) *modules.Registry {
	t.Helper()
	reg, err := builtin.Registry()
	require.NoError(t, err)
	return reg
}

// The bundle table of DESIGN.md, section Modules.
var everyTenant = []string{"files", "messages", "approvals", "tasks", "reports"}

func TestBundles(t *testing.T) {
	reg := registry(t)
	for _, tc := range []struct {
		kind string
		own  []string
	}{
		{"affairs_hall", []string{"catalog", "booking", "queue", "ratings", "oneflow", "intermediaries"}},
		{"credit_center", []string{"credit", "creditscore"}},
		{"police_bureau", []string{"units", "clues", "permits", "watch", "campaigns", "incidents", "guards", "hazards"}},
		{"other", nil},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			require.Equal(t, slices.Concat(everyTenant, tc.own), reg.Bundle(tc.kind))
		})
	}
	require.Len(t, reg.All(), 21)
}

// Enabling a kind's bundle must never leave a module without what it needs.
func TestBundlesAreClosedUnderNeeds(t *testing.T) {
	reg := registry(t)
	for _, kind := range modules.TenantKinds {
		bundle := reg.Bundle(kind)
		for _, id := range bundle {
			info, _ := reg.Info(id)
			for _, n := range info.Needs {
				require.Contains(t, bundle, n, "%s needs %s, which is not in the %s bundle", id, n, kind)
			}
		}
	}
}

func TestPermissions(t *testing.T) {
	reg := registry(t)
	seen := map[string]bool{}
	for _, p := range reg.Permissions() {
		require.False(t, seen[p.Name], "permission %s declared twice", p.Name)
		seen[p.Name] = true
		require.NotEmpty(t, p.Title.ZH, p.Name)
		require.NotEmpty(t, p.Title.EN, p.Name)
	}
	for _, m := range reg.All() {
		id := m.Module().ID
		require.True(t, seen[id+":read"], "%s has no %s:read", id, id)
	}
	// Where a seed exports to Excel, export is its own permission so that
	// auxiliary police (辅警) roles can be left without it (seed 000).
	for _, id := range []string{"reports", "units", "permits", "watch", "campaigns", "guards", "ratings", "credit", "intermediaries", "oneflow", "approvals"} {
		require.True(t, seen[id+":export"], "%s has no %s:export", id, id)
	}
	for name := range seen {
		if strings.Contains(name, "export") {
			require.True(t, strings.HasSuffix(name, ":export"), "%s mixes export with another verb", name)
		}
	}
	// Seed-specific operations.
	for _, name := range []string{
		"clues:adopt",      // 是否采用, city level only (seed 000)
		"clues:accept",     // 采纳 by the specialists (seed 000)
		"units:dispatch",   // 派发 (seed 000)
		"units:sign",       // 签收 / 退回 (seed 000)
		"units:deregister", // closed to stations (seed 000)
		"units:import",     // Excel import of suspect units (seed 000)
		"units:keywords",   // 经侦关键词 rules (seed 000)
		"permits:approve",  // deputy station director (seed 000)
		"watch:configure",  // alert rules, print terminals (seed 000)
		"ratings:rectify",  // 差评整改 (seed 004)
		"credit:publish",   // 双公示 (seed 004)
		"credit:repair",    // 信用修复 (seed 004)
		"intermediaries:approve",
		"incidents:approve", // transfers and third pushes (seed 001)
		"tasks:issue",       // 任务下发 (seed 001)
		"guards:exam",       // qualification exam (seed 003)
	} {
		require.True(t, seen[name], "missing %s", name)
	}
}

// Every settings schema accepts {} and fills in every field's default, and
// the defaults themselves pass the schema.
func TestSettingsDefaults(t *testing.T) {
	reg := registry(t)
	for _, m := range reg.All() {
		id := m.Module().ID
		t.Run(id, func(t *testing.T) {
			got, errs := reg.ValidateSettings(id, []byte("{}"))
			require.Empty(t, errs)
			s := reg.SettingsSchema(id)
			if s == nil {
				require.Empty(t, got)
				return
			}
			require.Len(t, got, len(s.Properties))
			for name, p := range s.Properties {
				require.NotNil(t, p.Default, "%s.%s has no default", id, name)
				want, err := json.Marshal(p.Default)
				require.NoError(t, err)
				have, err := json.Marshal(got[name])
				require.NoError(t, err)
				require.JSONEq(t, string(want), string(have), "%s.%s", id, name)
				require.NotEmpty(t, p.Description, "%s.%s has no doc", id, name)
			}
			raw, err := json.Marshal(got)
			require.NoError(t, err)
			_, errs = reg.ValidateSettings(id, raw)
			require.Empty(t, errs, "defaults of %s do not validate: %s", id, raw)
		})
	}
}

func defaults(t *testing.T, reg *modules.Registry, id string) map[string]any {
	t.Helper()
	got, errs := reg.ValidateSettings(id, []byte("{}"))
	require.Empty(t, errs)
	return got
}

func TestSeedRules(t *testing.T) {
	reg := registry(t)

	// Seed 004 好差评: 办件生成7个自然日内未获评价，默认为"基本满意"; 评价后5个工作日内可追加评价.
	r := defaults(t, reg, "ratings")
	require.EqualValues(t, 7, r["default_after_days"])
	require.EqualValues(t, 5, r["follow_up_working_days"])

	// Seed 004 双公示: 作出决定之日起7个工作日内发布; a tenant may not be slower.
	require.EqualValues(t, 7, defaults(t, reg, "credit")["publish_within_working_days"])
	_, errs := reg.ValidateSettings("credit", []byte(`{"publish_within_working_days": 8}`))
	require.NotEmpty(t, errs)

	// Seed 004 中介超市: 评价结果公布后5个工作日内申请调整.
	require.EqualValues(t, 5, defaults(t, reg, "intermediaries")["appeal_working_days"])

	// Seed 000 居住证: 前置条件为登记累计满半年; 受理到领证超过3个工作日预警.
	require.EqualValues(t, 6, defaults(t, reg, "permits")["min_residence_months"])
	require.EqualValues(t, 3, defaults(t, reg, "watch")["issue_within_working_days"])

	// Seed 000 宣传活动: 活动照片数量应为活动类型数+1.
	require.EqualValues(t, 1, defaults(t, reg, "campaigns")["extra_photos"])

	// Seed 000 国保对接: 含"上访"、"维权"、"游行"、"SJ"等敏感词的线索.
	require.ElementsMatch(t, []string{"上访", "维权", "游行", "SJ"}, defaults(t, reg, "clues")["sensitive_keywords"])

	// Seed 001 12358 and the 50-metre arrival radius.
	inc := defaults(t, reg, "incidents")
	for field, want := range map[string]int{
		"dispatch_minutes": 1, "sign_minutes": 2, "video_minutes": 3,
		"callback_minutes": 5, "arrive_minutes": 8, "arrival_radius_meters": 50,
	} {
		require.EqualValues(t, want, inc[field], field)
	}
}

func TestSettingsAreChecked(t *testing.T) {
	reg := registry(t)
	for _, tc := range []struct {
		id, body string
		ok       bool
	}{
		{"ratings", `{"default_after_days": 10}`, true},
		{"ratings", `{"default_after_days": 0}`, false},
		{"ratings", `{"default_after_days": "7"}`, false},
		{"ratings", `{"bad_rating_channels": ["fax"]}`, false},
		{"ratings", `{"unknown": 1}`, false},
		{"booking", `{"violation_limit": 2, "violation_window_days": 60, "bar_days": 90}`, true},
		{"queue", `{"order": "arrival", "recalls_before_no_show": 3}`, true},
		{"queue", `{"order": "random"}`, false},
		{"watch", `{"work_start": "09:00"}`, true},
		{"watch", `{"work_start": "9am"}`, false},
		{"messages", `{"channels": ["sms", "dingtalk"], "whitelist_only": true, "whitelist": ["13800000000"]}`, true},
		{"messages", `{"channels": ["pager"]}`, false},
		{"clues", `{"sensitive_keywords": [""]}`, false},
		{"creditscore", `{"warning_period": "hour"}`, false},
		{"files", `{}`, true},
		{"files", `{"x": 1}`, false},
	} {
		got, errs := reg.ValidateSettings(tc.id, []byte(tc.body))
		if tc.ok {
			require.Empty(t, errs, "%s %s", tc.id, tc.body)
			require.NotNil(t, got)
		} else {
			require.NotEmpty(t, errs, "%s %s", tc.id, tc.body)
		}
	}
	// Saved values win over defaults.
	got, errs := reg.ValidateSettings("ratings", []byte(`{"default_after_days": 10}`))
	require.Empty(t, errs)
	require.EqualValues(t, 10, got["default_after_days"])
	require.EqualValues(t, 5, got["follow_up_working_days"])
}
