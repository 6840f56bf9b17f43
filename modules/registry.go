package modules

import (
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"yamen/policy"
)

// TenantKinds are the kinds of agency a tenant can be.
var TenantKinds = []string{"police_bureau", "affairs_hall", "credit_center", "other"}

// Registry is the checked list of modules a Yamen build offers.
type Registry struct {
	mods    []Module
	byID    map[string]*entry
	schemas huma.Registry
}

type entry struct {
	mod      Module
	info     Info
	settings *huma.Schema // nil when the module has no settings
	defaults map[string]any
}

// NewRegistry checks the modules' declarations and returns their registry.
// It fails on duplicate or malformed ids, needs that name no module or form a
// cycle, permissions outside the module's namespace, unknown tenant kinds and
// settings that are not a struct.
func NewRegistry(mods ...Module) (*Registry, error) {
	r := &Registry{
		byID:    make(map[string]*entry, len(mods)),
		schemas: huma.NewMapRegistry("#/components/schemas/", SchemaNamer("")),
	}
	var errs []error
	for _, m := range mods {
		info := m.Module()
		if !idPattern.MatchString(info.ID) {
			errs = append(errs, fmt.Errorf("module id %q: want %s", info.ID, idPattern))
			continue
		}
		if _, dup := r.byID[info.ID]; dup {
			errs = append(errs, fmt.Errorf("module %s: registered twice", info.ID))
			continue
		}
		if info.Title.ZH == "" || info.Title.EN == "" {
			errs = append(errs, fmt.Errorf("module %s: needs a zh-CN and an en title", info.ID))
		}
		for _, k := range info.Bundles {
			if k != EveryKind && !slices.Contains(TenantKinds, k) {
				errs = append(errs, fmt.Errorf("module %s: unknown tenant kind %q in bundles", info.ID, k))
			}
		}
		for _, p := range info.Permissions {
			if !permissionPattern.MatchString(p.Name) || !strings.HasPrefix(p.Name, info.ID+":") {
				errs = append(errs, fmt.Errorf("module %s: permission %q must be named %s:<verb>", info.ID, p.Name, info.ID))
			}
			if p.Title.ZH == "" {
				errs = append(errs, fmt.Errorf("module %s: permission %s needs a zh-CN title", info.ID, p.Name))
			}
		}
		if p, ok := m.(PolicyProvider); ok {
			if pkg := "package yamen.modules." + info.ID; !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(pkg) + `\s*$`).MatchString(p.Policy()) {
				errs = append(errs, fmt.Errorf("module %s: its policy must be rego in %s", info.ID, pkg))
			}
		}
		e := &entry{mod: m, info: info}
		if info.Settings != nil {
			t := reflect.TypeOf(info.Settings)
			if t.Kind() != reflect.Struct {
				errs = append(errs, fmt.Errorf("module %s: settings must be a struct, not %s", info.ID, t))
			} else {
				e.settings = r.schemas.Schema(t, false, info.ID+"Settings")
				e.defaults = defaultsOf(r.schemas, e.settings)
			}
		}
		r.byID[info.ID] = e
		r.mods = append(r.mods, m)
	}
	for _, e := range r.byID {
		for _, n := range e.info.Needs {
			if _, ok := r.byID[n]; !ok {
				errs = append(errs, fmt.Errorf("module %s needs unknown module %q", e.info.ID, n))
			}
		}
	}
	if len(errs) == 0 {
		for id := range r.byID {
			if cycle := r.cycleFrom(id, nil); cycle != nil {
				errs = append(errs, fmt.Errorf("modules need each other in a cycle: %v", cycle))
				break
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("module registry: %w", err)
	}
	return r, nil
}

func (r *Registry) cycleFrom(id string, stack []string) []string {
	if i := slices.Index(stack, id); i >= 0 {
		return append(stack[i:], id)
	}
	stack = append(stack, id)
	for _, n := range r.byID[id].info.Needs {
		if c := r.cycleFrom(n, stack); c != nil {
			return c
		}
	}
	return nil
}

// Policies returns the rego every PolicyProvider module adds, for
// policy.New.
func (r *Registry) Policies() []policy.Module {
	var out []policy.Module
	for _, m := range r.mods {
		if p, ok := m.(PolicyProvider); ok {
			out = append(out, policy.Module{Name: "modules/" + m.Module().ID + ".rego", Source: p.Policy()})
		}
	}
	return out
}

// All returns the modules in registration order.
func (r *Registry) All() []Module { return slices.Clone(r.mods) }

// Info returns a module's declaration.
func (r *Registry) Info(id string) (Info, bool) {
	e, ok := r.byID[id]
	if !ok {
		return Info{}, false
	}
	return e.info, true
}

// Bundle returns the ids of the modules a tenant of this kind is entitled to
// by default, in registration order.
func (r *Registry) Bundle(kind string) []string {
	var ids []string
	for _, m := range r.mods {
		info := r.byID[m.Module().ID].info
		if slices.Contains(info.Bundles, EveryKind) || slices.Contains(info.Bundles, kind) {
			ids = append(ids, info.ID)
		}
	}
	return ids
}

// Dependents returns the modules that need id directly.
func (r *Registry) Dependents(id string) []string {
	var ids []string
	for _, m := range r.mods {
		info := r.byID[m.Module().ID].info
		if slices.Contains(info.Needs, id) {
			ids = append(ids, info.ID)
		}
	}
	return ids
}

// Permissions returns every permission the modules declare.
func (r *Registry) Permissions() []Permission {
	var ps []Permission
	for _, m := range r.mods {
		ps = append(ps, r.byID[m.Module().ID].info.Permissions...)
	}
	return ps
}

// SettingsSchema returns the JSON schema of a module's settings, with every
// reference resolved, or nil when it has none.
func (r *Registry) SettingsSchema(id string) *huma.Schema {
	e, ok := r.byID[id]
	if !ok || e.settings == nil {
		return nil
	}
	return resolve(r.schemas, e.settings)
}

// ValidateSettings checks raw JSON against a module's settings schema and
// returns it with defaults filled in for the fields it leaves out. Each
// problem is a *huma.ErrorDetail whose location starts at "body".
func (r *Registry) ValidateSettings(id string, raw []byte) (map[string]any, []error) {
	e, ok := r.byID[id]
	if !ok {
		return nil, []error{&huma.ErrorDetail{Location: "path.module", Message: "unknown module", Value: id}}
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, []error{&huma.ErrorDetail{Location: "body", Message: "invalid JSON: " + err.Error()}}
	}
	obj, isObj := v.(map[string]any)
	if !isObj {
		return nil, []error{&huma.ErrorDetail{Location: "body", Message: "expected a JSON object", Value: v}}
	}
	if e.settings == nil {
		if len(obj) > 0 {
			return nil, []error{&huma.ErrorDetail{Location: "body", Message: "this module has no settings"}}
		}
		return map[string]any{}, nil
	}
	res := &huma.ValidateResult{}
	huma.Validate(r.schemas, e.settings, huma.NewPathBuffer([]byte("body"), 4), huma.ModeWriteToServer, obj, res)
	if len(res.Errors) > 0 {
		return nil, res.Errors
	}
	return r.WithDefaults(id, obj), nil
}

// WithDefaults returns stored settings with the defaults of fields they leave
// out, so settings saved before a field existed still read whole.
func (r *Registry) WithDefaults(id string, stored map[string]any) map[string]any {
	out := map[string]any{}
	if e, ok := r.byID[id]; ok {
		for k, v := range e.defaults {
			out[k] = v
		}
	}
	for k, v := range stored {
		out[k] = v
	}
	return out
}

func defaultsOf(reg huma.Registry, s *huma.Schema) map[string]any {
	s = deref(reg, s)
	d := map[string]any{}
	for name, p := range s.Properties {
		p = deref(reg, p)
		if p.Default != nil {
			d[name] = p.Default
		}
	}
	// Defaults arrive as Go values (int, []string); make them read like the
	// JSON they stand in for, as stored settings do.
	raw, err := json.Marshal(d)
	if err != nil {
		return d
	}
	var normal map[string]any
	if json.Unmarshal(raw, &normal) != nil {
		return d
	}
	return normal
}

func deref(reg huma.Registry, s *huma.Schema) *huma.Schema {
	for s != nil && s.Ref != "" {
		s = reg.SchemaFromRef(s.Ref)
	}
	return s
}

// resolve returns a copy of s with its top-level properties dereferenced, so
// a client can render a form from it alone.
func resolve(reg huma.Registry, s *huma.Schema) *huma.Schema {
	s = deref(reg, s)
	c := *s
	c.Properties = make(map[string]*huma.Schema, len(s.Properties))
	for k, p := range s.Properties {
		c.Properties[k] = deref(reg, p)
	}
	return &c
}

// SchemaNamer returns a huma schema namer that prefixes each type's name
// with its package, except for the package home: every module can call its
// settings type Settings, or a response Problem, without a clash.
func SchemaNamer(home string) func(t reflect.Type, hint string) string {
	return func(t reflect.Type, hint string) string {
		name := huma.DefaultSchemaNamer(t, hint)
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		pkg := path.Base(t.PkgPath())
		if t.PkgPath() == "" || pkg == home {
			return name
		}
		return strings.ToUpper(pkg[:1]) + pkg[1:] + name
	}
}
