package tenants_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
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

	t.Run("RefusesNoSubject", func(t *testing.T) {
		t.Parallel()
		ran := false
		err := db.Tx(ctx, a.ID, "", func(tx *tenants.Tx) error { ran = true; return nil })
		require.Error(t, err)
		require.False(t, ran)
	})

	t.Run("NoStatementNoTransaction", func(t *testing.T) {
		t.Parallel()
		require.NoError(t, db.Tx(ctx, a.ID, "system", func(tx *tenants.Tx) error {
			require.Equal(t, a.ID, tx.TenantID())
			require.Equal(t, "system", tx.Subject())
			return nil
		}))
	})

	// The first statement travels in one pipeline with BEGIN and the
	// settings; its failure must surface like any other statement's.
	t.Run("FirstStatementFailures", func(t *testing.T) {
		t.Parallel()
		for name, first := range map[string]func(tx *tenants.Tx) error{
			"Exec": func(tx *tenants.Tx) error { _, err := tx.Exec(ctx, "SELECT 1/0"); return err },
			"QueryRow": func(tx *tenants.Tx) error {
				var n int
				return tx.QueryRow(ctx, "SELECT 1/0").Scan(&n)
			},
			"Query": func(tx *tenants.Tx) error {
				rows, err := tx.Query(ctx, "SELECT 1/0")
				if err != nil {
					return err
				}
				defer rows.Close()
				for rows.Next() {
				}
				return rows.Err()
			},
		} {
			err := db.Tx(ctx, a.ID, "system", func(tx *tenants.Tx) error { return first(tx) })
			var pgErr *pgconn.PgError
			require.ErrorAs(t, err, &pgErr, name)
			require.Equal(t, "22012", pgErr.Code, name)
		}
		// None of it left a connection in a transaction or in the tenant.
		for range 5 {
			var tenant *string
			require.NoError(t, db.Pool.QueryRow(ctx, "SELECT nullif(current_setting('app.tenant_id', true), '')").Scan(&tenant))
			require.Nil(t, tenant)
		}
	})

	t.Run("FirstStatementResults", func(t *testing.T) {
		t.Parallel()
		tenanttest.Tx(t, a, func(tx *tenants.Tx) {
			// A first query read only in part, then more statements.
			rows, err := tx.Query(ctx, "SELECT g FROM generate_series(1, 100) g")
			require.NoError(t, err)
			require.True(t, rows.Next())
			var g int
			require.NoError(t, rows.Scan(&g))
			require.Equal(t, 1, g)
			rows.Close()
			require.NoError(t, rows.Err())

			var tenant string
			require.NoError(t, tx.QueryRow(ctx, "SELECT current_setting('app.tenant_id')").Scan(&tenant))
			require.Equal(t, a.ID.String(), tenant)
		})
		tenanttest.Tx(t, a, func(tx *tenants.Tx) {
			var n int
			require.ErrorIs(t, tx.QueryRow(ctx, "SELECT 1 WHERE false").Scan(&n), pgx.ErrNoRows)
			require.NoError(t, tx.QueryRow(ctx, "SELECT count(*) FROM orgs").Scan(&n))
			require.Equal(t, 1, n, "the settings applied to the pipelined statement")
		})
	})

	t.Run("BatchFirst", func(t *testing.T) {
		t.Parallel()
		tenanttest.Tx(t, a, func(tx *tenants.Tx) {
			b := &pgx.Batch{}
			b.Queue("SELECT current_setting('app.tenant_id')")
			b.Queue("SELECT count(*) FROM orgs")
			br := tx.SendBatch(ctx, b)
			var tenant string
			var n int
			require.NoError(t, br.QueryRow().Scan(&tenant))
			require.NoError(t, br.QueryRow().Scan(&n))
			require.NoError(t, br.Close())
			require.Equal(t, a.ID.String(), tenant)
			require.Equal(t, 1, n)
		})
	})

	t.Run("SavepointFirstCommits", func(t *testing.T) {
		t.Parallel()
		b := tenanttest.Tenant(t, tenants.KindOther)
		var org tenants.Org
		require.NoError(t, db.Tx(ctx, b.ID, "system", func(tx *tenants.Tx) error {
			return tx.Savepoint(ctx, func() error {
				var err error
				org, err = tenants.CreateOrg(ctx, tx, tenants.NewOrg{Code: "kept", Name: "x", Kind: "other"})
				return err
			})
		}))
		tenanttest.Tx(t, b, func(tx *tenants.Tx) {
			got, err := tenants.GetOrg(ctx, tx, org.ID)
			require.NoError(t, err)
			require.Equal(t, "kept", got.Code)
		})
	})
}
