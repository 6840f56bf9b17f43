package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"yamen/modules"
	"yamen/tenants"
)

type OrgPath struct {
	TenantPath
	Org uuid.UUID `path:"org"`
}

type listOrgsInput struct {
	TenantPath
	Root string `query:"root" format:"uuid" doc:"只列出此组织及其下级 (only this org and what is under it)"`
}

type createOrgInput struct {
	TenantPath
	Body struct {
		ParentID   *uuid.UUID `json:"parent_id,omitempty" doc:"上级组织；缺省为根 (parent org; a root when absent)"`
		Code       string     `json:"code" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_.-]+$" doc:"组织编码，租户内唯一 (org code, unique in the tenant)"`
		Name       string     `json:"name" minLength:"1" maxLength:"200"`
		Kind       string     `json:"kind" enum:"bureau,branch,station,police_area,center,department,window,office,team,other"`
		RegionCode string     `json:"region_code,omitempty" pattern:"^[0-9]{6}([0-9]{3}([0-9]{3})?)?$"`
	}
}

type updateOrgInput struct {
	OrgPath
	Body struct {
		Code       *string `json:"code,omitempty" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_.-]+$"`
		Name       *string `json:"name,omitempty" minLength:"1" maxLength:"200"`
		Kind       *string `json:"kind,omitempty" enum:"bureau,branch,station,police_area,center,department,window,office,team,other"`
		RegionCode *string `json:"region_code,omitempty" pattern:"^[0-9]{6}([0-9]{3}([0-9]{3})?)?$"`
	}
}

type moveOrgInput struct {
	OrgPath
	Body struct {
		ParentID uuid.UUID `json:"parent_id" doc:"新的上级组织 (the new parent)"`
	}
}

func (s *Server) registerOrgs(r *modules.Router) {
	modules.Register(r, "orgs:read", modules.TenantWide(rowsOrgTree, huma.Operation{
		OperationID: "list-orgs", Method: http.MethodGet, Path: "/orgs", Summary: "组织机构树 The org tree",
		Description: "Orgs in tree order: each parent before its children.",
	}), func(ctx context.Context, in *listOrgsInput) (*Body[[]tenants.Org], error) {
		var root *uuid.UUID
		if in.Root != "" {
			id := uuid.MustParse(in.Root) // format:"uuid" has checked it
			root = &id
		}
		return inTenantRead(s, ctx, func(tx tenants.Querier) ([]tenants.Org, error) {
			orgs, err := tenants.ListOrgs(ctx, tx, root)
			return nonNil(orgs), err
		})
	})
	modules.Register(r, "orgs:write", huma.Operation{
		OperationID: "create-org", Method: http.MethodPost, Path: "/orgs", DefaultStatus: http.StatusCreated, Summary: "新增组织 Add an org",
	}, func(ctx context.Context, in *createOrgInput) (*Body[tenants.Org], error) {
		return inTenant(s, ctx, func(tx *tenants.Tx) (tenants.Org, error) {
			b := in.Body
			return tenants.CreateOrg(ctx, tx, tenants.NewOrg{ParentID: b.ParentID, Code: b.Code, Name: b.Name, Kind: b.Kind, RegionCode: b.RegionCode})
		})
	})
	modules.Register(r, "orgs:read", modules.TenantWide(rowsOrgTree, huma.Operation{
		OperationID: "get-org", Method: http.MethodGet, Path: "/orgs/{org}", Summary: "查看组织 Get an org",
	}), func(ctx context.Context, in *OrgPath) (*Body[tenants.Org], error) {
		return inTenantRead(s, ctx, func(tx tenants.Querier) (tenants.Org, error) { return tenants.GetOrg(ctx, tx, in.Org) })
	})
	modules.Register(r, "orgs:write", huma.Operation{
		OperationID: "update-org", Method: http.MethodPatch, Path: "/orgs/{org}", Summary: "修改组织 Update an org",
	}, func(ctx context.Context, in *updateOrgInput) (*Body[tenants.Org], error) {
		return inTenant(s, ctx, func(tx *tenants.Tx) (tenants.Org, error) {
			b := in.Body
			return tenants.UpdateOrg(ctx, tx, in.Org, tenants.OrgUpdate{Code: b.Code, Name: b.Name, Kind: b.Kind, RegionCode: b.RegionCode})
		})
	})
	modules.Register(r, "orgs:write", huma.Operation{
		OperationID: "move-org", Method: http.MethodPost, Path: "/orgs/{org}/move", Summary: "移动组织 Move an org and its subtree",
		Description: "Puts the org, with everything under it, under a new parent in one transaction.",
	}, func(ctx context.Context, in *moveOrgInput) (*Body[tenants.Org], error) {
		return inTenant(s, ctx, func(tx *tenants.Tx) (tenants.Org, error) { return tenants.MoveOrg(ctx, tx, in.Org, in.Body.ParentID) })
	})
	modules.Register(r, "orgs:write", huma.Operation{
		OperationID: "delete-org", Method: http.MethodDelete, Path: "/orgs/{org}", DefaultStatus: http.StatusNoContent,
		Summary: "删除组织 Delete an org", Description: "Refused while the org has child orgs or members.",
	}, func(ctx context.Context, in *OrgPath) (*NoContent, error) {
		return noContent(s, ctx, func(tx *tenants.Tx) error { return tenants.DeleteOrg(ctx, tx, in.Org) })
	})
}
