package tenants_test

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"yamen/tenants"
	"yamen/tenants/tenanttest"
)

func TestCreateTenant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := tenanttest.DB(t)

	t.Run("StartsWithRootOrgAdminRoleAndModules", func(t *testing.T) {
		t.Parallel()
		slug := tenanttest.Slug("hall")
		tn, err := db.CreateTenant(ctx, tenants.System(), tenants.NewTenant{
			Slug: slug, Name: "测试市政务服务中心", Kind: tenants.KindAffairsHall, RegionCode: tenanttest.CityCode,
			Modules: []string{"files", "booking", "ratings"},
		})
		require.NoError(t, err)
		require.NotEqual(t, uuid.Nil, tn.ID)
		require.Equal(t, slug, tn.Slug)
		require.Equal(t, "测试市政务服务中心", tn.Name)
		require.Equal(t, tenants.KindAffairsHall, tn.Kind)
		require.Equal(t, tenanttest.CityCode, tn.RegionCode)
		require.Equal(t, tenants.StatusActive, tn.Status)

		bySlug, err := db.TenantBySlug(ctx, slug)
		require.NoError(t, err)
		require.Equal(t, tn, bySlug)
		byID, err := db.TenantByID(ctx, tn.ID)
		require.NoError(t, err)
		require.Equal(t, tn, byID)

		tenanttest.Tx(t, tn, func(tx *tenants.Tx) {
			orgs, err := tenants.ListOrgs(ctx, tx, nil)
			require.NoError(t, err)
			require.Len(t, orgs, 1)
			root := orgs[0]
			require.Equal(t, "root", root.Code)
			require.Equal(t, tn.Name, root.Name)
			require.Equal(t, "center", root.Kind)
			require.Nil(t, root.ParentID)
			require.Equal(t, 1, root.Depth)
			require.Equal(t, &tn.RegionCode, root.RegionCode)

			roles, err := tenants.ListRoles(ctx, tx)
			require.NoError(t, err)
			require.Len(t, roles, 1)
			require.Equal(t, tenants.AdminRoleName, roles[0].Name)
			require.Equal(t, []string{tenants.AllPermissions}, roles[0].Permissions)
			require.Equal(t, tenants.ScopeAll, roles[0].DataScope)

			states, err := tenants.ModuleStates(ctx, tx)
			require.NoError(t, err)
			require.Len(t, states, 3)
			for _, m := range []string{"files", "booking", "ratings"} {
				require.True(t, states[m].Entitled, m)
				require.True(t, states[m].Enabled, m)
				require.Equal(t, tenants.System().String(), states[m].UpdatedBy)
				require.Empty(t, states[m].Settings)
			}

			es, err := tenants.ListAudit(ctx, tx, tenants.AuditFilter{Action: "tenant.create"})
			require.NoError(t, err)
			require.Len(t, es, 1)
			require.Equal(t, slug, es[0].Target)
			require.Equal(t, "system", es[0].Subject)
		})
	})

	t.Run("RootOrgKindFollowsTenantKind", func(t *testing.T) {
		t.Parallel()
		for kind, want := range map[string]string{
			tenants.KindPoliceBureau: "bureau",
			tenants.KindAffairsHall:  "center",
			tenants.KindCreditCenter: "office",
			tenants.KindOther:        "office",
		} {
			tn := tenanttest.Tenant(t, kind)
			tenanttest.Tx(t, tn, func(tx *tenants.Tx) {
				orgs, err := tenants.ListOrgs(ctx, tx, nil)
				require.NoError(t, err)
				require.Equal(t, want, orgs[0].Kind, kind)
			})
		}
	})

	t.Run("Errors", func(t *testing.T) {
		t.Parallel()
		taken := tenanttest.Tenant(t, tenants.KindOther)
		nt := func(slug, region string) tenants.NewTenant {
			return tenants.NewTenant{Slug: slug, Name: "x", Kind: tenants.KindOther, RegionCode: region, Modules: []string{"files"}}
		}

		_, err := db.CreateTenant(ctx, tenants.System(), nt(taken.Slug, tenanttest.CityCode))
		p := requireProblem(t, err, http.StatusConflict, "body.slug")
		require.Equal(t, taken.Slug, p.Fields[0].Value)
		still, err := db.TenantBySlug(ctx, taken.Slug)
		require.NoError(t, err)
		require.Equal(t, taken, still)

		slug := tenanttest.Slug("nowhere")
		_, err = db.CreateTenant(ctx, tenants.System(), nt(slug, "880000"))
		requireProblem(t, err, http.StatusUnprocessableEntity, "body.region_code")
		_, err = db.TenantBySlug(ctx, slug)
		requireProblem(t, err, http.StatusNotFound, "")

		for _, bad := range []string{"", "Bad", "admin", "a--b", "x"} {
			_, err = db.CreateTenant(ctx, tenants.System(), nt(bad, tenanttest.CityCode))
			requireProblem(t, err, http.StatusUnprocessableEntity, "body.slug")
		}

		_, err = db.TenantByID(ctx, uuid.New())
		requireProblem(t, err, http.StatusNotFound, "")
	})
}

