package portal

import (
	"context"
	"net/http"

	"yamen/modules"
	"yamen/modules/queue"
	"yamen/problem"
	"yamen/tenants"
)

func init() {
	RegisterNav(
		NavItem{Path: "/window", Title: modules.Text{ZH: "窗口叫号", EN: "Window"}, Module: "queue", Action: "queue:call"},
		NavItem{Path: "/board", Title: modules.Text{ZH: "叫号屏", EN: "Display board"}, Module: "queue", Action: "queue:read"},
	)
}

// queueModule is the registry's queue module: issuing and calling tickets
// need its pass key.
func (p *Portal) queueModule() (*queue.Module, error) {
	for _, m := range p.reg.All() {
		if q, ok := m.(*queue.Module); ok {
			return q, nil
		}
	}
	return nil, problem.New(http.StatusServiceUnavailable, "取号叫号模块未安装 (the queue module is not installed)")
}

// inTx runs fn in a transaction of the view's tenant, as the person. It
// outlives the request: a write once begun finishes.
func (v *view) inTx(fn func(ctx context.Context, tx *tenants.Tx) error) error {
	ctx := detach(v.ctx)
	return v.p.db.Tx(ctx, v.tenant.ID, v.subject().String(), func(tx *tenants.Tx) error { return fn(ctx, tx) })
}

// reader reads in the view's tenant as the person.
func (v *view) reader() (tenants.Querier, error) {
	return v.p.db.Reader(v.tenant.ID, v.subject().String())
}

// subject is who the view acts as: the person, or anonymous.
func (v *view) subject() tenants.Subject {
	if v.person != nil {
		return *v.person
	}
	return tenants.Subject{Kind: tenants.SubjectAnonymous, Name: "anonymous"}
}

// public serves a page of module anyone may open in a tenant: the tenant
// must be active and the module enabled.
func (p *Portal) public(module string, h func(v *view) error) http.HandlerFunc {
	return p.page(p.inPublic(module, h))
}

// publicForm is public for a form post.
func (p *Portal) publicForm(module string, h func(v *view) error) http.HandlerFunc {
	return p.form(p.inPublic(module, h))
}

func (p *Portal) inPublic(module string, h func(v *view) error) func(v *view) error {
	return func(v *view) error {
		ctx, err := p.api.Public(v.r.Context(), v.r.PathValue("tenant"), v.subject(), module)
		if err != nil {
			return err
		}
		v.ctx = ctx
		t, _ := tenants.TenantFrom(ctx)
		v.tenant = &t
		return h(v)
	}
}
