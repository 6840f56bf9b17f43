package portal

import (
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"

	"yamen/tenants"
)

// Roles are made in the three steps of seed 003: the profile (the post's
// name), the operation permissions, the data scope ("the data of my org"
// and the others). Each step is a form of its own; what earlier steps chose
// rides along in hidden fields and is checked again at every step.

type rolesPage struct {
	Roles []tenants.Role
}

// listRoles lists the tenant's roles.
func (p *Portal) listRoles(v *view) error {
	r, err := p.db.Reader(v.tenant.ID, v.person.String())
	if err != nil {
		return err
	}
	roles, err := tenants.ListRoles(v.ctx, r)
	if err != nil {
		return err
	}
	v.render(http.StatusOK, "admin_roles", v.t("admin.roles"), rolesPage{Roles: roles})
	return nil
}

type roleWizard struct {
	Step        int
	Name        string
	Description string
	Permissions []string
	DataScope   string
	ScopeOrgIDs []string
	Groups      []permissionGroup
	Scopes      []scopeOption
	Orgs        []tenants.Org
	Errors      formErrors
}

type permissionGroup struct {
	Title       string
	Permissions []permissionOption
}

type permissionOption struct {
	Name, Title string
	Checked     bool
}

type scopeOption struct {
	Value, Label string
	Checked      bool
}

// Has says whether the wizard holds an org of a custom scope.
func (w roleWizard) Has(org uuid.UUID) bool { return slices.Contains(w.ScopeOrgIDs, org.String()) }

// newRole shows the first step.
func (p *Portal) newRole(v *view) error {
	return p.renderWizard(v, http.StatusOK, roleWizard{Step: 1})
}

func (p *Portal) renderWizard(v *view, status int, w roleWizard) error {
	switch w.Step {
	case 2:
		groups := map[string]*permissionGroup{}
		var order []string
		for _, perm := range p.api.Permissions() {
			key := perm.Module
			if _, ok := groups[key]; !ok {
				title := v.t("roles.platform")
				if info, ok := p.reg.Info(perm.Module); ok {
					title = textIn(v.lang, info.Title)
				}
				groups[key] = &permissionGroup{Title: title}
				order = append(order, key)
			}
			g := groups[key]
			g.Permissions = append(g.Permissions, permissionOption{Name: perm.Name, Title: textIn(v.lang, perm.Title), Checked: slices.Contains(w.Permissions, perm.Name)})
		}
		for _, k := range order {
			w.Groups = append(w.Groups, *groups[k])
		}
	case 3:
		for _, s := range tenants.DataScopes {
			w.Scopes = append(w.Scopes, scopeOption{Value: s, Label: v.t("scope." + s), Checked: w.DataScope == s})
		}
		r, err := p.db.Reader(v.tenant.ID, v.person.String())
		if err != nil {
			return err
		}
		if w.Orgs, err = tenants.ListOrgs(v.ctx, r, nil); err != nil {
			return err
		}
	}
	v.render(status, "admin_role_new", v.t("roles.new.step", w.Step), w)
	return nil
}

// newRoleStep takes one step's form: it goes on to the next step, back to a
// step whose choice is wrong, or, after the third, creates the role.
func (p *Portal) newRoleStep(v *view) error {
	f := v.r.PostForm
	w := roleWizard{
		Name: strings.TrimSpace(f.Get("name")), Description: strings.TrimSpace(f.Get("description")),
		Permissions: f["permissions"], DataScope: f.Get("data_scope"), ScopeOrgIDs: f["scope_org_ids"],
		Errors: formErrors{Fields: map[string]string{}},
	}
	step := f.Get("step")
	back := f.Get("back") != ""
	// Step 1: the profile.
	if w.Name == "" {
		w.Errors.Fields["name"] = v.t("field.required")
	} else if len([]rune(w.Name)) > 100 {
		w.Errors.Fields["name"] = v.t("field.too_long", 100)
	}
	if w.Errors.Any() || step == "1" && !back {
		w.Step = 2
		if w.Errors.Any() {
			w.Step = 1
		}
		return p.renderWizard(v, statusOf(w.Errors), w)
	}
	if back && step == "2" {
		w.Step = 1
		return p.renderWizard(v, http.StatusOK, w)
	}
	// Step 2: the operation permissions.
	if len(w.Permissions) == 0 {
		w.Errors.Fields["permissions"] = v.t("roles.permissions.required")
		w.Step = 2
		return p.renderWizard(v, http.StatusUnprocessableEntity, w)
	}
	if step == "2" || back && step == "3" {
		w.Step = 3
		if back {
			w.Step = 2
		}
		return p.renderWizard(v, http.StatusOK, w)
	}
	// Step 3: the data scope, then the role.
	if !slices.Contains(tenants.DataScopes, w.DataScope) {
		w.Errors.Fields["data_scope"] = v.t("roles.scope.required")
		w.Step = 3
		return p.renderWizard(v, http.StatusUnprocessableEntity, w)
	}
	var orgs []uuid.UUID
	if w.DataScope == tenants.ScopeCustom {
		for _, s := range w.ScopeOrgIDs {
			if id, err := uuid.Parse(s); err == nil {
				orgs = append(orgs, id)
			}
		}
	}
	_, err := p.api.CreateRole(detach(v.ctx), tenants.NewRole{Name: w.Name, Description: w.Description, Permissions: w.Permissions, DataScope: w.DataScope, ScopeOrgIDs: orgs})
	if err == nil {
		return v.redirect("/t/" + v.tenant.Slug + "/admin/roles?done=created")
	}
	if w.Errors, err = v.errorsOf(err); err != nil {
		return err
	}
	// Back to the step whose choice was refused.
	switch {
	case w.Errors.For("name") != "" || w.Errors.For("description") != "":
		w.Step = 1
	case w.Errors.For("permissions") != "":
		w.Step = 2
	default:
		w.Step = 3
		if w.Errors.Form != "" && w.Errors.For("data_scope") == "" && w.Errors.For("scope_org_ids") == "" {
			// A refusal of the whole role (a permission not held) is about step 2.
			w.Step = 2
		}
	}
	return p.renderWizard(v, http.StatusUnprocessableEntity, w)
}

func statusOf(fe formErrors) int {
	if fe.Any() {
		return http.StatusUnprocessableEntity
	}
	return http.StatusOK
}
