// Package policy is may: the embedded OPA engine that decides, once per
// request, whether a subject may perform an action, which rows it sees (the
// data scope) and which fields are masked. The data scope becomes SQL only
// through Scope.
package policy

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sync/atomic"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/metrics"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/topdown"
)

//go:embed rego/*.rego
var baseRego embed.FS

// Engine holds the prepared decision query.
type Engine struct {
	query rego.PreparedEvalQuery
	// modules are the modules' rego, which a tenant's engine keeps.
	modules []Module
}

// Module is extra rego a module contributes (package yamen.modules.<id>).
type Module struct {
	Name   string
	Source string
}

// New compiles the base policy with the modules' rego and prepares the one
// query every request asks.
func New(ctx context.Context, mods ...Module) (*Engine, error) {
	return compile(ctx, mods)
}

func compile(ctx context.Context, mods []Module, extra ...func(*rego.Rego)) (*Engine, error) {
	opts := []func(*rego.Rego){rego.Query("data.yamen.authz.decision")}
	for name, src := range baseSources() {
		opts = append(opts, rego.Module(name, src))
	}
	for _, m := range mods {
		opts = append(opts, rego.Module(m.Name, m.Source))
	}
	pq, err := rego.New(append(opts, extra...)...).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("policy: compile: %w", err)
	}
	return &Engine{query: pq, modules: mods}, nil
}

// baseSources returns the embedded base policy by file name.
func baseSources() map[string]string {
	out := map[string]string{}
	_ = fs.WalkDir(baseRego, "rego", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := baseRego.ReadFile(path)
		if err == nil {
			out[path] = string(src)
		}
		return err
	})
	return out
}

// Role is what a role contributes to a decision.
type Role struct {
	Name        string   `json:"name"`
	Permissions []string `json:"permissions"`
	DataScope   string   `json:"data_scope"`
	ScopeOrgIDs []string `json:"scope_org_ids"`
}

// Org is where a member sits.
type Org struct {
	ID    string `json:"id"`
	Kind  string `json:"kind"`
	Depth int    `json:"depth"`
}

// Member is a staff person as the policy sees them. A Member must not change
// once a decision has been asked about it: its input terms are built on the
// first decision and kept, so a member cached with a session costs nothing
// to describe again.
type Member struct {
	ID    string `json:"id"`
	Org   Org    `json:"org"`
	Roles []Role `json:"roles"`

	terms atomic.Pointer[memberTerms]
}

// memberTerms are a member's input terms: itself, its roles and the index of
// its permissions.
type memberTerms struct {
	member, roles, perms *ast.Term
}

// inputTerms builds the member's terms once; two decisions racing to build
// them both build the same, and either may be kept.
func (m *Member) inputTerms() *memberTerms {
	if t := m.terms.Load(); t != nil {
		return t
	}
	roles, perms := rolesTerm(m.Roles), permissionIndex(m.Roles)
	t := &memberTerms{member: memberTerm(m, roles, perms), roles: roles, perms: perms}
	m.terms.Store(t)
	return t
}

// Subject is who asks.
type Subject struct {
	// Kind is tenant_key, member, citizen, intermediary or system.
	Kind string
	ID   string
	// Scopes are a key's actions.
	Scopes []string
	// Member and Roles describe a member.
	Member *Member
	// Sponsor is the officer an auxiliary (辅警) hangs under.
	Sponsor *Member
}

// Input is one question.
type Input struct {
	Subject Subject
	Action  string
	// Grant lists permissions the request would grant to a role.
	Grant []string
	// ModuleEntitled is set when the action switches a module on.
	ModuleEntitled *bool
	// Fields the response carries that may be masked (personal data).
	Fields []string
}

// Decision is the answer. A refusal carries its reasons, a scope that sees
// nothing and no masks; an allowance carries no reasons.
type Decision struct {
	Allow   bool
	Scope   Scope
	Masks   []string
	Reasons []string
}

// Decide evaluates the prepared query.
//
// The options trim what OPA does around the evaluation: no metrics, the
// result kept as terms rather than converted to Go maps, and cancellation
// tied to ctx by context.AfterFunc rather than a goroutine per call.
func (e *Engine) Decide(ctx context.Context, in Input) (Decision, error) {
	cancel := topdown.NewCancel()
	stop := context.AfterFunc(ctx, cancel.Cancel)
	defer stop()
	rs, err := e.query.Eval(ctx, rego.EvalParsedInput(in.ast()),
		rego.EvalMetrics(metrics.NoOp()), rego.EvalExternalCancel(cancel), rego.EvalGenerateJSON(keepTerm))
	if err != nil {
		return Decision{}, fmt.Errorf("policy: evaluate %s: %w", in.Action, err)
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return Decision{}, errors.New("policy: the decision is undefined")
	}
	out, ok := rs[0].Expressions[0].Value.(*ast.Term)
	if !ok {
		return Decision{}, fmt.Errorf("policy: unexpected decision %T", rs[0].Expressions[0].Value)
	}
	return decode(out.Value)
}

