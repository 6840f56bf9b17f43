// Package tenanttest gives tests a real PostgreSQL, migrated and reached as
// yamen_app exactly like the service, and fresh tenants to work in. Tests
// that only need one transaction roll it back; tests that commit work in a
// tenant of their own, which no other test can see.
package tenanttest

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"yamen/migrations"
	"yamen/tenants"
)

// Regions every test database has: a fictional province and city.
const (
	ProvinceCode = "990000"
	CityCode     = "990100"
	DistrictCode = "990102"
)

var (
	once  sync.Once
	db    *tenants.DB
	dbErr error
)

// DB returns the process-wide pool, connected as yamen_app to the test
// database, which it migrates first. It fails the test when `make test` did
// not set the database up.
func DB(t testing.TB) *tenants.DB {
	t.Helper()
	once.Do(func() {
		admin, app := os.Getenv("YAMEN_DATABASE_ADMIN_URL"), os.Getenv("YAMEN_DATABASE_URL")
		if admin == "" || app == "" {
			dbErr = errNoDatabase
			return
		}
		ctx := context.Background()
		if dbErr = migrations.Migrate(ctx, admin, migrations.Options{AppPassword: os.Getenv("YAMEN_APP_DB_PASSWORD")}); dbErr != nil {
			return
		}
		if db, dbErr = tenants.Open(ctx, app); dbErr != nil {
			return
		}
		// The key the yamen command reads too, so its audit verify checks
		// what tests wrote.
		if db.AuditKey, dbErr = tenants.ParseAuditKey(cmp.Or(os.Getenv("YAMEN_AUDIT_KEY"), tenants.DevAuditKey)); dbErr != nil {
			return
		}
		p, c := ProvinceCode, CityCode
		dbErr = db.UpsertRegions(ctx, []tenants.Region{
			{Code: ProvinceCode, Name: "测试省", Level: 1},
			{Code: CityCode, Name: "测试市", ParentCode: &p, Level: 2},
			{Code: DistrictCode, Name: "测试区", ParentCode: &c, Level: 3},
		})
	})
	require.NoError(t, dbErr)
	return db
}

type noDatabase struct{}

func (noDatabase) Error() string {
	return "YAMEN_DATABASE_ADMIN_URL and YAMEN_DATABASE_URL are not set: run the tests with `make test`, which starts PostgreSQL"
}

var errNoDatabase error = noDatabase{}

// Slug returns a tenant slug no other test uses.
func Slug(prefix string) string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

// Tenant creates a tenant of its own for the calling test.
func Tenant(t testing.TB, kind string, modules ...string) tenants.Tenant {
	t.Helper()
	tn, err := DB(t).CreateTenant(context.Background(), tenants.System(), tenants.NewTenant{
		Slug: Slug("t"), Name: "测试租户 " + t.Name(), Kind: kind, RegionCode: CityCode, Modules: modules,
	})
	require.NoError(t, err)
	return tn
}

// Tx runs fn in a transaction of tenant that is always rolled back, for
// tests that need nothing committed.
func Tx(t testing.TB, tenant tenants.Tenant, fn func(tx *tenants.Tx)) {
	t.Helper()
	errRollback := rollback{}
	err := DB(t).Tx(context.Background(), tenant.ID, tenants.System().String(), func(tx *tenants.Tx) error {
		fn(tx)
		return errRollback
	})
	require.ErrorIs(t, err, errRollback)
}

type rollback struct{}

func (rollback) Error() string { return "tenanttest: rolled back" }
