package tenants_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"yamen/tenants"
	"yamen/tenants/tenanttest"
)

// The start page finds a staff identity's tenants in one query (migration
// 012): every tenant the identity is active staff of, nothing of anyone
// else's, and the index behind it closed to the service's role.
func TestTenantsOfIdentity(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := tenanttest.DB(t)
	a, b := tenanttest.Tenant(t, tenants.KindAffairsHall), tenanttest.Tenant(t, tenants.KindPoliceBureau)
	identity, stranger := uuid.New(), uuid.New()

	linked := func(tn tenants.Tenant) uuid.UUID {
		t.Helper()
		var member uuid.UUID
		require.NoError(t, db.Tx(ctx, tn.ID, "system", func(tx *tenants.Tx) error {
			orgs, err := tenants.ListOrgs(ctx, tx, nil)
			if err != nil {
				return err
			}
			m, err := tenants.CreateMember(ctx, tx, tenants.NewMember{OrgID: orgs[0].ID, Name: "𠀀䶮"})
			if err != nil {
				return err
			}
			member = m.ID
			_, err = tenants.LinkIdentity(ctx, tx, m.ID, &identity)
			return err
		}))
		return member
	}
	slugs := func(id uuid.UUID) []string {
		t.Helper()
		ts, err := db.TenantsOfIdentity(ctx, id)
		require.NoError(t, err)
		var out []string
		for _, tn := range ts {
			out = append(out, tn.Slug)
		}
		return out
	}

	linked(a)
	inB := linked(b)
	require.ElementsMatch(t, []string{a.Slug, b.Slug}, slugs(identity))
	require.Empty(t, slugs(stranger), "another identity is staff of nothing")

	inactive := "inactive"
	require.NoError(t, db.Tx(ctx, b.ID, "system", func(tx *tenants.Tx) error {
		_, err := tenants.UpdateMember(ctx, tx, inB, tenants.MemberUpdate{Status: &inactive})
		return err
	}))
	require.Equal(t, []string{a.Slug}, slugs(identity), "an inactive member's tenant is gone")

	_, err := db.Pool.Exec(ctx, "SELECT * FROM staff_identities")
	var pgErr *pgconn.PgError
	require.True(t, errors.As(err, &pgErr), "reading the index: %v", err)
	require.Equal(t, "42501", pgErr.Code, "the service's role cannot read the cross-tenant index")
}