// keepTerm hands the result back as OPA's term: decode reads the few fields
// it needs without building Go maps first.
func keepTerm(t *ast.Term, _ *rego.EvalContext) (any, error) { return t, nil }

// Keys of the input, built once: a term for each key is allocated per
// decision otherwise. OPA does not modify input terms.
var (
	keyKind, keyID, keyScopes, keyMember    = ast.StringTerm("kind"), ast.StringTerm("id"), ast.StringTerm("scopes"), ast.StringTerm("member")
	keyRoles, keySponsor, keyResource       = ast.StringTerm("roles"), ast.StringTerm("sponsor"), ast.StringTerm("resource")
	keyGrant, keyModule, keyEntitled        = ast.StringTerm("grant"), ast.StringTerm("module"), ast.StringTerm("entitled")
	keySubject, keyAction, keyFields        = ast.StringTerm("subject"), ast.StringTerm("action"), ast.StringTerm("fields")
	keyOrg, keyDepth, keyName, keyPerms     = ast.StringTerm("org"), ast.StringTerm("depth"), ast.StringTerm("name"), ast.StringTerm("permissions")
	keyDataScope, keyScopeOrgs              = ast.StringTerm("data_scope"), ast.StringTerm("scope_org_ids")
	keyAllow, keyScope, keyMasks, keyReason = ast.StringTerm("allow"), ast.StringTerm("scope"), ast.StringTerm("masks"), ast.StringTerm("reasons")
	keyKinds, keyHolder, keyCustom          = ast.StringTerm("kinds"), ast.StringTerm("holder"), ast.StringTerm("custom")
)

// ast builds the input as OPA terms directly: converting a map by
// reflection costs more than the evaluation itself.
func (in Input) ast() ast.Value {
	subject := [][2]*ast.Term{
		{keyKind, str(in.Subject.Kind)},
		{keyID, ast.StringTerm(in.Subject.ID)},
		{keyScopes, stringArray(in.Subject.Scopes)},
	}
	if m := in.Subject.Member; m != nil {
		t := m.inputTerms()
		subject = append(subject, [2]*ast.Term{keyMember, t.member},
			[2]*ast.Term{keyRoles, t.roles}, [2]*ast.Term{keyPerms, t.perms})
	} else {
		subject = append(subject, [2]*ast.Term{keyRoles, ast.InternedEmptyArray},
			[2]*ast.Term{keyPerms, scopeIndex(in.Subject.Scopes)})
	}
	if s := in.Subject.Sponsor; s != nil {
		subject = append(subject, [2]*ast.Term{keySponsor, s.inputTerms().member})
	}
	resource := [][2]*ast.Term{{keyGrant, stringArray(in.Grant)}}
	if in.ModuleEntitled != nil {
		resource = append(resource, [2]*ast.Term{keyModule,
			ast.ObjectTerm([2]*ast.Term{keyEntitled, ast.InternedTerm(*in.ModuleEntitled)})})
	}
	return ast.NewObject(
		[2]*ast.Term{keySubject, ast.ObjectTerm(subject...)},
		[2]*ast.Term{keyAction, ast.StringTerm(in.Action)},
		[2]*ast.Term{keyResource, ast.ObjectTerm(resource...)},
		[2]*ast.Term{keyFields, stringArray(in.Fields)},
	)
}

func memberTerm(m *Member, roles, perms *ast.Term) *ast.Term {
	return ast.ObjectTerm(
		[2]*ast.Term{keyID, ast.StringTerm(m.ID)},
		[2]*ast.Term{keyOrg, ast.ObjectTerm(
			[2]*ast.Term{keyID, ast.StringTerm(m.Org.ID)},
			[2]*ast.Term{keyKind, str(m.Org.Kind)},
			[2]*ast.Term{keyDepth, ast.InternedTerm(m.Org.Depth)},
		)},
		[2]*ast.Term{keyRoles, roles},
		[2]*ast.Term{keyPerms, perms},
	)
}

// permissionIndex maps each permission the roles hold to the indices of the
// roles holding it, so the policy looks the action's grants up instead of
// walking every permission of every role.
func permissionIndex(rs []Role) *ast.Term {
	idx := map[string][]*ast.Term{}
	var order []string
	for i, r := range rs {
		for _, p := range r.Permissions {
			if _, ok := idx[p]; !ok {
				order = append(order, p)
			}
			idx[p] = append(idx[p], ast.InternedTerm(i))
		}
	}
	pairs := make([][2]*ast.Term, len(order))
	for i, p := range order {
		pairs[i] = [2]*ast.Term{ast.StringTerm(p), ast.ArrayTerm(idx[p]...)}
	}
	return ast.ObjectTerm(pairs...)
}