func TestUpdateTenant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := tenanttest.DB(t)
	tn := tenanttest.Tenant(t, tenants.KindCreditCenter, "credit")

	suspended := tenants.StatusSuspended
	got, err := db.UpdateTenant(ctx, tenants.System(), tn.ID, tenants.TenantUpdate{Status: &suspended})
	require.NoError(t, err)
	require.Equal(t, tenants.StatusSuspended, got.Status)
	require.Equal(t, tn.Name, got.Name, "fields not given stay")
	require.Equal(t, tn.RegionCode, got.RegionCode)
	require.False(t, got.UpdatedAt.Before(tn.UpdatedAt))
	stored, err := db.TenantByID(ctx, tn.ID)
	require.NoError(t, err)
	require.Equal(t, tenants.StatusSuspended, stored.Status)

	// The listing filters by status.
	list, err := db.ListTenants(ctx, tenants.TenantFilter{Status: tenants.StatusSuspended, After: tn.Slug[:len(tn.Slug)-1], Limit: 1})
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, tn.ID, list[0].ID)
	list, err = db.ListTenants(ctx, tenants.TenantFilter{Status: tenants.StatusActive, After: tn.Slug[:len(tn.Slug)-1], Limit: 1})
	require.NoError(t, err)
	if len(list) > 0 {
		require.NotEqual(t, tn.ID, list[0].ID, "a suspended tenant listed as active")
	}

	name, region := "改名后的信用中心", tenanttest.DistrictCode
	got, err = db.UpdateTenant(ctx, tenants.System(), tn.ID, tenants.TenantUpdate{Name: &name, RegionCode: &region})
	require.NoError(t, err)
	require.Equal(t, name, got.Name)
	require.Equal(t, region, got.RegionCode)
	require.Equal(t, tenants.StatusSuspended, got.Status)

	active := tenants.StatusActive
	got, err = db.UpdateTenant(ctx, tenants.System(), tn.ID, tenants.TenantUpdate{Status: &active})
	require.NoError(t, err)
	require.Equal(t, tenants.StatusActive, got.Status)

	tenanttest.Tx(t, tn, func(tx *tenants.Tx) {
		for _, action := range []string{"tenant.suspend", "tenant.update", "tenant.activate"} {
			es, err := tenants.ListAudit(ctx, tx, tenants.AuditFilter{Action: action})
			require.NoError(t, err)
			require.Len(t, es, 1, action)
			require.Equal(t, tn.Slug, es[0].Target)
		}
		es, err := tenants.ListAudit(ctx, tx, tenants.AuditFilter{Action: "tenant.suspend"})
		require.NoError(t, err)
		require.Equal(t, tenants.StatusSuspended, es[0].Details["status"])
	})

	bad := "880000"
	_, err = db.UpdateTenant(ctx, tenants.System(), tn.ID, tenants.TenantUpdate{RegionCode: &bad})
	requireProblem(t, err, http.StatusUnprocessableEntity, "body.region_code")
	_, err = db.UpdateTenant(ctx, tenants.System(), uuid.New(), tenants.TenantUpdate{Name: &name})
	requireProblem(t, err, http.StatusNotFound, "")
}

func TestCheckSlug(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		slug string
		ok   bool
	}{
		{"ab", true},
		{"a1", true},
		{"police-1", true},
		{"city-hall-2", true},
		{"x" + strings.Repeat("y", 39), true},  // 40
		{"x" + strings.Repeat("y", 40), false}, // 41
		{"", false},
		{"a", false},
		{"1ab", false},
		{"-ab", false},
		{"ab-", false},
		{"a--b", false},
		{"Ab", false},
		{"a_b", false},
		{"a b", false},
		{"a.b", false},
		{"公安局", false},
		{"ab\n", false},
		{"admin", false},
		{"api", false},
		{"www", false},
		{"admins", true},
	} {
		msg := tenants.CheckSlug(tc.slug)
		if tc.ok {
			require.Empty(t, msg, "%q", tc.slug)
		} else {
			require.NotEmpty(t, msg, "%q", tc.slug)
		}
	}
}

var slugRule = regexp.MustCompile(`^[a-z][a-z0-9-]{0,38}[a-z0-9]$`)

// FuzzCheckSlug holds CheckSlug to the database: a slug it accepts the
// tenants table accepts, and a slug it refuses for its form the table's
// CHECK constraint refuses too (reserved slugs are the service's own rule).
func FuzzCheckSlug(f *testing.F) {
	for _, s := range []string{"ab", "a", "admin", "a--b", "police-1", "Ab", "1ab", "ab-", "-ab",
		strings.Repeat("a", 40), strings.Repeat("a", 41), "中文", "a\x00b", "\xff\xfe", "ab\n", "a-b-c"} {
		f.Add(s)
	}
	ctx := context.Background()
	db := tenanttest.DB(f)

	f.Fuzz(func(t *testing.T, s string) {
		msg := tenants.CheckSlug(s)
		reserved := strings.Contains(msg, "reserved")
		if msg == "" {
			require.Regexp(t, slugRule, s)
			require.NotContains(t, s, "--")
			require.True(t, utf8.ValidString(s))
			require.True(t, len(s) >= 2 && len(s) <= 40, "%q", s)
		}

		tx, err := db.Pool.Begin(ctx)
		require.NoError(t, err)
		defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // never committed
		_, err = tx.Exec(ctx, "INSERT INTO tenants (slug, name, kind, region_code) VALUES ($1, 'fuzz', 'other', $2)", s, tenanttest.CityCode)
		var pgErr *pgconn.PgError
		dbAccepts := err == nil || (errors.As(err, &pgErr) && pgErr.Code == "23505") // taken is accepted form
		if msg == "" || reserved {
			require.True(t, dbAccepts, "CheckSlug accepts %q (%s) but the database refuses it: %v", s, msg, err)
			return
		}
		require.False(t, dbAccepts, "CheckSlug refuses %q but the database accepts it", s)
		require.ErrorAs(t, err, &pgErr)
		// The CHECK constraint, or the encoding for bytes that are no text.
		require.Contains(t, []string{"23514", "22021"}, pgErr.Code, "%q: %v", s, err)
	})
}
