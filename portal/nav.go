package portal

import (
	"strings"

	"yamen/modules"
	"yamen/tenants"
)

// NavItem is a link of a tenant's navigation. Pages of modules (the hall,
// ratings, window staff) add theirs with RegisterNav; each shows only where
// its module is enabled and to people whose roles grant its action.
type NavItem struct {
	// Path is under /t/{tenant}, e.g. "/admin/modules" or "/hall".
	Path  string
	Title modules.Text
	// Module, when set, must be enabled in the tenant.
	Module string
	// Action, when set, must be among the staff member's permissions;
	// empty shows the link to everyone in the tenant.
	Action string
	// Citizen shows the link only to a signed-in citizen (whose actions
	// the tenant's policy grants, not roles).
	Citizen bool
}

var navItems = []NavItem{
	{Path: "/admin", Title: modules.Text{ZH: "概览", EN: "Overview"}, Action: "modules:read"},
	{Path: "/admin/modules", Title: modules.Text{ZH: "模块", EN: "Modules"}, Action: "modules:read"},
	{Path: "/admin/orgs", Title: modules.Text{ZH: "组织机构", EN: "Org tree"}, Action: "orgs:read"},
	{Path: "/admin/staff", Title: modules.Text{ZH: "人员", EN: "Staff"}, Action: "members:read"},
	{Path: "/admin/roles", Title: modules.Text{ZH: "角色", EN: "Roles"}, Action: "roles:read"},
	{Path: "/admin/policies", Title: modules.Text{ZH: "策略", EN: "Policies"}, Action: "policies:read"},
	{Path: "/admin/audit", Title: modules.Text{ZH: "审计日志", EN: "Audit log"}, Action: "audit:read"},
}

// RegisterNav adds links to every tenant's navigation; call it from an
// init function of the file that serves the pages.
func RegisterNav(items ...NavItem) { navItems = append(navItems, items...) }

type navLink struct {
	Href, Title string
	Current     bool
}

// nav is the navigation the person sees in the view's tenant.
func (v *view) nav() []navLink {
	held := map[string]bool{}
	if v.actor != nil {
		for _, r := range v.actor.Roles {
			for _, p := range r.Permissions {
				held[p] = true
			}
		}
	}
	var enabled map[string]bool
	base := "/t/" + v.tenant.Slug
	var out []navLink
	for _, it := range navItems {
		if it.Citizen {
			if v.person == nil || v.person.Kind != tenants.SubjectCitizen {
				continue
			}
		} else if it.Action != "" && !held[it.Action] && !held[tenants.AllPermissions] {
			continue
		}
		if it.Module != "" {
			if enabled == nil {
				enabled = v.enabledModules()
			}
			if !enabled[it.Module] {
				continue
			}
		}
		href := base + it.Path
		here := v.r.URL.Path
		current := here == href || (it.Path != "/admin" && strings.HasPrefix(here, href+"/"))
		out = append(out, navLink{Href: href, Title: textIn(v.lang, it.Title), Current: current})
	}
	return out
}

func (v *view) enabledModules() map[string]bool {
	on := map[string]bool{}
	states, err := v.p.api.ModuleStates(v.ctx)
	if err != nil {
		return on
	}
	for _, s := range states {
		if s.Enabled {
			on[s.ID] = true
		}
	}
	return on
}
