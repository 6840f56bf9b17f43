package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/danielgtaylor/huma/v2"

	"yamen/modules"
	"yamen/problem"
	"yamen/tenants"
)

// TenantBody is a tenant in responses.
type TenantBody struct {
	Body tenants.Tenant
}

type createTenantInput struct {
	Body struct {
		Slug       string    `json:"slug" minLength:"2" maxLength:"40" pattern:"^[a-z][a-z0-9-]{0,38}[a-z0-9]$" doc:"路径中的短名，小写字母、数字、连字符 (slug: lowercase letters, digits, hyphens)" example:"demo-hall"`
		Name       string    `json:"name" minLength:"1" maxLength:"200" example:"示范市政务服务中心"`
		Kind       string    `json:"kind" enum:"police_bureau,affairs_hall,credit_center,other"`
		RegionCode string    `json:"region_code" pattern:"^[0-9]{6}([0-9]{3}([0-9]{3})?)?$" doc:"GB/T 2260 行政区划代码 (region code)"`
		Modules    *[]string `json:"modules,omitempty" doc:"授权的模块；缺省为该类租户的默认模块包 (entitled modules; default: the bundle of the kind)"`
	}
}

type TenantPath struct {
	Tenant string `path:"tenant" doc:"租户短名 (tenant slug)"`
}

type listTenantsInput struct {
	Kind   string `query:"kind" enum:"police_bureau,affairs_hall,credit_center,other"`
	Status string `query:"status" enum:"active,suspended"`
	After  string `query:"after" maxLength:"40" doc:"从此短名之后继续 (continue after this slug)"`
	Limit  int    `query:"limit" minimum:"1" maximum:"500" default:"100"`
}

type updateTenantInput struct {
	TenantPath
	Body struct {
		Name       *string `json:"name,omitempty" minLength:"1" maxLength:"200"`
		RegionCode *string `json:"region_code,omitempty" pattern:"^[0-9]{6}([0-9]{3}([0-9]{3})?)?$"`
	}
}

type entitlementInput struct {
	TenantPath
	Module string `path:"module"`
	Body   struct {
		Entitled bool `json:"entitled"`
	}
}

// ModuleCatalogue lists the modules a build offers.
type ModuleCatalogue struct {
	Body []ModuleInfo
}

// ModuleInfo is a module's declaration as clients see it.
type ModuleInfo struct {
	ID          string               `json:"id"`
	Title       modules.Text         `json:"title"`
	Bundles     []string             `json:"bundles"`
	Needs       []string             `json:"needs"`
	Permissions []modules.Permission `json:"permissions"`
}

