package tenants_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"yamen/tenants"
	"yamen/tenants/tenanttest"
)

func TestReader(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := tenanttest.DB(t)
	a := tenanttest.Tenant(t, tenants.KindOther)
	b := tenanttest.Tenant(t, tenants.KindOther)

	t.Run("ReadsItsTenant", func(t *testing.T) {
		t.Parallel()
		r, err := db.Reader(a.ID, "system")
		require.NoError(t, err)
		orgs, err := tenants.ListOrgs(ctx, r, nil)
		require.NoError(t, err)
		require.Len(t, orgs, 1)
		require.Equal(t, a.Name, orgs[0].Name)
		var subject string
		require.NoError(t, r.QueryRow(ctx, "SELECT current_setting('app.subject_id')").Scan(&subject))
		require.Equal(t, "system", subject)
	})
	t.Run("DifferentTenantSeesNothing", func(t *testing.T) {
		t.Parallel()
		rb, err := db.Reader(b.ID, "system")
		require.NoError(t, err)
		orgs, err := tenants.ListOrgs(ctx, rb, nil)
		require.NoError(t, err)
		require.Len(t, orgs, 1)
		require.Equal(t, b.Name, orgs[0].Name)
		var n int
		require.NoError(t, rb.QueryRow(ctx, "SELECT count(*) FROM orgs WHERE tenant_id = $1", a.ID).Scan(&n))
		require.Zero(t, n)
	})
	t.Run("RefusesWrites", func(t *testing.T) {
		t.Parallel()
		r, err := db.Reader(a.ID, "system")
		require.NoError(t, err)
		_, err = r.Query(ctx, "INSERT INTO outbox (tenant_id, task_type) VALUES ($1, 'files:scan') RETURNING id", a.ID)
		var pgErr *pgconn.PgError
		require.ErrorAs(t, err, &pgErr)
		require.Equal(t, "25006", pgErr.Code, "read-only transaction")
	})
	t.Run("LeavesNothingOnThePooledConnection", func(t *testing.T) {
		t.Parallel()
		r, err := db.Reader(a.ID, "system")
		require.NoError(t, err)
		var got string
		require.NoError(t, r.QueryRow(ctx, "SELECT current_setting('app.tenant_id')").Scan(&got))
		require.Equal(t, a.ID.String(), got)
		for range 5 {
			var tenant *string
			var ro string
			require.NoError(t, db.Pool.QueryRow(ctx, "SELECT nullif(current_setting('app.tenant_id', true), ''), current_setting('transaction_read_only')").Scan(&tenant, &ro))
			require.Nil(t, tenant)
			require.Equal(t, "off", ro)
		}
	})
	t.Run("RefusesNoTenantOrSubject", func(t *testing.T) {
		t.Parallel()
		_, err := db.Reader(uuid.Nil, "system")
		require.Error(t, err)
		_, err = db.Reader(a.ID, "")
		require.Error(t, err)
	})
	t.Run("NoRowIsErrNoRows", func(t *testing.T) {
		t.Parallel()
		r, err := db.Reader(a.ID, "system")
		require.NoError(t, err)
		_, err = tenants.GetOrg(ctx, r, uuid.New())
		requireProblem(t, err, 404, "")
	})
}
