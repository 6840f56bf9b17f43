package portal

import (
	"net/http"

	"yamen/tenants"
)

type adminHomePage struct {
	Modules, Enabled, Orgs, Roles int
}

// adminHome is a tenant admin's overview.
func (p *Portal) adminHome(v *view) error {
	var hp adminHomePage
	states, err := p.api.ModuleStates(v.ctx)
	if err != nil {
		return err
	}
	for _, s := range states {
		if s.Entitled {
			hp.Modules++
		}
		if s.Enabled {
			hp.Enabled++
		}
	}
	r, err := p.db.Reader(v.tenant.ID, v.person.String())
	if err != nil {
		return err
	}
	orgs, err := tenants.ListOrgs(v.ctx, r, nil)
	if err != nil {
		return err
	}
	roles, err := tenants.ListRoles(v.ctx, r)
	if err != nil {
		return err
	}
	hp.Orgs, hp.Roles = len(orgs), len(roles)
	v.render(http.StatusOK, "admin_home", v.t("admin.home"), hp)
	return nil
}
