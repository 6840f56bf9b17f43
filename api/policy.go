package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"yamen/modules"
	"yamen/policy"
	"yamen/problem"
	"yamen/tenants"
)

type uploadPolicyInput struct {
	TenantPath
	Body struct {
		Source string `json:"source" minLength:"1" maxLength:"65536" doc:"rego 源码，package yamen.tenant.<短名，连字符换成下划线>，须含 test_ 测试 (rego source in package yamen.tenant.<slug with _ for ->, with test_ rules)"`
	}
}

type policyVersionPath struct {
	TenantPath
	Version int `path:"version" minimum:"1"`
}

func (s *Server) registerPolicies(r *modules.Router) {
	modules.Register(r, "policies:read", modules.TenantWide(rowsConfiguration, huma.Operation{
		OperationID: "list-policies", Method: http.MethodGet, Path: "/policies", Summary: "租户策略版本 Versions of the tenant's policy",
	}), func(ctx context.Context, _ *TenantPath) (*Body[[]tenants.PolicyVersion], error) {
		return inTenantRead(s, ctx, func(q tenants.Querier) ([]tenants.PolicyVersion, error) {
			vs, err := tenants.ListPolicies(ctx, q)
			return nonNil(vs), err
		})
	})
	modules.Register(r, "policies:manage", huma.Operation{
		OperationID: "upload-policy", Method: http.MethodPost, Path: "/policies", DefaultStatus: http.StatusCreated,
		Summary:     "上传租户策略 Upload the tenant's policy",
		Description: "The rego is compiled with the base policy and its own tests run; only then is it saved as the next version and made active. A broken upload gets 422 with the compiler's messages and changes nothing.",
	}, func(ctx context.Context, in *uploadPolicyInput) (*Body[tenants.PolicyVersion], error) {
		return bodyOf(s.UploadPolicy(ctx, in.Body.Source))
	})
	modules.Register(r, "policies:manage", huma.Operation{
		OperationID: "activate-policy", Method: http.MethodPost, Path: "/policies/{version}/activate", DefaultStatus: http.StatusNoContent,
		Summary: "启用某一版本（回滚）Activate a version (roll back)",
	}, func(ctx context.Context, in *policyVersionPath) (*NoContent, error) {
		return s.activatePolicy(ctx, in.Version)
	})
	modules.Register(r, "policies:manage", huma.Operation{
		OperationID: "deactivate-policy", Method: http.MethodDelete, Path: "/policies/active", DefaultStatus: http.StatusNoContent,
		Summary: "停用租户策略 Switch the tenant's policy off",
	}, func(ctx context.Context, _ *TenantPath) (*NoContent, error) {
		return s.activatePolicy(ctx, 0)
	})
}

func (s *Server) activatePolicy(ctx context.Context, version int) (*NoContent, error) {
	out, err := noContent(s, ctx, func(tx *tenants.Tx) error { return tenants.ActivatePolicy(ctx, tx, version) })
	if err == nil {
		t, _ := requestParties(ctx)
		s.access.tenantChanged(t)
	}
	return out, err
}

// UploadPolicy compiles and tests a tenant's rego and saves it as the
// tenant's next, active version. Compiler and test messages are problem
// fields at body.source.
func (s *Server) UploadPolicy(ctx context.Context, source string) (tenants.PolicyVersion, error) {
	t, _ := requestParties(ctx)
	report, err := policy.CheckTenant(ctx, t.Slug, source)
	var up *policy.UploadError
	if errors.As(err, &up) {
		fields := make([]problem.Field, len(up.Messages))
		for i, m := range up.Messages {
			fields[i] = problem.Field{Location: "body.source", Message: m}
		}
		return tenants.PolicyVersion{}, problem.Invalid(fields...)
	}
	if err != nil {
		return tenants.PolicyVersion{}, err
	}
	out, err := unBody(inTenant(s, ctx, func(tx *tenants.Tx) (tenants.PolicyVersion, error) {
		return tenants.SavePolicy(ctx, tx, source, report)
	}))
	if err == nil {
		s.access.tenantChanged(t)
	}
	return out, err
}

// ActivatePolicy makes a saved version of the tenant's policy the active one
// (a roll back); version 0 switches the tenant's policy off.
func (s *Server) ActivatePolicy(ctx context.Context, version int) error {
	_, err := s.activatePolicy(ctx, version)
	return err
}
