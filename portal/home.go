package portal

import (
	"net/http"

	"yamen/api"
	"yamen/tenants"
)

type homePage struct {
	Staff       bool
	Memberships []api.Membership
}

// home is the start page: sign-in for visitors, the tenants a staff member
// works in. The hall's pages will offer citizens their tenants' halls here.
func (p *Portal) home(v *view) error {
	var hp homePage
	if v.person != nil && v.person.Kind == tenants.SubjectMember {
		hp.Staff = true
		ms, err := p.api.Memberships(v.r.Context(), *v.person)
		if err != nil {
			return err
		}
		hp.Memberships = ms
	}
	v.render(http.StatusOK, "home", v.t("home.title"), hp)
	return nil
}
