package portal

import (
	"net/http"
	"strings"

	"github.com/google/uuid"

	"yamen/api"
	"yamen/tenants"
)

type staffPage struct {
	Members []staffRow
	Query   string
	More    string
}

type staffRow struct {
	tenants.Member
	Org        string
	Linked     bool
	Identifier string
	Error      string
}

// staffPageSize is how many members a page lists.
const staffPageSize = 50

// listStaff lists the members the admin's data scope shows, each with a
// form to invite them: link the Kratos staff account that signs in with an
// email or phone.
func (p *Portal) listStaff(v *view) error {
	return p.renderStaff(v, http.StatusOK, uuid.Nil, "", "")
}

func (p *Portal) renderStaff(v *view, status int, failed uuid.UUID, identifier, msg string) error {
	r, err := p.db.Reader(v.tenant.ID, v.person.String())
	if err != nil {
		return err
	}
	q := v.r.URL.Query()
	f := tenants.MemberFilter{Query: strings.TrimSpace(q.Get("q")), Limit: staffPageSize}
	if after, err := uuid.Parse(q.Get("after")); err == nil {
		f.After = &after
	}
	ms, err := tenants.ListMembers(v.ctx, r, api.DecisionOf(v.ctx).Scope, f)
	if err != nil {
		return err
	}
	orgs, err := tenants.ListOrgs(v.ctx, r, nil)
	if err != nil {
		return err
	}
	names := map[uuid.UUID]string{}
	for _, o := range orgs {
		names[o.ID] = o.Name
	}
	sp := staffPage{Query: f.Query}
	for _, m := range ms {
		row := staffRow{Member: m, Org: names[m.OrgID], Linked: m.IdentityID != nil}
		if m.ID == failed {
			row.Identifier, row.Error = identifier, msg
		}
		sp.Members = append(sp.Members, row)
	}
	if len(ms) == staffPageSize {
		sp.More = ms[len(ms)-1].ID.String()
	}
	v.render(status, "admin_staff", v.t("admin.staff"), sp)
	return nil
}

// linkStaff invites a member: links the staff account with that email or
// phone, so the person signs in as this member.
func (p *Portal) linkStaff(v *view) error {
	member, err := uuid.Parse(v.r.PathValue("member"))
	if err != nil {
		return errNotFound
	}
	identifier := strings.TrimSpace(v.r.PostFormValue("identifier"))
	if identifier == "" {
		return p.renderStaff(v, http.StatusUnprocessableEntity, member, identifier, v.t("field.required"))
	}
	_, err = p.api.LinkStaff(detach(v.ctx), member, identifier)
	if err == nil {
		return v.redirect("/t/" + v.tenant.Slug + "/admin/staff?done=linked")
	}
	fe, err := v.errorsOf(err)
	if err != nil {
		return err
	}
	msg := fe.Form
	if m := fe.For("identifier"); m != "" {
		msg = m
	}
	return p.renderStaff(v, http.StatusUnprocessableEntity, member, identifier, msg)
}
