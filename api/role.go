package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"yamen/modules"
	"yamen/problem"
	"yamen/tenants"
)

type RolePath struct {
	TenantPath
	Role uuid.UUID `path:"role"`
}

type createRoleInput struct {
	TenantPath
	Body struct {
		Name        string      `json:"name" minLength:"1" maxLength:"100" doc:"第一步：角色概况，即职位名称 (step 1, the profile: the post's name)" example:"民警"`
		Description string      `json:"description,omitempty" maxLength:"500"`
		Permissions []string    `json:"permissions" maxItems:"500" doc:"第二步：操作权限 (step 2: operation permissions)"`
		DataScope   string      `json:"data_scope" enum:"all,org_subtree,org,self,custom" doc:"第三步：数据范围；org 即“所在机构数据” (step 3: data scope; org is “the data of my org”)"`
		ScopeOrgIDs []uuid.UUID `json:"scope_org_ids,omitempty" maxItems:"500" doc:"data_scope 为 custom 时的组织 (the orgs of a custom scope)"`
	}
}

type updateRoleInput struct {
	RolePath
	Body struct {
		Name        *string      `json:"name,omitempty" minLength:"1" maxLength:"100"`
		Description *string      `json:"description,omitempty" maxLength:"500"`
		Permissions *[]string    `json:"permissions,omitempty" maxItems:"500"`
		DataScope   *string      `json:"data_scope,omitempty" enum:"all,org_subtree,org,self,custom"`
		ScopeOrgIDs *[]uuid.UUID `json:"scope_org_ids,omitempty" maxItems:"500"`
	}
}

// PermissionInfo is a permission a role can grant.
type PermissionInfo struct {
	Name   string       `json:"name"`
	Title  modules.Text `json:"title"`
	Module string       `json:"module,omitempty" doc:"所属模块；平台自身的权限为空 (the module it belongs to; empty for the platform's own)"`
}

// permissions lists every permission roles can grant: the platform's and
// each module's.
func (s *Server) permissions() []PermissionInfo {
	var ps []PermissionInfo
	for _, p := range tenants.CorePermissions {
		ps = append(ps, PermissionInfo{Name: p.Name, Title: modules.Text{ZH: p.ZH, EN: p.EN}})
	}
	for _, m := range s.reg.All() {
		info := m.Module()
		for _, p := range info.Permissions {
			ps = append(ps, PermissionInfo{Name: p.Name, Title: p.Title, Module: info.ID})
		}
	}
	return ps
}

// checkPermissions names each permission that does not exist.
func (s *Server) checkPermissions(location string, names []string) error {
	known := s.permissions()
	var fields []problem.Field
	for i, n := range names {
		if n == tenants.AllPermissions {
			continue
		}
		if !slices.ContainsFunc(known, func(p PermissionInfo) bool { return p.Name == n }) {
			fields = append(fields, problem.Field{Location: fmt.Sprintf("%s[%d]", location, i), Message: "没有这个权限 (unknown permission)", Value: n})
		}
	}
	if len(fields) > 0 {
		return problem.Invalid(fields...)
	}
	return nil
}

func (s *Server) registerRoles(r *modules.Router) {
	modules.Register(r, "roles:read", modules.TenantWide(rowsConfiguration, huma.Operation{
		OperationID: "list-permissions", Method: http.MethodGet, Path: "/permissions", Summary: "可授予的权限 Permissions roles can grant",
	}), func(ctx context.Context, _ *TenantPath) (*Body[[]PermissionInfo], error) {
		return &Body[[]PermissionInfo]{s.permissions()}, nil
	})
	modules.Register(r, "roles:read", modules.TenantWide(rowsConfiguration, huma.Operation{
		OperationID: "list-roles", Method: http.MethodGet, Path: "/roles", Summary: "角色列表 List roles",
	}), func(ctx context.Context, _ *TenantPath) (*Body[[]tenants.Role], error) {
		return inTenantRead(s, ctx, func(tx tenants.Querier) ([]tenants.Role, error) {
			rs, err := tenants.ListRoles(ctx, tx)
			return nonNil(rs), err
		})
	})
	modules.Register(r, "roles:write", huma.Operation{
		OperationID: "create-role", Method: http.MethodPost, Path: "/roles", DefaultStatus: http.StatusCreated, Summary: "新增角色 Add a role",
		Description: "A role is made in the three steps of seed 003: its profile (name), its operation permissions and its data scope.",
	}, func(ctx context.Context, in *createRoleInput) (*Body[tenants.Role], error) {
		b := in.Body
		return bodyOf(s.CreateRole(ctx, tenants.NewRole{Name: b.Name, Description: b.Description, Permissions: b.Permissions, DataScope: b.DataScope, ScopeOrgIDs: b.ScopeOrgIDs}))
	})
	modules.Register(r, "roles:read", modules.TenantWide(rowsConfiguration, huma.Operation{
		OperationID: "get-role", Method: http.MethodGet, Path: "/roles/{role}", Summary: "查看角色 Get a role",
	}), func(ctx context.Context, in *RolePath) (*Body[tenants.Role], error) {
		return inTenantRead(s, ctx, func(tx tenants.Querier) (tenants.Role, error) { return tenants.GetRole(ctx, tx, in.Role) })
	})
	modules.Register(r, "roles:write", huma.Operation{
		OperationID: "update-role", Method: http.MethodPatch, Path: "/roles/{role}", Summary: "修改角色 Update a role",
	}, func(ctx context.Context, in *updateRoleInput) (*Body[tenants.Role], error) {
		if in.Body.Permissions != nil {
			if err := s.checkPermissions("body.permissions", *in.Body.Permissions); err != nil {
				return nil, err
			}
			if err := s.access.checkGrant(ctx, "roles:write", *in.Body.Permissions); err != nil {
				return nil, err
			}
		}
		out, err := inTenant(s, ctx, func(tx *tenants.Tx) (tenants.Role, error) {
			b := in.Body
			return tenants.UpdateRole(ctx, tx, in.Role, tenants.RoleUpdate{Name: b.Name, Description: b.Description, Permissions: b.Permissions, DataScope: b.DataScope, ScopeOrgIDs: b.ScopeOrgIDs})
		})
		return staffChanged(s, ctx, out, err)
	})
	modules.Register(r, "roles:write", huma.Operation{
		OperationID: "delete-role", Method: http.MethodDelete, Path: "/roles/{role}", DefaultStatus: http.StatusNoContent,
		Summary: "删除角色 Delete a role", Description: "Refused while a member holds the role.",
	}, func(ctx context.Context, in *RolePath) (*NoContent, error) {
		out, err := noContent(s, ctx, func(tx *tenants.Tx) error { return tenants.DeleteRole(ctx, tx, in.Role) })
		return staffChanged(s, ctx, out, err)
	})
}

// CreateRole makes a role in the tenant of ctx, refusing permissions that do
// not exist (body.permissions[i]) or that the caller does not hold.
func (s *Server) CreateRole(ctx context.Context, n tenants.NewRole) (tenants.Role, error) {
	if err := s.checkPermissions("body.permissions", n.Permissions); err != nil {
		return tenants.Role{}, err
	}
	if err := s.access.checkGrant(ctx, "roles:write", n.Permissions); err != nil {
		return tenants.Role{}, err
	}
	return unBody(inTenant(s, ctx, func(tx *tenants.Tx) (tenants.Role, error) { return tenants.CreateRole(ctx, tx, n) }))
}