func moduleInfo(i modules.Info) ModuleInfo {
	return ModuleInfo{ID: i.ID, Title: i.Title, Bundles: nonNil(i.Bundles), Needs: nonNil(i.Needs), Permissions: nonNil(i.Permissions)}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (s *Server) registerPlatform(r *modules.Router) {
	const action = "platform:manage"
	modules.Register(r, action, huma.Operation{
		OperationID: "platform-create-tenant", Method: http.MethodPost, Path: "/tenants", DefaultStatus: http.StatusCreated,
		Summary: "创建租户 Create a tenant", Description: "Entitles and enables the bundle of the tenant's kind unless modules are given, and creates its root org and 租户管理员 role.",
	}, func(ctx context.Context, in *createTenantInput) (*TenantBody, error) {
		subject, _ := tenants.SubjectFrom(ctx)
		mods := s.reg.Bundle(in.Body.Kind)
		if in.Body.Modules != nil {
			mods = *in.Body.Modules
			if err := s.checkModuleIDs("body.modules", mods); err != nil {
				return nil, err
			}
		}
		t, err := s.db.CreateTenant(ctx, subject, tenants.NewTenant{
			Slug: in.Body.Slug, Name: in.Body.Name, Kind: in.Body.Kind, RegionCode: in.Body.RegionCode, Modules: mods,
		})
		if err != nil {
			return nil, err
		}
		return &TenantBody{t}, nil
	})

	modules.Register(r, action, huma.Operation{
		OperationID: "platform-list-tenants", Method: http.MethodGet, Path: "/tenants", Summary: "租户列表 List tenants",
	}, func(ctx context.Context, in *listTenantsInput) (*struct{ Body []tenants.Tenant }, error) {
		ts, err := s.db.ListTenants(ctx, tenants.TenantFilter{Kind: in.Kind, Status: in.Status, After: in.After, Limit: in.Limit})
		if err != nil {
			return nil, err
		}
		return &struct{ Body []tenants.Tenant }{nonNil(ts)}, nil
	})

	modules.Register(r, action, huma.Operation{
		OperationID: "platform-get-tenant", Method: http.MethodGet, Path: "/tenants/{tenant}", Summary: "查看租户 Get a tenant",
	}, func(ctx context.Context, in *TenantPath) (*TenantBody, error) {
		t, err := s.db.TenantBySlug(ctx, in.Tenant)
		if err != nil {
			return nil, err
		}
		return &TenantBody{t}, nil
	})

	modules.Register(r, action, huma.Operation{
		OperationID: "platform-update-tenant", Method: http.MethodPatch, Path: "/tenants/{tenant}", Summary: "修改租户 Update a tenant",
	}, func(ctx context.Context, in *updateTenantInput) (*TenantBody, error) {
		return s.updateTenant(ctx, in.Tenant, tenants.TenantUpdate{Name: in.Body.Name, RegionCode: in.Body.RegionCode})
	})

	for _, st := range []struct{ verb, status, zh string }{{"suspend", tenants.StatusSuspended, "停用"}, {"activate", tenants.StatusActive, "启用"}} {
		modules.Register(r, action, huma.Operation{
			OperationID: "platform-" + st.verb + "-tenant", Method: http.MethodPost, Path: "/tenants/{tenant}/" + st.verb,
			Summary: st.zh + "租户 " + st.verb + " a tenant",
		}, func(ctx context.Context, in *TenantPath) (*TenantBody, error) {
			return s.updateTenant(ctx, in.Tenant, tenants.TenantUpdate{Status: &st.status})
		})
	}

	modules.Register(r, action, huma.Operation{
		OperationID: "platform-list-tenant-modules", Method: http.MethodGet, Path: "/tenants/{tenant}/modules",
		Summary: "租户的模块授权 A tenant's module entitlements",
	}, func(ctx context.Context, in *TenantPath) (*ModuleStatesBody, error) {
		t, err := s.db.TenantBySlug(ctx, in.Tenant)
		if err != nil {
			return nil, err
		}
		subject, _ := tenants.SubjectFrom(ctx)
		return s.moduleStates(ctx, t, subject)
	})

	modules.Register(r, action, huma.Operation{
		OperationID: "platform-set-entitlement", Method: http.MethodPut, Path: "/tenants/{tenant}/modules/{module}/entitlement",
		Summary: "授权或收回模块 Entitle a tenant to a module, or take it back", Description: "Taking an entitlement back disables the module; refused while an enabled module needs it.",
	}, func(ctx context.Context, in *entitlementInput) (*ModuleStatesBody, error) {
		t, err := s.db.TenantBySlug(ctx, in.Tenant)
		if err != nil {
			return nil, err
		}
		if _, ok := s.reg.Info(in.Module); !ok {
			return nil, unknownModule(in.Module)
		}
		subject, _ := tenants.SubjectFrom(ctx)
		err = s.db.Tx(ctx, t.ID, subject.String(), func(tx *tenants.Tx) error {
			if err := tenants.LockModules(ctx, tx); err != nil {
				return err
			}
			if !in.Body.Entitled {
				states, err := tenants.ModuleStates(ctx, tx)
				if err != nil {
					return err
				}
				if err := s.refuseIfNeeded(in.Module, states); err != nil {
					return err
				}
			}
			return tenants.SetEntitled(ctx, tx, in.Module, in.Body.Entitled)
		})
		if err != nil {
			return nil, err
		}
		s.access.tenantChanged(t)
		return s.moduleStates(ctx, t, subject)
	})

	modules.Register(r, action, huma.Operation{
		OperationID: "platform-list-modules", Method: http.MethodGet, Path: "/modules", Summary: "本平台提供的模块 Modules this platform offers",
	}, func(ctx context.Context, _ *struct{}) (*ModuleCatalogue, error) {
		out := &ModuleCatalogue{Body: []ModuleInfo{}}
		for _, m := range s.reg.All() {
			out.Body = append(out.Body, moduleInfo(m.Module()))
		}
		return out, nil
	})
}

func (s *Server) updateTenant(ctx context.Context, slug string, u tenants.TenantUpdate) (*TenantBody, error) {
	t, err := s.db.TenantBySlug(ctx, slug)
	if err != nil {
		return nil, err
	}
	subject, _ := tenants.SubjectFrom(ctx)
	t, err = s.db.UpdateTenant(ctx, subject, t.ID, u)
	if err != nil {
		return nil, err
	}
	s.access.tenantChanged(t)
	return &TenantBody{t}, nil
}

func (s *Server) checkModuleIDs(location string, ids []string) error {
	var fields []problem.Field
	for i, id := range ids {
		if _, ok := s.reg.Info(id); !ok {
			fields = append(fields, problem.Field{Location: fmt.Sprintf("%s[%d]", location, i), Message: "没有这个模块 (unknown module)", Value: id})
		}
	}
	if len(fields) > 0 {
		return problem.Invalid(fields...)
	}
	for _, id := range ids {
		info, _ := s.reg.Info(id)
		for _, need := range info.Needs {
			if !slices.Contains(ids, need) {
				return problem.InvalidField(location, fmt.Sprintf("模块 %s 需要模块 %s (module %s needs %s)", id, need, id, need), ids)
			}
		}
	}
	return nil
}

func unknownModule(id string) error {
	return problem.NotFound(fmt.Sprintf("没有模块 %q (no such module)", id))
}
