package demo

import (
	"slices"
	"strings"

	"yamen/tenants"
)

// The demo tenants' slugs.
const (
	PoliceSlug = "demo-police"
	HallSlug   = "demo-hall"
	CreditSlug = "demo-credit"
)

// TenantSpec is one demo tenant and what it starts with.
type TenantSpec struct {
	Slug, Name, Kind string
	// Orgs come parents first; the root (code "root") is made by
	// tenants.CreateTenant, named after the tenant.
	Orgs    []OrgSpec
	Roles   []RoleSpec
	Members []MemberSpec
	// Catalog is the hall's catalogue, for a government affairs hall.
	Catalog *CatalogSpec
}

// OrgSpec is an org node; Parent is the parent's code.
type OrgSpec struct {
	Code, Parent, Name, Kind, Region string
}

// RoleSpec is a role.
type RoleSpec struct {
	Name, Description, Scope string
	Permissions              []string
}

// MemberSpec is a member; Org is an org code, Roles role names and Sponsor
// the badge number of the officer an auxiliary hangs under. A member is
// known by its org and name.
type MemberSpec struct {
	Name, Org, Badge, Email, Sponsor string
	Roles                            []string
}

const rootOrg = "root"

// Police roles, from seed 000 (长沙市公安局 单位场所统一管理).
const (
	RoleOfficer        = "民警"
	RoleAuxiliary      = "辅警"
	RoleStationHead    = "派出所所长"
	RoleDeputyHead     = "副所长"
	RoleCityPublicSec  = "治安支队大基础专干"
	RoleBranchPublic   = "分县局治安大基础专干"
	RoleEconomicCrimes = "经侦大基础服务专干"
)

// officerPermissions are a community officer's: units, clues, campaigns,
// permits registration, hazards, incidents and tasks of their own station.
var officerPermissions = []string{
	"units:read", "units:write", "units:sign", "units:inspect", "units:export",
	"clues:read", "clues:report",
	"campaigns:read", "campaigns:write", "campaigns:export",
	"permits:read", "permits:register",
	"hazards:read", "hazards:report", "hazards:handle",
	"incidents:read", "incidents:feedback",
	"tasks:read", "tasks:handle",
	"reports:read", "reports:export",
	"approvals:read",
	"files:read", "files:upload",
}

// withoutExports is seed 000's rule for auxiliaries: 辅警人员的权限从属于同一
// 单位的民警权限，同时屏蔽掉数据的导出权限 (an auxiliary has the officer's
// permissions, never an export).
func withoutExports(perms []string) []string {
	var out []string
	for _, p := range perms {
		if !strings.HasSuffix(p, ":export") {
			out = append(out, p)
		}
	}
	return out
}

