package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"yamen/modules"
	"yamen/tenants"
)

type MemberPath struct {
	TenantPath
	Member uuid.UUID `path:"member"`
}

type listMembersInput struct {
	TenantPath
	Org     string `query:"org" format:"uuid" doc:"只列出此组织的人员 (only this org's members)"`
	Subtree bool   `query:"subtree" doc:"含下级组织 (include the orgs under it)"`
	Q       string `query:"q" maxLength:"100" doc:"姓名包含，或手机、邮箱、警号等于 (name contains, or phone, email, badge equals)"`
	After   string `query:"after" format:"uuid"`
	Limit   int    `query:"limit" minimum:"1" maximum:"500" default:"100"`
}

type MemberFields struct {
	Name      string     `json:"name" minLength:"1" maxLength:"100"`
	Email     *string    `json:"email,omitempty" format:"email" maxLength:"254"`
	Phone     *string    `json:"phone,omitempty" pattern:"^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})$" doc:"手机或座机 (mobile or landline)"`
	BadgeNo   *string    `json:"badge_no,omitempty" maxLength:"32" doc:"警号或工号 (badge or staff number)"`
	SponsorID *uuid.UUID `json:"sponsor_id,omitempty" doc:"辅警挂靠的民警 (for an auxiliary: the sponsoring officer)"`
}

type createMemberInput struct {
	TenantPath
	Body struct {
		OrgID uuid.UUID `json:"org_id"`
		MemberFields
		RoleIDs []uuid.UUID `json:"role_ids,omitempty" maxItems:"50"`
	}
}

type updateMemberInput struct {
	MemberPath
	Body struct {
		OrgID     *uuid.UUID   `json:"org_id,omitempty"`
		Name      *string      `json:"name,omitempty" minLength:"1" maxLength:"100"`
		Email     *string      `json:"email,omitempty" format:"email" maxLength:"254"`
		Phone     *string      `json:"phone,omitempty" pattern:"^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})$"`
		BadgeNo   *string      `json:"badge_no,omitempty" maxLength:"32"`
		SponsorID *uuid.UUID   `json:"sponsor_id,omitempty"`
		Status    *string      `json:"status,omitempty" enum:"active,inactive"`
		RoleIDs   *[]uuid.UUID `json:"role_ids,omitempty" maxItems:"50" doc:"给出时替换全部角色 (replaces all roles when given)"`
		Clear     []string     `json:"clear,omitempty" enum:"email,phone,badge_no,sponsor_id" uniqueItems:"true" doc:"清空这些字段；清空 sponsor_id 即辅警转为普通人员 (empty these fields; clearing sponsor_id makes an auxiliary a regular member)"`
	}
}

func optionalUUID(s string) *uuid.UUID {
	if s == "" {
		return nil
	}
	id := uuid.MustParse(s) // format:"uuid" has checked it
	return &id
}

// checkRoleGrant refuses to give a member roles whose permissions the
// caller does not hold.
func (s *Server) checkRoleGrant(ctx context.Context, roles []uuid.UUID) error {
	if len(roles) == 0 {
		return nil
	}
	t, subject := requestParties(ctx)
	r, err := s.db.Reader(t.ID, subject.String())
	if err != nil {
		return err
	}
	rows, err := r.Query(ctx, "SELECT DISTINCT unnest(permissions) FROM roles WHERE id = ANY($1)", roles)
	if err != nil {
		return err
	}
	perms, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	return s.access.checkGrant(ctx, "members:write", perms)
}

func (s *Server) registerMembers(r *modules.Router) {
	modules.Register(r, "members:read", modules.InScope(tenants.MemberColumns, huma.Operation{
		OperationID: "list-members", Method: http.MethodGet, Path: "/members", Summary: "人员列表 List staff",
	}), func(ctx context.Context, in *listMembersInput) (*Body[[]tenants.Member], error) {
		return inTenantRead(s, ctx, func(tx tenants.Querier) ([]tenants.Member, error) {
			ms, err := tenants.ListMembers(ctx, tx, modules.DataScope(ctx), tenants.MemberFilter{OrgID: optionalUUID(in.Org), Subtree: in.Subtree, Query: in.Q, After: optionalUUID(in.After), Limit: in.Limit})
			return nonNil(ms), err
		})
	})
	modules.Register(r, "members:write", huma.Operation{
		OperationID: "create-member", Method: http.MethodPost, Path: "/members", DefaultStatus: http.StatusCreated, Summary: "新增人员 Add a staff member",
	}, func(ctx context.Context, in *createMemberInput) (*Body[tenants.Member], error) {
		if err := s.checkRoleGrant(ctx, in.Body.RoleIDs); err != nil {
			return nil, err
		}
		return inTenant(s, ctx, func(tx *tenants.Tx) (tenants.Member, error) {
			b := in.Body
			return tenants.CreateMember(ctx, tx, tenants.NewMember{OrgID: b.OrgID, Name: b.Name, Email: b.Email, Phone: b.Phone, BadgeNo: b.BadgeNo, SponsorID: b.SponsorID, RoleIDs: b.RoleIDs})
		})
	})
	modules.Register(r, "members:read", modules.InScope(tenants.MemberColumns, huma.Operation{
		OperationID: "get-member", Method: http.MethodGet, Path: "/members/{member}", Summary: "查看人员 Get a staff member",
	}), func(ctx context.Context, in *MemberPath) (*Body[tenants.Member], error) {
		return inTenantRead(s, ctx, func(tx tenants.Querier) (tenants.Member, error) {
			return tenants.GetMemberWithin(ctx, tx, modules.DataScope(ctx), in.Member)
		})
	})
	modules.Register(r, "members:write", huma.Operation{
		OperationID: "update-member", Method: http.MethodPatch, Path: "/members/{member}", Summary: "修改人员 Update a staff member",
	}, func(ctx context.Context, in *updateMemberInput) (*Body[tenants.Member], error) {
		if in.Body.RoleIDs != nil {
			if err := s.checkRoleGrant(ctx, *in.Body.RoleIDs); err != nil {
				return nil, err
			}
		}
		out, err := inTenant(s, ctx, func(tx *tenants.Tx) (tenants.Member, error) {
			b := in.Body
			return tenants.UpdateMember(ctx, tx, in.Member, tenants.MemberUpdate{OrgID: b.OrgID, Name: b.Name, Email: b.Email, Phone: b.Phone, BadgeNo: b.BadgeNo, SponsorID: b.SponsorID, Status: b.Status, RoleIDs: b.RoleIDs, Clear: b.Clear})
		})
		return staffChanged(s, ctx, out, err)
	})
	modules.Register(r, "members:write", huma.Operation{
		OperationID: "delete-member", Method: http.MethodDelete, Path: "/members/{member}", DefaultStatus: http.StatusNoContent, Summary: "删除人员 Remove a staff member",
	}, func(ctx context.Context, in *MemberPath) (*NoContent, error) {
		out, err := noContent(s, ctx, func(tx *tenants.Tx) error { return tenants.DeleteMember(ctx, tx, in.Member) })
		return staffChanged(s, ctx, out, err)
	})
}
