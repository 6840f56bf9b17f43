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

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

//go:embed rego/*.rego
var baseRego embed.FS

// Engine holds the prepared decision query.
type Engine struct {
	query rego.PreparedEvalQuery
}

// Module is extra rego a module contributes (package yamen.modules.<id>).
type Module struct {
	Name   string
	Source string
}

// New compiles the base policy with the modules' rego and prepares the one
// query every request asks.
func New(ctx context.Context, mods ...Module) (*Engine, error) {
	var opts []func(*rego.Rego)
	for _, m := range mods {
		opts = append(opts, rego.Module(m.Name, m.Source))
	}
	return compile(ctx, opts...)
}

func compile(ctx context.Context, extra ...func(*rego.Rego)) (*Engine, error) {
	opts := []func(*rego.Rego){rego.Query("data.yamen.authz.decision")}
	for name, src := range baseSources() {
		opts = append(opts, rego.Module(name, src))
	}
	pq, err := rego.New(append(opts, extra...)...).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("policy: compile: %w", err)
	}
	return &Engine{query: pq}, nil
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

// Member is a staff person as the policy sees them.
type Member struct {
	ID    string `json:"id"`
	Org   Org    `json:"org"`
	Roles []Role `json:"roles"`
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

// Decision is the answer.
type Decision struct {
	Allow   bool
	Scope   Scope
	Masks   []string
	Reasons []string
}

// Decide evaluates the prepared query.
func (e *Engine) Decide(ctx context.Context, in Input) (Decision, error) {
	rs, err := e.query.Eval(ctx, rego.EvalParsedInput(in.ast()))
	if err != nil {
		return Decision{}, fmt.Errorf("policy: evaluate %s: %w", in.Action, err)
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return Decision{}, errors.New("policy: the decision is undefined")
	}
	out, ok := rs[0].Expressions[0].Value.(map[string]any)
	if !ok {
		return Decision{}, fmt.Errorf("policy: unexpected decision %T", rs[0].Expressions[0].Value)
	}
	return decode(out)
}

// ast builds the input as OPA terms directly: converting a map by
// reflection costs more than the evaluation itself.
func (in Input) ast() ast.Value {
	subject := [][2]*ast.Term{
		{ast.StringTerm("kind"), ast.StringTerm(in.Subject.Kind)},
		{ast.StringTerm("id"), ast.StringTerm(in.Subject.ID)},
		{ast.StringTerm("scopes"), stringArray(in.Subject.Scopes)},
	}
	if m := in.Subject.Member; m != nil {
		subject = append(subject, [2]*ast.Term{ast.StringTerm("member"), memberTerm(m, false)},
			[2]*ast.Term{ast.StringTerm("roles"), rolesTerm(m.Roles)})
	} else {
		subject = append(subject, [2]*ast.Term{ast.StringTerm("roles"), ast.ArrayTerm()})
	}
	if s := in.Subject.Sponsor; s != nil {
		subject = append(subject, [2]*ast.Term{ast.StringTerm("sponsor"), memberTerm(s, true)})
	}
	resource := [][2]*ast.Term{{ast.StringTerm("grant"), stringArray(in.Grant)}}
	if in.ModuleEntitled != nil {
		resource = append(resource, [2]*ast.Term{ast.StringTerm("module"),
			ast.ObjectTerm([2]*ast.Term{ast.StringTerm("entitled"), ast.BooleanTerm(*in.ModuleEntitled)})})
	}
	return ast.NewObject(
		[2]*ast.Term{ast.StringTerm("subject"), ast.ObjectTerm(subject...)},
		[2]*ast.Term{ast.StringTerm("action"), ast.StringTerm(in.Action)},
		[2]*ast.Term{ast.StringTerm("resource"), ast.ObjectTerm(resource...)},
		[2]*ast.Term{ast.StringTerm("fields"), stringArray(in.Fields)},
	)
}

func memberTerm(m *Member, withRoles bool) *ast.Term {
	kv := [][2]*ast.Term{
		{ast.StringTerm("id"), ast.StringTerm(m.ID)},
		{ast.StringTerm("org"), ast.ObjectTerm(
			[2]*ast.Term{ast.StringTerm("id"), ast.StringTerm(m.Org.ID)},
			[2]*ast.Term{ast.StringTerm("kind"), ast.StringTerm(m.Org.Kind)},
			[2]*ast.Term{ast.StringTerm("depth"), ast.IntNumberTerm(m.Org.Depth)},
		)},
	}
	if withRoles {
		kv = append(kv, [2]*ast.Term{ast.StringTerm("roles"), rolesTerm(m.Roles)})
	}
	return ast.ObjectTerm(kv...)
}

func rolesTerm(rs []Role) *ast.Term {
	terms := make([]*ast.Term, len(rs))
	for i, r := range rs {
		terms[i] = ast.ObjectTerm(
			[2]*ast.Term{ast.StringTerm("name"), ast.StringTerm(r.Name)},
			[2]*ast.Term{ast.StringTerm("permissions"), stringArray(r.Permissions)},
			[2]*ast.Term{ast.StringTerm("data_scope"), ast.StringTerm(r.DataScope)},
			[2]*ast.Term{ast.StringTerm("scope_org_ids"), stringArray(r.ScopeOrgIDs)},
		)
	}
	return ast.ArrayTerm(terms...)
}

func stringArray(ss []string) *ast.Term {
	terms := make([]*ast.Term, len(ss))
	for i, s := range ss {
		terms[i] = ast.StringTerm(s)
	}
	return ast.ArrayTerm(terms...)
}

func decode(out map[string]any) (Decision, error) {
	var d Decision
	d.Allow, _ = out["allow"].(bool)
	d.Masks = stringList(out["masks"])
	d.Reasons = stringList(out["reasons"])
	s, ok := out["scope"].(map[string]any)
	if !ok {
		return Decision{}, errors.New("policy: decision without a scope")
	}
	d.Scope.all, _ = s["all"].(bool)
	d.Scope.orgs = stringList(s["orgs"])
	d.Scope.subtrees = stringList(s["subtrees"])
	d.Scope.self, _ = s["self"].(string)
	d.Scope.decided = true
	return d, nil
}

func stringList(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
