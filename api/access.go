package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"yamen/modules"
	"yamen/policy"
	"yamen/problem"
	"yamen/tenants"
)

// access decides who may reach what: it resolves the subject, the tenant of
// the path and the module, and checks the operation's action.
type access struct {
	db       *tenants.DB
	policy   *policy.Engine
	sessions *Sessions // nil: nobody signs in, keys only

	keys    *ttlCache[string, tenants.Subject]
	slugs   *ttlCache[string, tenants.Tenant]
	enabled *ttlCache[uuid.UUID, map[string]bool]
	// decisions are keyed by the key's id: keys are created and revoked,
	// never changed.
	decisions      *ttlCache[decisionKey, policy.Decision]
	activePolicies *ttlCache[uuid.UUID, tenantPolicy]

	// actors are the staff members signed-in identities are, per tenant.
	actors *ttlCache[actorKey, *staffActor]
	// signIns are the sessions whose first use in a tenant is on record.
	signIns *ttlCache[signInKey, struct{}]
	// denials are the refusals recorded in the last minute.
	denials *ttlCache[denialKey, struct{}]

	mu      sync.Mutex
	engines map[engineKey]*policy.Engine
}

type actorKey struct {
	tenant, identity uuid.UUID
}

const cacheTTL = 5 * time.Second

func newAccess(db *tenants.DB, engine *policy.Engine, sessions *Sessions) *access {
	return &access{
		db:             db,
		policy:         engine,
		sessions:       sessions,
		actors:         newTTLCache[actorKey, *staffActor](cacheTTL, 100_000),
		signIns:        newTTLCache[signInKey, struct{}](24*time.Hour, 1_000_000),
		denials:        newTTLCache[denialKey, struct{}](time.Minute, 100_000),
		decisions:      newTTLCache[decisionKey, policy.Decision](cacheTTL, 100_000),
		activePolicies: newTTLCache[uuid.UUID, tenantPolicy](cacheTTL, 10_000),
		engines:        map[engineKey]*policy.Engine{},
		keys:           newTTLCache[string, tenants.Subject](cacheTTL, 10_000),
		slugs:          newTTLCache[string, tenants.Tenant](cacheTTL, 10_000),
		enabled:        newTTLCache[uuid.UUID, map[string]bool](cacheTTL, 10_000),
	}
}

// middleware runs before every huma operation.
func (a *access) middleware(api huma.API) func(ctx huma.Context, next func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		op := ctx.Operation()
		scope, _ := op.Metadata[modules.MetaScope].(modules.Scope)
		if scope == modules.ScopePublic || scope == "" {
			next(ctx)
			return
		}
		var c context.Context
		var err error
		if scope == modules.ScopeTenantPublic {
			c, err = a.checkPublic(ctx, op)
		} else {
			c, err = a.check(ctx, op, scope)
		}
		if err == nil {
			err = a.sensitiveRead(c, ctx, op)
		}
		if err != nil {
			if pe, ok := problem.As(err); ok && pe.Status == http.StatusUnauthorized {
				ctx.SetHeader("WWW-Authenticate", `Bearer realm="yamen"`)
			}
			_ = huma.WriteErr(api, ctx, http.StatusInternalServerError, "", err)
			return
		}
		next(huma.WithContext(ctx, c))
	}
}

func (a *access) check(ctx huma.Context, op *huma.Operation, scope modules.Scope) (context.Context, error) {
	c := ctx.Context()
	subject, err := a.subject(c, ctx)
	if err != nil {
		return nil, err
	}
	if info := requestInfoFrom(c); info != nil {
		info.subject = subject.String()
	}
	c = tenants.WithSubject(c, subject)
	action, _ := op.Metadata[modules.MetaAction].(string)

	switch scope {
	case modules.ScopeSignedIn:
		return c, nil
	case modules.ScopePlatform:
		if subject.Kind != tenants.SubjectPlatformKey {
			return nil, problem.Forbidden("仅平台管理员可执行此操作 (platform admins only)")
		}
		return c, nil
	case modules.ScopeTenant:
		module, _ := op.Metadata[modules.MetaModule].(string)
		return a.inTenant(c, ctx.Param("tenant"), subject, action, module)
	}
	return nil, fmt.Errorf("api: operation %s has unknown scope %q", op.OperationID, scope)
}

