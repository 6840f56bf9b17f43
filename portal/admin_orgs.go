package portal

import (
	"net/http"
	"strings"

	"github.com/google/uuid"

	"yamen/tenants"
)

type orgsPage struct {
	Orgs   []tenants.Org
	Kinds  []string
	Errors formErrors
	// Form is what the add form was filled with, to show it again.
	Form map[string]string
	// Failed is the org whose edit failed, with Errors.Form.
	Failed uuid.UUID
}

// listOrgs shows the org tree, with forms to add, rename, move and delete.
func (p *Portal) listOrgs(v *view) error {
	return p.renderOrgs(v, http.StatusOK, orgsPage{})
}

func (p *Portal) renderOrgs(v *view, status int, op orgsPage) error {
	r, err := p.db.Reader(v.tenant.ID, v.person.String())
	if err != nil {
		return err
	}
	if op.Orgs, err = tenants.ListOrgs(v.ctx, r, nil); err != nil {
		return err
	}
	op.Kinds = tenants.OrgKinds
	v.render(status, "admin_orgs", v.t("admin.orgs"), op)
	return nil
}

func optional(s string) string { return strings.TrimSpace(s) }

// createOrg adds an org under a parent.
func (p *Portal) createOrg(v *view) error {
	f := v.r.PostForm
	n := tenants.NewOrg{Code: optional(f.Get("code")), Name: optional(f.Get("name")), Kind: f.Get("kind"), RegionCode: optional(f.Get("region_code"))}
	fe := formErrors{Fields: map[string]string{}}
	if parent, err := uuid.Parse(f.Get("parent_id")); err == nil {
		n.ParentID = &parent
	} else {
		fe.Fields["parent_id"] = v.t("orgs.parent.required")
	}
	if n.Name == "" {
		fe.Fields["name"] = v.t("field.required")
	}
	if n.Code == "" {
		fe.Fields["code"] = v.t("field.required")
	}
	if !fe.Any() {
		err := p.db.Tx(detach(v.ctx), v.tenant.ID, v.person.String(), func(tx *tenants.Tx) error {
			_, err := tenants.CreateOrg(v.ctx, tx, n)
			return err
		})
		if err == nil {
			return v.redirect("/t/" + v.tenant.Slug + "/admin/orgs?done=saved")
		}
		if fe, err = v.errorsOf(err); err != nil {
			return err
		}
	}
	return p.renderOrgs(v, http.StatusUnprocessableEntity, orgsPage{Errors: fe, Form: map[string]string{
		"parent_id": f.Get("parent_id"), "code": n.Code, "name": n.Name, "kind": n.Kind, "region_code": n.RegionCode}})
}

func (p *Portal) orgChange(v *view, fn func(tx *tenants.Tx, id uuid.UUID) error) error {
	id, err := uuid.Parse(v.r.PathValue("org"))
	if err != nil {
		return errNotFound
	}
	err = p.db.Tx(detach(v.ctx), v.tenant.ID, v.person.String(), func(tx *tenants.Tx) error { return fn(tx, id) })
	if err == nil {
		return v.redirect("/t/" + v.tenant.Slug + "/admin/orgs?done=saved")
	}
	fe, err := v.errorsOf(err)
	if err != nil {
		return err
	}
	if fe.Form == "" {
		for _, m := range fe.Fields {
			fe.Form = m
		}
	}
	return p.renderOrgs(v, http.StatusUnprocessableEntity, orgsPage{Errors: fe, Failed: id})
}

// updateOrg renames an org, or changes its code or kind.
func (p *Portal) updateOrg(v *view) error {
	f := v.r.PostForm
	name, code, kind := optional(f.Get("name")), optional(f.Get("code")), f.Get("kind")
	return p.orgChange(v, func(tx *tenants.Tx, id uuid.UUID) error {
		_, err := tenants.UpdateOrg(v.ctx, tx, id, tenants.OrgUpdate{Name: &name, Code: &code, Kind: &kind})
		return err
	})
}

// moveOrg puts an org, with its subtree, under another parent.
func (p *Portal) moveOrg(v *view) error {
	parent, err := uuid.Parse(v.r.PostFormValue("parent_id"))
	if err != nil {
		return p.orgChange(v, func(*tenants.Tx, uuid.UUID) error {
			return errInvalid("parent_id", v.t("orgs.parent.required"))
		})
	}
	return p.orgChange(v, func(tx *tenants.Tx, id uuid.UUID) error {
		_, err := tenants.MoveOrg(v.ctx, tx, id, parent)
		return err
	})
}

// deleteOrg deletes an org without children or members.
func (p *Portal) deleteOrg(v *view) error {
	return p.orgChange(v, func(tx *tenants.Tx, id uuid.UUID) error { return tenants.DeleteOrg(v.ctx, tx, id) })
}
