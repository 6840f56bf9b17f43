package portal

import (
	"net/http"
	"strconv"

	"yamen/policy"
	"yamen/tenants"
)

type policiesPage struct {
	Versions []tenants.PolicyVersion
	Package  string
	Source   string
	Errors   formErrors
}

// listPolicies lists the versions of the tenant's policy, each with a
// button to make it the active one (roll back), and a form to upload.
func (p *Portal) listPolicies(v *view) error {
	return p.renderPolicies(v, http.StatusOK, policiesPage{})
}

func (p *Portal) renderPolicies(v *view, status int, pp policiesPage) error {
	r, err := p.db.Reader(v.tenant.ID, v.person.String())
	if err != nil {
		return err
	}
	if pp.Versions, err = tenants.ListPolicies(v.ctx, r); err != nil {
		return err
	}
	pp.Package = policy.TenantPackage(v.tenant.Slug)
	v.render(status, "admin_policies", v.t("admin.policies"), pp)
	return nil
}

// uploadPolicy compiles, tests and saves a new version; the compiler's and
// the tests' complaints show at the source.
func (p *Portal) uploadPolicy(v *view) error {
	source := v.r.PostFormValue("source")
	if source == "" {
		return p.renderPolicies(v, http.StatusUnprocessableEntity, policiesPage{Errors: formErrors{Fields: map[string]string{"source": v.t("field.required")}}})
	}
	_, err := p.api.UploadPolicy(detach(v.ctx), source)
	if err == nil {
		return v.redirect("/t/" + v.tenant.Slug + "/admin/policies?done=uploaded")
	}
	fe, err := v.errorsOf(err)
	if err != nil {
		return err
	}
	return p.renderPolicies(v, http.StatusUnprocessableEntity, policiesPage{Source: source, Errors: fe})
}

// activatePolicy makes a version the active one; version 0 switches the
// tenant's own policy off.
func (p *Portal) activatePolicy(v *view) error {
	version, err := strconv.Atoi(v.r.PathValue("version"))
	if err != nil || version < 0 {
		return errNotFound
	}
	if err := p.api.ActivatePolicy(detach(v.ctx), version); err != nil {
		fe, err := v.errorsOf(err)
		if err != nil {
			return err
		}
		return p.renderPolicies(v, http.StatusUnprocessableEntity, policiesPage{Errors: fe})
	}
	return v.redirect("/t/" + v.tenant.Slug + "/admin/policies?done=activated")
}
