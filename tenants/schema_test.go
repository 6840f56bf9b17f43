package tenants_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"yamen/migrations"
	"yamen/tenants/tenanttest"
)

// TestSchema holds every tenant table (every table of the yamen schema with a
// tenant_id column, discovered from pg_catalog) to the rules of "Row-level
// isolation" in DESIGN.md, and the role the service connects as to having no
// power beyond reading and writing rows.
func TestSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := tenanttest.DB(t)
	cat := loadCatalog(t, ctx, db.Pool)

	tables := cat.tenantTables()
	require.NotEmpty(t, tables, "found no table with a tenant_id column in schema %s: the discovery query is broken", migrations.Schema)
	names := make([]string, len(tables))
	for i, tb := range tables {
		names[i] = tb.name
	}
	t.Logf("checked %d tenant tables: %s", len(tables), strings.Join(names, ", "))

	for _, tb := range tables {
		t.Run(tb.name, func(t *testing.T) {
			t.Parallel()
			tenantCol := tb.tenantCol()

			t.Run("TenantIDIsNotNullUUID", func(t *testing.T) {
				require.Equal(t, "uuid", tenantCol.typ, "%s.tenant_id", tb.name)
				require.True(t, tenantCol.notNull, "%s.tenant_id must be NOT NULL", tb.name)
			})

			t.Run("RowLevelSecurityEnabledAndForced", func(t *testing.T) {
				require.True(t, tb.rls, "%s: ALTER TABLE %s ENABLE ROW LEVEL SECURITY is missing", tb.name, tb.name)
				require.True(t, tb.forceRLS, "%s: ALTER TABLE %s FORCE ROW LEVEL SECURITY is missing", tb.name, tb.name)
			})

			t.Run("TenantPolicy", func(t *testing.T) {
				var isolating []string
				for _, p := range tb.policies {
					if !p.permissive || !appliesToApp(p.roles) {
						continue
					}
					// Permissive policies are OR-ed: one that does not
					// restrict by tenant opens the table whatever the others say.
					if p.qual != nil {
						require.True(t, mentionsTenant(*p.qual), "%s: permissive policy %s has USING %s, which does not restrict by tenant", tb.name, p.name, *p.qual)
					}
					if p.withCheck != nil {
						require.True(t, mentionsTenant(*p.withCheck), "%s: permissive policy %s has WITH CHECK %s, which does not restrict by tenant", tb.name, p.name, *p.withCheck)
					}
					if p.cmd == "ALL" && p.qual != nil && p.withCheck != nil {
						isolating = append(isolating, p.name)
					}
				}
				require.NotEmpty(t, isolating, "%s: no permissive policy FOR ALL with both USING and WITH CHECK (tenant_id = current_tenant()); policies: %+v", tb.name, tb.policies)
			})

			t.Run("TenantIDLeadsPrimaryKey", func(t *testing.T) {
				require.NotEmpty(t, tb.pk, "%s has no primary key", tb.name)
				require.Equal(t, tenantCol.num, tb.pk[0], "%s: the primary key starts with %s, not tenant_id", tb.name, tb.col(tb.pk[0]).name)
			})

			t.Run("ForeignKeysIncludeTenantID", func(t *testing.T) {
				for _, fk := range tb.fks {
					ref := cat.tables[fk.refOID]
					if ref == nil || ref.tenantCol() == nil {
						continue // jurisdiction-wide data, or tenants itself
					}
					i := slices.Index(fk.cols, tenantCol.num)
					require.GreaterOrEqual(t, i, 0, "%s: foreign key %s to tenant table %s does not include tenant_id", tb.name, fk.name, ref.name)
					require.Equal(t, ref.tenantCol().num, fk.refCols[i],
						"%s: foreign key %s pairs tenant_id with %s.%s instead of %s.tenant_id", tb.name, fk.name, ref.name, ref.col(fk.refCols[i]).name, ref.name)
				}
			})
		})
	}

	t.Run("AppRole", func(t *testing.T) {
		t.Parallel()
		var (
			user                                string
			super, bypass, createRole, createDB bool
		)
		require.NoError(t, db.Pool.QueryRow(ctx, `SELECT rolname::text, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb
			FROM pg_roles WHERE rolname = current_user`).Scan(&user, &super, &bypass, &createRole, &createDB))
		require.Equal(t, migrations.AppRole, user, "tests must connect as the service's role, or they prove nothing")
		require.False(t, super, "%s is a superuser", user)
		require.False(t, bypass, "%s has BYPASSRLS", user)
		require.False(t, createRole, "%s has CREATEROLE", user)
		require.False(t, createDB, "%s has CREATEDB", user)

		var canCreateSchema, canCreateDB bool
		require.NoError(t, db.Pool.QueryRow(ctx, `SELECT has_schema_privilege($1, 'CREATE'), has_database_privilege(current_database(), 'CREATE')`,
			migrations.Schema).Scan(&canCreateSchema, &canCreateDB))
		require.False(t, canCreateSchema, "%s may create objects in schema %s", user, migrations.Schema)
		require.False(t, canCreateDB, "%s may create schemas in the database", user)

		// Owning an object means being able to ALTER it, drop its policies,
		// or disable its row level security. Temporary objects are the
		// session's own and go with it.
		rows, err := db.Pool.Query(ctx, `
			WITH me AS (SELECT oid FROM pg_roles WHERE rolname = current_user),
			     temp AS (SELECT oid FROM pg_namespace WHERE nspname LIKE 'pg\_temp\_%' OR nspname LIKE 'pg\_toast\_temp\_%')
			SELECT 'pg_class ' || relname::text FROM pg_class, me WHERE relowner = me.oid AND relnamespace NOT IN (SELECT oid FROM temp)
			UNION ALL SELECT 'pg_type ' || typname::text FROM pg_type, me WHERE typowner = me.oid AND typnamespace NOT IN (SELECT oid FROM temp)
			UNION ALL SELECT 'pg_proc ' || proname::text FROM pg_proc, me WHERE proowner = me.oid
			UNION ALL SELECT 'pg_namespace ' || nspname::text FROM pg_namespace, me WHERE nspowner = me.oid
			UNION ALL SELECT 'pg_database ' || datname::text FROM pg_database, me WHERE datdba = me.oid AND datname = current_database()`)
		require.NoError(t, err)
		var owned []string
		for rows.Next() {
			var s string
			require.NoError(t, rows.Scan(&s))
			owned = append(owned, s)
		}
		require.NoError(t, rows.Err())
		require.Empty(t, owned, "%s owns objects", user)

		// Nor can it become an owner: SET ROLE needs membership.
		owners := map[string]bool{}
		for _, tb := range cat.tables {
			owners[tb.owner] = true
		}
		for owner := range owners {
			var member bool
			require.NoError(t, db.Pool.QueryRow(ctx, "SELECT pg_has_role(current_user, $1::text::regrole, 'MEMBER')", owner).Scan(&member))
			require.False(t, member, "%s can SET ROLE %s, the owner of tables in %s", user, owner, migrations.Schema)
		}
	})
}

// mentionsTenant reports whether a policy expression compares tenant_id
// with the transaction's tenant.
func mentionsTenant(expr string) bool {
	return strings.Contains(expr, "tenant_id") &&
		(strings.Contains(expr, "current_tenant()") || strings.Contains(expr, "app.tenant_id"))
}

// appliesToApp reports whether a policy's roles include the service's role.
func appliesToApp(roles []string) bool {
	return slices.Contains(roles, "public") || slices.Contains(roles, migrations.AppRole)
}