// inTenant admits subject to action in the tenant of slug (of module, when
// not empty): staff act as the tenant's members, and the tenant's policy
// decides. The context returned carries the tenant, the subject, the actor
// and the decision.
func (a *access) inTenant(c context.Context, slug string, subject tenants.Subject, action, module string) (context.Context, error) {
	c = tenants.WithSubject(c, subject)
	tenant, err := a.tenant(c, slug)
	if err != nil {
		return nil, err
	}
	switch subject.Kind {
	case tenants.SubjectTenantKey:
		// Another tenant's key learns nothing, not even that the tenant exists.
		if subject.TenantID != tenant.ID {
			return nil, unknownTenant(tenant.Slug)
		}
	case tenants.SubjectMember:
		// Staff act in a tenant only as its active members; to anyone
		// else the tenant does not exist.
		actor, err := a.actor(c, tenant, subject)
		if err != nil {
			return nil, err
		}
		a.recordSignIn(c, tenant, subject, actor.Actor)
		subject.ID, subject.TenantID, subject.Name = actor.Member.ID, tenant.ID, actor.Member.Name
		c = withActor(tenants.WithSubject(c, subject), actor)
		if info := requestInfoFrom(c); info != nil {
			info.subject = subject.String()
		}
	case tenants.SubjectCitizen, tenants.SubjectIntermediary:
		// Jurisdiction-wide people: the policy decides what they may do here.
	case tenants.SubjectPlatformKey:
		return nil, problem.Forbidden("平台密钥不能操作租户内的数据，请使用该租户的密钥 (platform keys do not act inside tenants; use a key of the tenant)")
	default:
		return nil, problem.Forbidden("无权访问该租户 (no access to this tenant)")
	}
	if tenant.Status != tenants.StatusActive {
		return nil, problem.Forbidden("该租户已停用 (this tenant is suspended)")
	}
	if module != "" {
		on, err := a.moduleEnabled(c, tenant, subject, module)
		if err != nil {
			return nil, err
		}
		if !on {
			return nil, problem.NotFound(fmt.Sprintf("该租户未启用模块 %s (module not enabled for this tenant)", module))
		}
	}
	d, err := a.decide(c, tenant, subject, staffActorFrom(c), action)
	if err != nil {
		return nil, err
	}
	if !d.Allow {
		a.recordDenial(c, tenant, subject, action, d.Reasons)
		return nil, problem.Forbidden(strings.Join(d.Reasons, "; "))
	}
	return withDecision(tenants.WithTenant(c, tenant), d), nil
}

// checkPublic admits anyone to an operation open to the public of a tenant:
// the tenant must be active and the module enabled. Credentials, when given,
// must be good: the caller is then known to the handler.
func (a *access) checkPublic(ctx huma.Context, op *huma.Operation) (context.Context, error) {
	c := ctx.Context()
	subject := tenants.Subject{Kind: tenants.SubjectAnonymous, Name: "anonymous"}
	if ctx.Header("Authorization") != "" || ctx.Header("X-Session-Token") != "" || strings.Contains(ctx.Header("Cookie"), sessionCookie) {
		var err error
		if subject, err = a.subject(c, ctx); err != nil {
			return nil, err
		}
	}
	tenant, err := a.tenant(c, ctx.Param("tenant"))
	if err != nil {
		return nil, err
	}
	if tenant.Status != tenants.StatusActive {
		return nil, problem.Forbidden("该租户已停用 (this tenant is suspended)")
	}
	if module, _ := op.Metadata[modules.MetaModule].(string); module != "" {
		on, err := a.moduleEnabled(c, tenant, tenants.System(), module)
		if err != nil {
			return nil, err
		}
		if !on {
			return nil, problem.NotFound(fmt.Sprintf("该租户未启用模块 %s (module not enabled for this tenant)", module))
		}
	}
	if info := requestInfoFrom(c); info != nil {
		info.subject = subject.String()
	}
	return tenants.WithTenant(tenants.WithSubject(c, subject), tenant), nil
}

// decide asks the policy, remembering the answer briefly: a key's scopes
// never change, so the same key, action and tenant policy version get the
// same decision.
func (a *access) decide(ctx context.Context, t tenants.Tenant, subject tenants.Subject, actor *staffActor, action string) (policy.Decision, error) {
	tp, err := a.tenantPolicy(ctx, t, subject)
	if err != nil {
		return policy.Decision{}, err
	}
	ck := decisionKey{tenant: t.ID, subject: subject.ID, action: action, version: tp.version}
	if d, ok := a.decisions.get(ck); ok {
		return d, nil
	}
	d, err := tp.engine.Decide(ctx, policyInput(subject, actor, action, nil))
	if err != nil {
		return policy.Decision{}, err
	}
	a.decisions.put(ck, d)
	return d, nil
}

