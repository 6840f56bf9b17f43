package api

import (
	"context"
	"net/http"
	"regexp"
	"slices"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"yamen/modules"
	"yamen/problem"
	"yamen/tenants"
)

// Me is who the caller is and, for staff, where they work.
type Me struct {
	Kind       string         `json:"kind" doc:"staff, citizen, intermediary, tenant_key 或 platform_key"`
	IdentityID *uuid.UUID     `json:"identity_id,omitempty"`
	Name       string         `json:"name,omitempty"`
	Traits     map[string]any `json:"traits,omitempty"`
	Tenants    []Membership   `json:"tenants" doc:"在职的租户 (tenants the person is active staff of)"`
}

// Membership is a staff person's standing in one tenant.
type Membership struct {
	Tenant      string         `json:"tenant"`
	TenantName  string         `json:"tenant_name"`
	MemberID    uuid.UUID      `json:"member_id"`
	OrgID       uuid.UUID      `json:"org_id"`
	OrgKind     string         `json:"org_kind"`
	Roles       []tenants.Role `json:"roles"`
	Permissions []string       `json:"permissions" doc:"各角色权限之并集 (the union of the roles' permissions)"`
	SponsorID   *uuid.UUID     `json:"sponsor_id,omitempty" doc:"辅警：数据范围随挂靠民警 (an auxiliary sees the sponsor's data)"`
}

func (s *Server) registerMe(r *modules.Router) {
	modules.Register(r, "me:read", huma.Operation{
		OperationID: "get-me", Method: http.MethodGet, Path: "/me", Summary: "当前用户 Who am I",
		Description: "The signed-in identity and, for staff, each tenant with org, roles, permissions and data scope.",
	}, func(ctx context.Context, _ *struct{}) (*Body[Me], error) {
		subject, _ := tenants.SubjectFrom(ctx)
		me := Me{Kind: string(subject.Kind), Name: subject.Name, Tenants: []Membership{}}
		if subject.IdentityID == uuid.Nil {
			return &Body[Me]{me}, nil
		}
		me.IdentityID = &subject.IdentityID
		if subject.Kind != tenants.SubjectMember {
			return &Body[Me]{me}, nil
		}
		me.Kind = "staff"
		ms, err := s.memberships(ctx, subject)
		if err != nil {
			return nil, err
		}
		me.Tenants = ms
		return &Body[Me]{me}, nil
	})
}

// memberships finds the tenants a staff identity works in: one query finds
// the tenants (tenants.DB.TenantsOfIdentity), then each tenant's member is
// read under that tenant's row level security, as when the person acts
// there (and from the same cache).
func (s *Server) memberships(ctx context.Context, subject tenants.Subject) ([]Membership, error) {
	ts, err := s.db.TenantsOfIdentity(ctx, subject.IdentityID)
	if err != nil {
		return nil, err
	}
	var out []Membership
	for _, t := range ts {
		act, err := s.access.actor(ctx, t, subject)
		if pe, ok := problem.As(err); ok && pe.Status == http.StatusNotFound {
			continue
		}
		if err != nil {
			return nil, err
		}
		m := Membership{Tenant: t.Slug, TenantName: t.Name, MemberID: act.Member.ID, OrgID: act.Member.OrgID,
			OrgKind: act.OrgKind, Roles: nonNil(act.Roles), Permissions: []string{}, SponsorID: act.Member.SponsorID}
		for _, r := range act.Roles {
			for _, p := range r.Permissions {
				if !slices.Contains(m.Permissions, p) {
					m.Permissions = append(m.Permissions, p)
				}
			}
		}
		slices.Sort(m.Permissions)
		out = append(out, m)
	}
	return out, nil
}

var mobile = regexp.MustCompile(`^1[3-9][0-9]{9}$`)

type linkInput struct {
	MemberPath
	Body struct {
		Identifier string `json:"identifier" minLength:"3" maxLength:"254" doc:"工作人员账号的登录邮箱或手机号 (the email or phone the staff account signs in with)"`
	}
}

func (s *Server) registerLinks(r *modules.Router) {
	modules.Register(r, "members:write", huma.Operation{
		OperationID: "link-member", Method: http.MethodPost, Path: "/members/{member}/link",
		Summary: "关联登录账号 Link a staff account to a member", Description: "Finds the Kratos staff identity by its email or phone and lets it sign in as this member. Audited.",
	}, func(ctx context.Context, in *linkInput) (*Body[tenants.Member], error) {
		return bodyOf(s.LinkStaff(ctx, in.Member, in.Body.Identifier))
	})
	modules.Register(r, "members:write", huma.Operation{
		OperationID: "unlink-member", Method: http.MethodDelete, Path: "/members/{member}/link",
		Summary: "解除登录账号 Unlink a member's staff account",
	}, func(ctx context.Context, in *MemberPath) (*Body[tenants.Member], error) {
		out, err := inTenant(s, ctx, func(tx *tenants.Tx) (tenants.Member, error) {
			return tenants.LinkIdentity(ctx, tx, in.Member, nil)
		})
		if err == nil {
			t, _ := requestParties(ctx)
			s.access.tenantChanged(t)
		}
		return out, err
	})
}

// LinkStaff lets the Kratos staff identity that signs in with identifier
// (email or phone) act as member of the tenant of ctx. A bad identifier is a
// problem naming body.identifier.
func (s *Server) LinkStaff(ctx context.Context, member uuid.UUID, identifier string) (tenants.Member, error) {
	if s.access.sessions == nil {
		return tenants.Member{}, problem.New(http.StatusServiceUnavailable, "未配置登录服务 (sign-in is not configured)")
	}
	given := identifier
	if mobile.MatchString(identifier) {
		identifier = "+86" + identifier // Kratos keeps phones in E.164
	}
	id, err := s.access.sessions.FindByIdentifier(ctx, identifier)
	if err != nil {
		return tenants.Member{}, err
	}
	if id.Schema != "staff" {
		return tenants.Member{}, problem.InvalidField("body.identifier", "该账号不是工作人员账号 (the account is not a staff account)", given)
	}
	out, err := unBody(inTenant(s, ctx, func(tx *tenants.Tx) (tenants.Member, error) {
		return tenants.LinkIdentity(ctx, tx, member, &id.ID)
	}))
	return staffChanged(s, ctx, out, err)
}
