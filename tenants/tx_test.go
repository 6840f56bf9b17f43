package tenants_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"yamen/tenants"
	"yamen/tenants/tenanttest"
)

func TestTx(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := tenanttest.DB(t)
	a := tenanttest.Tenant(t, tenants.KindOther, "files")

	t.Run("SetsTenantAndSubjectForTheTransactionOnly", func(t *testing.T) {
		t.Parallel()
		err := db.Tx(ctx, a.ID, "tenant_key:x", func(tx *tenants.Tx) error {
			var tenant, subject string
			require.NoError(t, tx.QueryRow(ctx, "SELECT current_setting('app.tenant_id'), current_setting('app.subject_id')").Scan(&tenant, &subject))
			require.Equal(t, a.ID.String(), tenant)
			require.Equal(t, "tenant_key:x", subject)
			return nil
		})
		require.NoError(t, err)
		// The pooled connection carries nothing over.
		for range 5 {
			var tenant *string
			require.NoError(t, db.Pool.QueryRow(ctx, "SELECT nullif(current_setting('app.tenant_id', true), '')").Scan(&tenant))
			require.Nil(t, tenant)
		}
	})

	t.Run("RollsBackOnError", func(t *testing.T) {
		t.Parallel()
		boom := errors.New("boom")
		err := db.Tx(ctx, a.ID, "system", func(tx *tenants.Tx) error {
			_, err := tenants.CreateOrg(ctx, tx, tenants.NewOrg{Code: "rolled-back", Name: "x", Kind: "other"})
			require.NoError(t, err)
			return boom
		})
		require.ErrorIs(t, err, boom)
		tenanttest.Tx(t, a, func(tx *tenants.Tx) {
			var n int
			require.NoError(t, tx.QueryRow(ctx, "SELECT count(*) FROM orgs WHERE code = 'rolled-back'").Scan(&n))
			require.Zero(t, n)
		})
	})

	t.Run("FailedStatementAbortsCommit", func(t *testing.T) {
		t.Parallel()
		err := db.Tx(ctx, a.ID, "system", func(tx *tenants.Tx) error {
			_, _ = tx.Exec(ctx, "SELECT 1/0")
			return nil
		})
		require.Error(t, err)
	})

	t.Run("RefusesNoTenant", func(t *testing.T) {
		t.Parallel()
		err := db.Tx(ctx, uuid.Nil, "system", func(tx *tenants.Tx) error { return nil })
		require.Error(t, err)
	})

	t.Run("PanicRollsBack", func(t *testing.T) {
		t.Parallel()
		require.Panics(t, func() {
			_ = db.Tx(ctx, a.ID, "system", func(tx *tenants.Tx) error {
				_, err := tx.Exec(ctx, "SELECT 1")
				require.NoError(t, err)
				panic("boom")
			})
		})
	})

	t.Run("BatchAndSavepoint", func(t *testing.T) {
		t.Parallel()
		tenanttest.Tx(t, a, func(tx *tenants.Tx) {
			err := tx.Savepoint(ctx, func() error {
				_, err := tx.Exec(ctx, "SELECT 1/0")
				return err
			})
			require.Error(t, err)
			var n int
			require.NoError(t, tx.QueryRow(ctx, "SELECT count(*) FROM orgs").Scan(&n))
			require.Equal(t, 1, n, "the root org")
		})
	})
}