func policyInput(subject tenants.Subject, actor *staffActor, action string, grant []string) policy.Input {
	in := policy.Input{Subject: policy.Subject{Kind: string(subject.Kind), ID: subject.ID.String(), Scopes: subject.Scopes}, Action: action, Grant: grant}
	if actor != nil {
		in.Subject.Member, in.Subject.Sponsor = actor.member, actor.sponsor
	}
	return in
}

// checkGrant refuses a request that would grant permissions its caller does
// not hold (a role's permissions, a key's scopes, a member's roles).
func (a *access) checkGrant(ctx context.Context, action string, grant []string) error {
	if len(grant) == 0 {
		return nil
	}
	t, subject := requestParties(ctx)
	tp, err := a.tenantPolicy(ctx, t, subject)
	if err != nil {
		return err
	}
	d, err := tp.engine.Decide(ctx, policyInput(subject, staffActorFrom(ctx), action, grant))
	if err != nil {
		return err
	}
	if !d.Allow {
		a.recordDenial(ctx, t, subject, action, d.Reasons)
		return problem.Forbidden(strings.Join(d.Reasons, "; "))
	}
	return nil
}

// recordDenial writes a refused request to the tenant's audit trail. It is
// best effort: the refusal stands whether or not the record could be made.
//
// The same refusal of the same subject is written once a minute at most: a
// client retrying a forbidden call must not queue every write of the tenant
// behind its audit chain.
func (a *access) recordDenial(ctx context.Context, t tenants.Tenant, subject tenants.Subject, action string, reasons []string) {
	k := denialKey{tenant: t.ID, subject: subject.String(), action: action, reasons: strings.Join(reasons, "\n")}
	if _, seen := a.denials.get(k); seen {
		return
	}
	a.denials.put(k, struct{}{})
	err := a.db.Tx(ctx, t.ID, subject.String(), func(tx *tenants.Tx) error {
		return tenants.Audit(ctx, tx, "access.denied", action, map[string]any{"reasons": reasons})
	})
	if err != nil {
		if info := requestInfoFrom(ctx); info != nil && info.err == nil {
			info.err = fmt.Errorf("audit denial: %w", err)
		}
	}
}

type decisionKey struct {
	tenant  uuid.UUID
	subject uuid.UUID
	action  string
	version int
}

// tenantPolicy is the engine a tenant's requests are decided by: the base
// policy, or the base with the tenant's active rego.
type tenantPolicy struct {
	version int
	engine  *policy.Engine
}

type engineKey struct {
	tenant  uuid.UUID
	version int
}

func (a *access) tenantPolicy(ctx context.Context, t tenants.Tenant, s tenants.Subject) (tenantPolicy, error) {
	if tp, ok := a.activePolicies.get(t.ID); ok {
		return tp, nil
	}
	r, err := a.db.Reader(t.ID, s.String())
	if err != nil {
		return tenantPolicy{}, err
	}
	v, ok, err := tenants.ActivePolicy(ctx, r)
	if err != nil {
		return tenantPolicy{}, err
	}
	tp := tenantPolicy{engine: a.policy}
	if ok {
		ek := engineKey{tenant: t.ID, version: v.Version}
		a.mu.Lock()
		e := a.engines[ek]
		a.mu.Unlock()
		if e == nil {
			// Versions never change once saved, so a compiled one is kept.
			if e, err = a.policy.WithTenant(ctx, t.Slug, v.Source); err != nil {
				return tenantPolicy{}, fmt.Errorf("api: tenant %s policy v%d: %w", t.Slug, v.Version, err)
			}
			a.mu.Lock()
			a.engines[ek] = e
			a.mu.Unlock()
		}
		tp = tenantPolicy{version: v.Version, engine: e}
	}
	a.activePolicies.put(t.ID, tp)
	return tp, nil
}

func withDecision(ctx context.Context, d policy.Decision) context.Context {
	return modules.WithDecision(ctx, d)
}

// decisionFrom returns the policy decision of the request's operation; list
// operations take their data scope from it.
func decisionFrom(ctx context.Context) policy.Decision { return modules.DecisionFrom(ctx) }

