package modules

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	"github.com/danielgtaylor/huma/v2"
)

// Scope says who an operation is for and how its path is resolved.
type Scope string

const (
	// ScopePublic operations need no subject.
	ScopePublic Scope = "public"
	// ScopePlatform operations are for platform admins, under /v1/platform.
	ScopePlatform Scope = "platform"
	// ScopeTenant operations act inside the tenant named by {tenant}.
	ScopeTenant Scope = "tenant"
	// ScopeSignedIn operations need a subject but no tenant (GET /v1/me).
	ScopeSignedIn Scope = "signed_in"
	// ScopeTenantPublic operations are open to anyone inside the tenant named
	// by {tenant}: the hall's catalogue, free slots, the display board. The
	// tenant must exist and be active and the module enabled; a caller who
	// presents credentials is still resolved, so a signed-in citizen is known.
	ScopeTenantPublic Scope = "tenant_public"
)

// Metadata keys set on every registered operation.
const (
	MetaAction = "yamen.action"
	MetaModule = "yamen.module"
	MetaScope  = "yamen.scope"
	// MetaSensitive marks an operation that reads sensitive records (see
	// Sensitive).
	MetaSensitive = "yamen.sensitive"
)

// Sensitive marks op as reading sensitive records, such as personal
// information (个人信息, PIPL): the API then serves it only to a caller who
// states a purpose, and records the read and the purpose in the tenant's
// audit log before the operation runs. Only tenant operations can be
// sensitive, and their input must embed PurposeParam; Register panics
// otherwise.
func Sensitive(op huma.Operation) huma.Operation {
	return mark(op, MetaSensitive, true, "x-yamen-sensitive", true)
}

// mark sets op's metadata key to v and, for integrators reading the
// document, its extension ext to doc.
func mark(op huma.Operation, key string, v any, ext string, doc any) huma.Operation {
	if op.Metadata == nil {
		op.Metadata = map[string]any{}
	}
	op.Metadata[key] = v
	if op.Extensions == nil {
		op.Extensions = map[string]any{}
	}
	op.Extensions[ext] = doc
	return op
}

// PurposeParam is the stated purpose of a sensitive read, embedded in the
// input of every operation marked Sensitive.
type PurposeParam struct {
	Purpose string `query:"purpose" required:"true" minLength:"1" maxLength:"200" doc:"查阅用途，记入审计日志 (why the records are read; kept in the audit log)"`
}

// Router registers operations. Every operation declares the action the
// policy decides on; one registered without it makes start-up fail.
type Router struct {
	api    huma.API
	prefix string
	module string
	scope  Scope
}

// NewRouter returns a router whose operations live under prefix.
func NewRouter(api huma.API, scope Scope, prefix, module string) *Router {
	return &Router{api: api, prefix: prefix, module: module, scope: scope}
}

// Public returns a router for the module's operations open to anyone, under
// the same /v1/t/{tenant}/<id> prefix (ScopeTenantPublic). Their action is
// "public".
func (r *Router) Public() *Router {
	if r.scope != ScopeTenant {
		panic("modules: Public is for a module's tenant router")
	}
	return &Router{api: r.api, prefix: r.prefix, module: r.module, scope: ScopeTenantPublic}
}

// Me returns a router for the module's operations on the signed-in person's
// own records across the jurisdiction, under /v1/me (GET
// /v1/me/appointments). The handler reads the subject from the context and
// must itself keep to that person's rows.
func (r *Router) Me() *Router {
	return &Router{api: r.api, prefix: "/v1/me", module: r.module, scope: ScopeSignedIn}
}

// Module is the module whose operations this router registers, or "" for
// the platform's own.
func (r *Router) Module() string { return r.module }

// Register adds an operation. action names the permission it needs, such as
// "orgs:write"; public operations use "public".
func Register[I, O any](r *Router, action string, op huma.Operation, handler func(context.Context, *I) (*O, error)) {
	if action == "" {
		panic(fmt.Sprintf("operation %s %s declares no action", op.Method, op.Path))
	}
	if on, _ := op.Metadata[MetaSensitive].(bool); on {
		if r.scope != ScopeTenant {
			panic(fmt.Sprintf("sensitive operation %s %s is not a tenant operation: its reads are audited in a tenant", op.Method, op.Path))
		}
		in := reflect.TypeFor[I]()
		if in.Kind() != reflect.Struct {
			panic(fmt.Sprintf("sensitive operation %s %s has no input struct to embed modules.PurposeParam", op.Method, op.Path))
		}
		if f, ok := in.FieldByName("PurposeParam"); !ok || f.Type != reflect.TypeFor[PurposeParam]() {
			panic(fmt.Sprintf("sensitive operation %s %s does not embed modules.PurposeParam in its input", op.Method, op.Path))
		}
	}
	if msg := declaresRows(r.scope, &op); msg != "" {
		panic(fmt.Sprintf("tenant read %s %s %s", op.Method, r.prefix+op.Path, msg))
	}
	op.Path = r.prefix + op.Path
	if op.Metadata == nil {
		op.Metadata = map[string]any{}
	}
	op.Metadata[MetaAction] = action
	op.Metadata[MetaModule] = r.module
	op.Metadata[MetaScope] = r.scope
	if op.Extensions == nil {
		op.Extensions = map[string]any{}
	}
	// Integrators read in the document which permission an operation needs.
	op.Extensions["x-yamen-action"] = action
	if r.scope != ScopePublic && r.scope != ScopeTenantPublic && op.Security == nil {
		op.Security = []map[string][]string{{"bearer": {}}}
	}
	if len(op.Tags) == 0 {
		op.Tags = []string{tagFor(r)}
	}
	huma.Register(r.api, op, handler)
}

func tagFor(r *Router) string {
	if r.module != "" {
		return r.module
	}
	return strings.TrimPrefix(string(r.scope), "scope")
}

// CheckActions reports every operation in the API's document that was
// registered without declaring its action.
func CheckActions(api huma.API) error {
	var missing []string
	for path, item := range api.OpenAPI().Paths {
		for _, op := range []*huma.Operation{item.Get, item.Put, item.Post, item.Delete, item.Patch, item.Head, item.Options} {
			if op == nil {
				continue
			}
			if a, _ := op.Metadata[MetaAction].(string); a == "" {
				missing = append(missing, op.Method+" "+path)
			}
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("operations without a declared action: %s", strings.Join(missing, ", "))
	}
	return nil
}

// API is the huma API the router registers on, for what Register cannot
// express (streams, raw handlers). Operations added through it must still
// carry MetaAction, or start-up fails.
func (r *Router) API() huma.API { return r.api }
