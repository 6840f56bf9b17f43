package portal

import (
	"net/http"
	"net/url"

	"yamen/modules"
	"yamen/modules/booking"
	"yamen/problem"
	"yamen/tenants"
)

func init() {
	RegisterNav(
		NavItem{Path: "/hall", Title: modules.Text{ZH: "办事大厅", EN: "Service hall"}, Module: "catalog"},
		NavItem{Path: "/me/appointments", Title: modules.Text{ZH: "我的预约", EN: "My appointments"}, Module: "booking", Citizen: true},
	)
}

// citizen serves a page of a signed-in citizen acting for themselves in a
// tenant: the module must be enabled, and the tenant's policy must allow
// action to citizens, as for the API.
func (p *Portal) citizen(module, action string, h func(v *view) error) http.HandlerFunc {
	return p.page(p.asCitizen(module, action, h))
}

// citizenForm is citizen for a form post.
func (p *Portal) citizenForm(module, action string, h func(v *view) error) http.HandlerFunc {
	return p.form(p.asCitizen(module, action, h))
}

func (p *Portal) asCitizen(module, action string, h func(v *view) error) func(v *view) error {
	return p.inPublic(module, func(v *view) error {
		if v.person == nil {
			return v.redirect("/auth/login?return_to=" + url.QueryEscape(v.r.URL.RequestURI()))
		}
		if v.person.Kind != tenants.SubjectCitizen {
			return problem.Forbidden("此页面供居民本人使用，请以居民账号登录 (for citizens: sign in with a citizen account)")
		}
		ctx, err := p.api.Authorize(v.r.Context(), v.tenant.Slug, *v.person, action)
		if err != nil {
			return err
		}
		v.ctx = ctx
		return h(v)
	})
}

// bookingModule is the registry's booking module.
// citizenBooking is the booking module and the signed-in citizen a page
// acts for.
func (p *Portal) citizenBooking(v *view) (*booking.Module, booking.Citizen, error) {
	m, err := p.bookingModule()
	if err != nil {
		return nil, booking.Citizen{}, err
	}
	c, err := booking.CitizenOf(v.ctx)
	return m, c, err
}

func (p *Portal) bookingModule() (*booking.Module, error) {
	for _, m := range p.reg.All() {
		if b, ok := m.(*booking.Module); ok {
			return b, nil
		}
	}
	return nil, problem.New(http.StatusServiceUnavailable, "预约模块未安装 (the booking module is not installed)")
}