func unknownTenant(slug string) error {
	return problem.NotFound(fmt.Sprintf("租户 %q 不存在 (no such tenant)", slug))
}

// sessionCookie is the name of Kratos's session cookie: session.cookie.name
// in infra/kratos/kratos.yml (Kratos's own default is ory_kratos_session).
const sessionCookie = "yamen_session"

// subject is who calls: an API key (Authorization: Bearer) or a person with
// a Kratos session (X-Session-Token, or the session cookie).
func (a *access) subject(ctx context.Context, h huma.Context) (tenants.Subject, error) {
	authorization := h.Header("Authorization")
	if authorization == "" {
		token, cookie := h.Header("X-Session-Token"), h.Header("Cookie")
		if a.sessions != nil && (token != "" || strings.Contains(cookie, sessionCookie)) {
			return a.person(ctx, token, cookie)
		}
		return tenants.Subject{}, problem.New(http.StatusUnauthorized, "请先登录或提供接口密钥 (sign in or present an API key)")
	}
	return a.keySubject(ctx, authorization)
}

// person resolves a session to a subject: staff are members of some
// tenant, citizens and intermediaries belong to the whole jurisdiction.
func (a *access) person(ctx context.Context, token, cookie string) (tenants.Subject, error) {
	id, err := a.sessions.Resolve(ctx, token, cookie)
	if err != nil {
		return tenants.Subject{}, err
	}
	s := tenants.Subject{IdentityID: id.ID, Session: id.Session}
	switch id.Schema {
	case "staff":
		s.Kind = tenants.SubjectMember
	case "intermediary":
		s.Kind, s.ID = tenants.SubjectIntermediary, id.ID
	default:
		s.Kind, s.ID = tenants.SubjectCitizen, id.ID
	}
	if name, ok := id.Traits["name"].(string); ok {
		s.Name = name
	}
	if s.Kind != tenants.SubjectMember {
		s.Phone, _ = id.Traits["phone"].(string)
		s.RealNameLevel = id.RealNameLevel
	}
	return s, nil
}

// staffActor is a signed-in member as the cache keeps it: with the member
// and sponsor as the policy sees them, whose input terms are then built once
// per session rather than once per decision.
type staffActor struct {
	tenants.Actor
	member, sponsor *policy.Member
}

func newStaffActor(act tenants.Actor) *staffActor {
	sa := &staffActor{Actor: act, member: policyMember(act)}
	if act.Sponsor != nil {
		sa.sponsor = policyMember(*act.Sponsor)
	}
	return sa
}

// actor finds the member a signed-in staff identity is in tenant t.
func (a *access) actor(ctx context.Context, t tenants.Tenant, s tenants.Subject) (*staffActor, error) {
	k := actorKey{tenant: t.ID, identity: s.IdentityID}
	if act, ok := a.actors.get(k); ok {
		return act, nil
	}
	r, err := a.db.Reader(t.ID, s.String())
	if err != nil {
		return nil, err
	}
	act, err := tenants.ActorByIdentity(ctx, r, s.IdentityID)
	if err != nil {
		return nil, err
	}
	sa := newStaffActor(act)
	a.actors.put(k, sa)
	return sa, nil
}

// recordSignIn writes a session's first use in a tenant to its audit trail:
// for the tenant, that is when the person signed in. Each process records a
// session once; a session that reaches several processes is recorded by
// each, which an auditor reads as one sign-in by its session id.
func (a *access) recordSignIn(ctx context.Context, t tenants.Tenant, s tenants.Subject, act tenants.Actor) {
	if s.Session == "" {
		return
	}
	k := signInKey{tenant: t.ID, session: s.Session}
	if _, seen := a.signIns.get(k); seen {
		return
	}
	a.signIns.put(k, struct{}{})
	subject := s
	subject.ID = act.Member.ID
	err := a.db.Tx(ctx, t.ID, subject.String(), func(tx *tenants.Tx) error {
		return tenants.Audit(ctx, tx, "session.signin", s.Session, map[string]any{"identity_id": s.IdentityID, "member_id": act.Member.ID})
	})
	if err != nil {
		if info := requestInfoFrom(ctx); info != nil && info.err == nil {
			info.err = fmt.Errorf("audit sign-in: %w", err)
		}
	}
}