// scopeIndex is a key's permissions in the same shape: its scopes, held by
// no role.
func scopeIndex(scopes []string) *ast.Term {
	pairs := make([][2]*ast.Term, len(scopes))
	for i, s := range scopes {
		pairs[i] = [2]*ast.Term{ast.StringTerm(s), ast.InternedEmptyArray}
	}
	return ast.ObjectTerm(pairs...)
}

func rolesTerm(rs []Role) *ast.Term {
	terms := make([]*ast.Term, len(rs))
	for i, r := range rs {
		terms[i] = ast.ObjectTerm(
			[2]*ast.Term{keyName, str(r.Name)},
			[2]*ast.Term{keyPerms, stringArray(r.Permissions)},
			[2]*ast.Term{keyDataScope, str(r.DataScope)},
			[2]*ast.Term{keyScopeOrgs, stringArray(r.ScopeOrgIDs)},
		)
	}
	return ast.ArrayTerm(terms...)
}

// stringArray builds an array of strings with its element terms in one
// allocation; an empty array is OPA's shared one.
func stringArray(ss []string) *ast.Term {
	if len(ss) == 0 {
		return ast.InternedEmptyArray
	}
	slab := make([]ast.Term, len(ss))
	terms := make([]*ast.Term, len(ss))
	for i, s := range ss {
		slab[i].Value = ast.String(s)
		terms[i] = &slab[i]
	}
	return ast.ArrayTerm(terms...)
}

// known are the strings every decision repeats (subject and org kinds, data
// scopes), built once.
var known = func() map[string]*ast.Term {
	m := map[string]*ast.Term{}
	for _, s := range []string{"member", "tenant_key", "citizen", "intermediary", "system",
		"all", "org_subtree", "org", "self", "custom", "",
		"bureau", "branch", "station", "police_area", "center", "department", "window", "office", "team", "other"} {
		m[s] = ast.StringTerm(s)
	}
	return m
}()

func str(s string) *ast.Term {
	if t, ok := known[s]; ok {
		return t
	}
	return ast.StringTerm(s)
}

func decode(v ast.Value) (Decision, error) {
	out, ok := v.(ast.Object)
	if !ok {
		return Decision{}, fmt.Errorf("policy: unexpected decision %T", v)
	}
	var d Decision
	d.Allow = boolOf(out.Get(keyAllow))
	d.Masks = stringList(out.Get(keyMasks))
	d.Reasons = stringList(out.Get(keyReason))
	s, ok := termValue(out.Get(keyScope)).(ast.Object)
	if !ok {
		return Decision{}, errors.New("policy: decision without a scope")
	}
	d.Scope = scopeOf(s)
	return d, nil
}

// scopeOf reads the policy's scope: the kinds of scope the acting roles
// carry, with the org and holder they apply to and the custom orgs.
func scopeOf(s ast.Object) Scope {
	sc := Scope{decided: true}
	org, _ := termValue(s.Get(keyOrg)).(ast.String)
	for _, kind := range stringList(s.Get(keyKinds)) {
		switch kind {
		case "all":
			sc.all = true
		case "org":
			sc.orgs = append(sc.orgs, string(org))
		case "org_subtree":
			sc.subtrees = append(sc.subtrees, string(org))
		case "self":
			if holder, ok := termValue(s.Get(keyHolder)).(ast.String); ok {
				sc.self = string(holder)
			}
		}
	}
	if sc.all {
		return Scope{decided: true, all: true}
	}
	sc.orgs = append(sc.orgs, stringList(s.Get(keyCustom))...)
	slices.Sort(sc.orgs)
	sc.orgs = slices.Compact(sc.orgs)
	return sc
}

func termValue(t *ast.Term) ast.Value {
	if t == nil {
		return nil
	}
	return t.Value
}

func boolOf(t *ast.Term) bool {
	b, _ := termValue(t).(ast.Boolean)
	return bool(b)
}

// stringList reads an array or a set of strings, skipping anything else.
func stringList(t *ast.Term) []string {
	out := []string{}
	switch l := termValue(t).(type) {
	case *ast.Array:
		l.Foreach(func(x *ast.Term) {
			if s, ok := x.Value.(ast.String); ok {
				out = append(out, string(s))
			}
		})
	case ast.Set:
		l.Sorted().Foreach(func(x *ast.Term) {
			if s, ok := x.Value.(ast.String); ok {
				out = append(out, string(s))
			}
		})
	}
	return out
}
