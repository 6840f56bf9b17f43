package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"yamen/policy"
	"yamen/problem"
	"yamen/tenants"
)

// What the portal (server-rendered pages in the same process) shares with
// the API: the same sessions, the same access decisions and their caches,
// and the same rules for changing a tenant. The portal calls these instead
// of the HTTP API; each takes the context Authorize returned.

// Person resolves the Kratos session in a Cookie header to a subject:
// staff (resolved to a member by Authorize), citizen or intermediary.
func (s *Server) Person(ctx context.Context, cookie string) (tenants.Subject, error) {
	if s.access.sessions == nil {
		return tenants.Subject{}, problem.New(http.StatusServiceUnavailable, "未配置登录服务 (sign-in is not configured)")
	}
	return s.access.person(ctx, "", cookie)
}

// Authorize admits subject to action in the tenant of slug exactly as the
// API admits a request to an operation of that action: staff act as the
// tenant's members and the tenant's policy decides; refusals are audited.
// The context returned carries the tenant, the subject, the actor and the
// decision, for the methods below.
func (s *Server) Authorize(ctx context.Context, slug string, subject tenants.Subject, action string) (context.Context, error) {
	return s.access.inTenant(ctx, slug, subject, action, "")
}

// DecisionOf returns the decision Authorize put into ctx: lists take their
// data scope from it.
func DecisionOf(ctx context.Context) policy.Decision { return decisionFrom(ctx) }

// ActorOf returns the member a staff context acts as, or nil.
func ActorOf(ctx context.Context) *tenants.Actor { return actorFrom(ctx) }

// Memberships lists the tenants a signed-in staff identity works in.
func (s *Server) Memberships(ctx context.Context, subject tenants.Subject) ([]Membership, error) {
	return s.memberships(ctx, subject)
}

// ModuleStates lists every module as the tenant of ctx has it.
func (s *Server) ModuleStates(ctx context.Context) ([]ModuleState, error) {
	t, subject := requestParties(ctx)
	out, err := s.moduleStates(ctx, t, subject)
	if err != nil {
		return nil, err
	}
	return out.Body, nil
}

// SetModuleEnabled switches a module on or off for the tenant of ctx,
// refusing what its needs forbid.
func (s *Server) SetModuleEnabled(ctx context.Context, module string, on bool) error {
	_, err := s.setEnabled(ctx, module, on)
	return err
}

// ModuleSettings returns a module's settings, defaults filled in, and their
// schema (nil when the module has none).
func (s *Server) ModuleSettings(ctx context.Context, module string) (map[string]any, *huma.Schema, error) {
	t, subject := requestParties(ctx)
	st, err := s.entitledState(ctx, t, subject, module)
	if err != nil {
		return nil, nil, err
	}
	return s.reg.WithDefaults(module, st.Settings), s.reg.SettingsSchema(module), nil
}

// Permissions lists every permission a role can grant.
func (s *Server) Permissions() []PermissionInfo { return s.permissions() }

// Public admits subject (anonymous, or a person signed in) to the public
// pages of module in the tenant of slug, as the API admits a public
// operation: the tenant must be active and the module enabled. The context
// returned carries the tenant and the subject.
func (s *Server) Public(ctx context.Context, slug string, subject tenants.Subject, module string) (context.Context, error) {
	tenant, err := s.access.tenant(ctx, slug)
	if err != nil {
		return nil, err
	}
	if tenant.Status != tenants.StatusActive {
		return nil, problem.Forbidden("该租户已停用 (this tenant is suspended)")
	}
	if module != "" {
		on, err := s.access.moduleEnabled(ctx, tenant, tenants.System(), module)
		if err != nil {
			return nil, err
		}
		if !on {
			return nil, problem.NotFound("该租户未启用模块 " + module + " (module not enabled for this tenant)")
		}
	}
	return tenants.WithTenant(tenants.WithSubject(ctx, subject), tenant), nil
}