type denialKey struct {
	tenant                   uuid.UUID
	subject, action, reasons string
}

type signInKey struct {
	tenant  uuid.UUID
	session string
}

type actorCtxKey struct{}

func withActor(ctx context.Context, act *staffActor) context.Context {
	return context.WithValue(ctx, actorCtxKey{}, act)
}

// staffActorFrom returns the member a staff request acts as, or nil.
func staffActorFrom(ctx context.Context) *staffActor {
	act, _ := ctx.Value(actorCtxKey{}).(*staffActor)
	return act
}

// actorFrom returns the member a staff request acts as, or nil.
func actorFrom(ctx context.Context) *tenants.Actor {
	if act := staffActorFrom(ctx); act != nil {
		return &act.Actor
	}
	return nil
}

func policyMember(act tenants.Actor) *policy.Member {
	m := &policy.Member{ID: act.Member.ID.String(), Org: policy.Org{ID: act.Member.OrgID.String(), Kind: act.OrgKind, Depth: act.OrgDepth}}
	for _, r := range act.Roles {
		orgs := make([]string, len(r.ScopeOrgIDs))
		for i, o := range r.ScopeOrgIDs {
			orgs[i] = o.String()
		}
		m.Roles = append(m.Roles, policy.Role{Name: r.Name, Permissions: r.Permissions, DataScope: r.DataScope, ScopeOrgIDs: orgs})
	}
	return m
}

func (a *access) keySubject(ctx context.Context, authorization string) (tenants.Subject, error) {
	scheme, key, ok := strings.Cut(authorization, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return tenants.Subject{}, problem.New(http.StatusUnauthorized, "Authorization 须为 Bearer 密钥 (Authorization must be a Bearer key)")
	}
	key = strings.TrimSpace(key)
	if s, ok := a.keys.get(key); ok {
		return s, nil
	}
	s, err := a.db.Authenticate(ctx, key)
	if errors.Is(err, tenants.ErrBadKey) {
		return tenants.Subject{}, problem.New(http.StatusUnauthorized, "密钥无效、已过期或已吊销 (the key is invalid, expired or revoked)")
	}
	if err != nil {
		return tenants.Subject{}, err
	}
	a.keys.put(key, s)
	return s, nil
}

func (a *access) tenant(ctx context.Context, slug string) (tenants.Tenant, error) {
	if t, ok := a.slugs.get(slug); ok {
		return t, nil
	}
	if tenants.CheckSlug(slug) != "" {
		return tenants.Tenant{}, unknownTenant(slug)
	}
	t, err := a.db.TenantBySlug(ctx, slug)
	if err != nil {
		return tenants.Tenant{}, err
	}
	a.slugs.put(slug, t)
	return t, nil
}

func (a *access) moduleEnabled(ctx context.Context, t tenants.Tenant, s tenants.Subject, module string) (bool, error) {
	on, err := a.moduleSet(ctx, t, s)
	return on[module], err
}

// moduleSet returns which modules the tenant has enabled.
func (a *access) moduleSet(ctx context.Context, t tenants.Tenant, s tenants.Subject) (map[string]bool, error) {
	if on, ok := a.enabled.get(t.ID); ok {
		return on, nil
	}
	r, err := a.db.Reader(t.ID, s.String())
	if err != nil {
		return nil, err
	}
	states, err := tenants.ModuleStates(ctx, r)
	if err != nil {
		return nil, err
	}
	on := map[string]bool{}
	for id, st := range states {
		on[id] = st.Enabled
	}
	a.enabled.put(t.ID, on)
	return on, nil
}

// tenantChanged drops what is cached about a tenant.
func (a *access) tenantChanged(t tenants.Tenant) {
	a.slugs.forget(func(_ string, c tenants.Tenant) bool { return c.ID == t.ID })
	a.enabled.forget(func(id uuid.UUID, _ map[string]bool) bool { return id == t.ID })
	a.activePolicies.forget(func(id uuid.UUID, _ tenantPolicy) bool { return id == t.ID })
	a.actors.forget(func(k actorKey, _ *staffActor) bool { return k.tenant == t.ID })
	a.decisions.forget(func(k decisionKey, _ policy.Decision) bool { return k.tenant == t.ID })
}

// keyRevoked drops a revoked key from the cache.
func (a *access) keyRevoked(id uuid.UUID) {
	a.keys.forget(func(_ string, s tenants.Subject) bool { return s.ID == id })
}
