package modules

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"yamen/tenants"
)

// TenantPath is the {tenant} path parameter of every tenant operation; a
// module's inputs embed it.
type TenantPath struct {
	Tenant string `path:"tenant" doc:"租户标识 (tenant slug)"`
}

// Body is an operation's output with T as its JSON body.
type Body[T any] struct {
	Body T
}

// NoContent is the output of an operation that answers 204.
type NoContent struct{}

// errNoParties is a wiring mistake, never a caller's: the API puts the
// tenant and subject in the context of every tenant operation.
var errNoParties = errors.New("modules: the context carries no tenant or subject")

// Parties returns the tenant and the subject of the request in ctx.
func Parties(ctx context.Context) (tenants.Tenant, tenants.Subject, error) {
	t, ok := tenants.TenantFrom(ctx)
	s, ok2 := tenants.SubjectFrom(ctx)
	if !ok || !ok2 || t.ID == uuid.Nil {
		return tenants.Tenant{}, tenants.Subject{}, errNoParties
	}
	return t, s, nil
}

// InTx runs fn in a transaction of the request's tenant, on behalf of its
// subject, and answers with what fn returns.
func InTx[T any](ctx context.Context, db *tenants.DB, fn func(tx *tenants.Tx) (T, error)) (*Body[T], error) {
	return InTxAs(ctx, db, func(tx *tenants.Tx, _ tenants.Subject) (T, error) { return fn(tx) })
}

// InTxAs is InTx for work that needs to know who acts.
func InTxAs[T any](ctx context.Context, db *tenants.DB, fn func(tx *tenants.Tx, s tenants.Subject) (T, error)) (*Body[T], error) {
	tn, subject, err := Parties(ctx)
	if err != nil {
		return nil, err
	}
	var out T
	err = db.Tx(ctx, tn.ID, subject.String(), func(tx *tenants.Tx) error {
		out, err = fn(tx, subject)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &Body[T]{Body: out}, nil
}

// Read runs fn with a read-only view of the request's tenant (one round
// trip a statement) and answers with what fn returns.
func Read[T any](ctx context.Context, db *tenants.DB, fn func(q tenants.Querier) (T, error)) (*Body[T], error) {
	tn, subject, err := Parties(ctx)
	if err != nil {
		return nil, err
	}
	r, err := db.Reader(tn.ID, subject.String())
	if err != nil {
		return nil, err
	}
	out, err := fn(r)
	if err != nil {
		return nil, err
	}
	return &Body[T]{Body: out}, nil
}

// Change runs fn in a transaction of the request's tenant and answers 204.
func Change(ctx context.Context, db *tenants.DB, fn func(tx *tenants.Tx) error) (*NoContent, error) {
	if _, err := InTx(ctx, db, func(tx *tenants.Tx) (struct{}, error) { return struct{}{}, fn(tx) }); err != nil {
		return nil, err
	}
	return &NoContent{}, nil
}
