package api

import (
	"context"

	"yamen/tenants"
)

// Body is an operation's output that is just a body.
type Body[T any] struct {
	Body T
}

// inTenant runs fn in a transaction of the request's tenant and subject and
// returns its result as the response body.
func inTenant[T any](s *Server, ctx context.Context, fn func(tx *tenants.Tx) (T, error)) (*Body[T], error) {
	t, subject := requestParties(ctx)
	var out T
	err := s.db.Tx(ctx, t.ID, subject.String(), func(tx *tenants.Tx) error {
		var err error
		out, err = fn(tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &Body[T]{out}, nil
}

// inTenantRead runs fn's statements as read-only statements of the request's
// tenant, each in one round trip (tenants.Reader): for operations that read
// once and change nothing.
func inTenantRead[T any](s *Server, ctx context.Context, fn func(q tenants.Querier) (T, error)) (*Body[T], error) {
	t, subject := requestParties(ctx)
	r, err := s.db.Reader(t.ID, subject.String())
	if err != nil {
		return nil, err
	}
	out, err := fn(r)
	if err != nil {
		return nil, err
	}
	return &Body[T]{out}, nil
}

// NoContent is the output of operations that answer 204.
type NoContent struct{}

func noContent(s *Server, ctx context.Context, fn func(tx *tenants.Tx) error) (*NoContent, error) {
	_, err := inTenant(s, ctx, func(tx *tenants.Tx) (struct{}, error) { return struct{}{}, fn(tx) })
	if err != nil {
		return nil, err
	}
	return &NoContent{}, nil
}

// staffChanged passes a member or role write's result through, and on
// success drops what is cached about the tenant's staff: who they are and
// what they may do apply from the next request on.
func staffChanged[T any](s *Server, ctx context.Context, out T, err error) (T, error) {
	if err == nil {
		t, _ := requestParties(ctx)
		s.access.tenantChanged(t)
	}
	return out, err
}

// bodyOf wraps a result as a response body.
func bodyOf[T any](v T, err error) (*Body[T], error) {
	if err != nil {
		return nil, err
	}
	return &Body[T]{v}, nil
}

// unBody unwraps a response body.
func unBody[T any](b *Body[T], err error) (T, error) {
	if err != nil {
		var zero T
		return zero, err
	}
	return b.Body, nil
}
