package tenants_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"yamen/problem"
	"yamen/tenants"
	"yamen/tenants/tenanttest"
)

// bundle is what most tests start from: a tenant of their own.
type bundle struct {
	ctx    context.Context
	db     *tenants.DB
	tenant tenants.Tenant
}

func setup(t *testing.T) *bundle {
	t.Helper()
	return &bundle{ctx: context.Background(), db: tenanttest.DB(t), tenant: tenanttest.Tenant(t, tenants.KindPoliceBureau)}
}

// tx runs fn in a transaction of the bundle's tenant that is rolled back.
func (b *bundle) tx(t *testing.T, fn func(tx *tenants.Tx)) {
	t.Helper()
	tenanttest.Tx(t, b.tenant, fn)
}

// commit runs fn in a transaction of the bundle's tenant that commits.
func (b *bundle) commit(t *testing.T, fn func(tx *tenants.Tx)) {
	t.Helper()
	require.NoError(t, b.db.Tx(b.ctx, b.tenant.ID, tenants.System().String(), func(tx *tenants.Tx) error {
		fn(tx)
		return nil
	}))
}

// requireProblem asserts err is a problem.Error with status, naming the
// field location when location is not "".
func requireProblem(t *testing.T, err error, status int, location string) *problem.Error {
	t.Helper()
	require.Error(t, err)
	p, ok := problem.As(err)
	require.True(t, ok, "not a problem: %v", err)
	require.Equal(t, status, p.Status, "%v", err)
	if location != "" {
		var locs []string
		for _, f := range p.Fields {
			locs = append(locs, f.Location)
		}
		require.Contains(t, locs, location, "%v", err)
	}
	return p
}