func plus(base []string, more ...string) []string {
	out := append([]string(nil), base...)
	for _, p := range more {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

func police() TenantSpec {
	return TenantSpec{
		Slug: PoliceSlug, Name: "示范市公安局", Kind: tenants.KindPoliceBureau,
		Orgs: []OrgSpec{
			{"zhian", rootOrg, "治安支队", "team", ""},
			{"jingzhen", rootOrg, "经侦支队", "team", ""},
			{"wangji", rootOrg, "网技支队", "team", ""},

			{"dongcheng", rootOrg, "东城分局", "branch", "980102"},
			{"donghua", "dongcheng", "东华派出所", "station", "980102001"},
			{"donghua-1", "donghua", "东华社区警务区", "police_area", "980102001001"},
			{"donghua-2", "donghua", "东园社区警务区", "police_area", "980102001002"},
			{"dongshan", "dongcheng", "东山派出所", "station", "980102002"},
			{"dongshan-1", "dongshan", "东山社区警务区", "police_area", "980102002001"},
			{"dongshan-2", "dongshan", "东坡社区警务区", "police_area", "980102002002"},

			{"xicheng", rootOrg, "西城分局", "branch", "980103"},
			{"xishan", "xicheng", "西山派出所", "station", "980103001"},
			{"xishan-1", "xishan", "西山社区警务区", "police_area", "980103001001"},
			{"xishan-2", "xishan", "西岭社区警务区", "police_area", "980103001002"},
			{"xiguan", "xicheng", "西关派出所", "station", "980103002"},
			{"xiguan-1", "xiguan", "西关社区警务区", "police_area", "980103002001"},
			{"xiguan-2", "xiguan", "西苑社区警务区", "police_area", "980103002002"},
		},
		Roles: []RoleSpec{
			{RoleOfficer, "社区民警：本所单位场所、线索、宣传活动 (community officer: units, clues and campaigns of the own station)",
				tenants.ScopeOrg, officerPermissions},
			{RoleAuxiliary, "警务辅助人员，挂靠社区民警，权限从属于民警，屏蔽导出 (auxiliary police: the sponsoring officer's permissions, never export)",
				tenants.ScopeSelf, withoutExports(officerPermissions)},
			{RoleStationHead, "派出所所长：本所及所属警务区 (station director: the station and its police areas)",
				tenants.ScopeOrgSubtree, plus(officerPermissions,
					"units:dispatch", "hazards:approve", "incidents:assign", "incidents:approve",
					"tasks:issue", "tasks:review", "watch:read", "approvals:approve", "orgs:read", "members:read")},
			{RoleDeputyHead, "派出所副所长：审核居住证申请 (deputy station director: approves residence permits)",
				tenants.ScopeOrgSubtree, []string{
					"permits:read", "permits:approve", "approvals:read", "approvals:approve",
					"units:read", "clues:read", "incidents:read", "incidents:approve", "reports:read"}},
			{RoleCityPublicSec, "市局治安支队：全市单位派发、注销、线索采纳与采用 (city public-order division: dispatch, deregistration, clue acceptance and adoption)",
				tenants.ScopeAll, []string{
					"units:read", "units:write", "units:dispatch", "units:deregister", "units:inspect", "units:export",
					"clues:read", "clues:accept", "clues:adopt",
					"watch:read", "watch:configure", "watch:export",
					"campaigns:read", "campaigns:export",
					"tasks:read", "tasks:issue", "reports:read", "reports:export"}},
			{RoleBranchPublic, "分县局治安：本分局单位派发、注销、线索采纳 (branch public order: dispatch, deregistration, clue acceptance)",
				tenants.ScopeOrgSubtree, []string{
					"units:read", "units:write", "units:dispatch", "units:deregister", "units:inspect", "units:export",
					"clues:read", "clues:accept",
					"watch:read", "campaigns:read",
					"tasks:read", "tasks:issue", "reports:read", "reports:export"}},
			{RoleEconomicCrimes, "经侦：维护关键词匹配规则，导入嫌疑单位 (economic investigation: keyword rules, suspect-unit import)",
				tenants.ScopeAll, []string{
					"units:read", "units:keywords", "units:import", "units:dispatch", "units:export",
					"clues:read", "reports:read", "reports:export"}},
		},
		Members: []MemberSpec{
			{Name: "张伟", Org: "donghua", Badge: "980101", Email: "zhangwei@demo-police.example", Roles: []string{RoleOfficer}},
			{Name: "李娜", Org: "donghua", Badge: "980102", Email: "lina@demo-police.example", Roles: []string{RoleOfficer}},
			{Name: "王磊", Org: "donghua", Badge: "FJ980201", Email: "wanglei@demo-police.example", Sponsor: "980101", Roles: []string{RoleAuxiliary}},
			{Name: "陈刚", Org: "donghua", Badge: "980103", Email: "chengang@demo-police.example", Roles: []string{RoleStationHead}},
			{Name: "刘洋", Org: "donghua", Badge: "980104", Email: "liuyang@demo-police.example", Roles: []string{RoleDeputyHead}},
			{Name: "赵敏", Org: "zhian", Badge: "980001", Email: "zhaomin@demo-police.example", Roles: []string{RoleCityPublicSec}},
			{Name: "孙杰", Org: "dongcheng", Badge: "980011", Email: "sunjie@demo-police.example", Roles: []string{RoleBranchPublic}},
			{Name: "周强", Org: "jingzhen", Badge: "980021", Email: "zhouqiang@demo-police.example", Roles: []string{RoleEconomicCrimes}},
		},
	}
}

// Hall roles, from seed 004 (好差评, 排队叫号).
const (
	RoleHallAdmin   = "中心管理员"
	RoleDeptAdmin   = "部门管理员"
	RoleWindowStaff = "窗口人员"
	RoleRatingsDesk = "好差评督办员"
)

func hall() TenantSpec {
	return TenantSpec{
		Slug: HallSlug, Name: "示范市政务服务中心", Kind: tenants.KindAffairsHall,
		Orgs: []OrgSpec{
			{"huzheng", rootOrg, "公安局户政窗口区", "department", ""},
			{"w01", "huzheng", "1号窗口", "window", ""},
			{"w02", "huzheng", "2号窗口", "window", ""},
			{"shijian", rootOrg, "市场监管局", "department", ""},
			{"w03", "shijian", "3号窗口", "window", ""},
			{"w04", "shijian", "4号窗口", "window", ""},
			{"renshe", rootOrg, "人社局", "department", ""},
			{"w05", "renshe", "5号窗口", "window", ""},
		},
		Roles: []RoleSpec{
			{RoleHallAdmin, "管理全中心的事项、预约、排队与评价 (runs the hall's items, bookings, queues and ratings)",
				tenants.ScopeAll, []string{
					"catalog:read", "catalog:write", "booking:read", "booking:configure",
					"queue:read", "queue:configure", "ratings:read", "ratings:assign", "ratings:configure", "ratings:export",
					"oneflow:read", "reports:read", "reports:export", "messages:read", "messages:announce",
					"orgs:read", "members:read"}},
			{RoleDeptAdmin, "本部门差评整改与窗口管理 (rectifies the department's bad ratings, oversees its windows)",
				tenants.ScopeOrgSubtree, []string{
					"ratings:read", "ratings:rectify", "queue:read", "booking:read", "catalog:read",
					"oneflow:read", "reports:read", "tasks:read", "tasks:handle"}},
			{RoleWindowStaff, "窗口叫号、受理，查看本人评价 (calls tickets, accepts cases, sees own ratings)",
				tenants.ScopeSelf, []string{
					"queue:read", "queue:call", "ratings:read", "booking:read", "oneflow:read", "oneflow:accept"}},
			{RoleRatingsDesk, "好差评督办：查看、交办、导出评价 (ratings desk: reads, assigns and exports ratings)",
				tenants.ScopeAll, []string{"ratings:read", "ratings:assign", "ratings:export", "reports:read"}},
		},
		Members: []MemberSpec{
			{Name: "周婷", Org: rootOrg, Email: "zhouting@demo-hall.example", Roles: []string{RoleHallAdmin}},
			{Name: "郑丽", Org: rootOrg, Email: "zhengli@demo-hall.example", Roles: []string{RoleRatingsDesk}},
			{Name: "孙浩", Org: "shijian", Email: "sunhao@demo-hall.example", Roles: []string{RoleDeptAdmin}},
			{Name: "吴静", Org: "w01", Email: "wujing@demo-hall.example", Roles: []string{RoleWindowStaff}},
		},
		Catalog: hallCatalog(),
	}
}

// Credit roles, from seed 004 (信用平台).
const (
	RoleCreditAdmin   = "信用管理员"
	RoleCreditOfficer = "信用专员"
)

func credit() TenantSpec {
	return TenantSpec{
		Slug: CreditSlug, Name: "示范市信用中心", Kind: tenants.KindCreditCenter,
		Orgs: []OrgSpec{
			{"guiji", rootOrg, "信息归集科", "office", ""},
			{"gongshi", rootOrg, "双公示科", "office", ""},
			{"xiufu", rootOrg, "异议与修复科", "office", ""},
		},
		Roles: []RoleSpec{
			{RoleCreditAdmin, "信用平台全部业务 (every credit operation)",
				tenants.ScopeAll, []string{
					"credit:read", "credit:read_restricted", "credit:submit", "credit:import", "credit:review",
					"credit:publish", "credit:lists", "credit:sanctions", "credit:objections", "credit:repair", "credit:export",
					"creditscore:read", "creditscore:configure", "creditscore:warn", "reports:read", "reports:export"}},
			{RoleCreditOfficer, "本科室信用信息报送、审核与双公示 (submits, reviews and publishes the office's records)",
				tenants.ScopeOrg, []string{
					"credit:read", "credit:submit", "credit:import", "credit:review", "credit:publish", "credit:objections",
					"creditscore:read", "reports:read", "tasks:read", "tasks:handle"}},
		},
		Members: []MemberSpec{
			{Name: "黄敏", Org: "gongshi", Email: "huangmin@demo-credit.example", Roles: []string{RoleCreditOfficer}},
		},
	}
}

// Specs returns the demo tenants.
func Specs() []TenantSpec { return []TenantSpec{police(), hall(), credit()} }
