package tenants_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"yamen/migrations"
	"yamen/policy"
	"yamen/tenants"
	"yamen/tenants/tenanttest"
)

// TestIsolation proves the row level security policy itself, table by table:
// for every tenant table found in the catalog it writes a row as tenant A
// and shows that tenant B, and a transaction with no tenant, can neither see,
// change, delete nor forge it. It is the one test that sets app.tenant_id
// itself: it must switch tenants inside one transaction to reach the policy
// without tenants.Tx in between.
func TestIsolation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := tenanttest.DB(t)
	cat := loadCatalog(t, ctx, db.Pool)
	tables := cat.tenantTables()
	require.NotEmpty(t, tables, "found no table with a tenant_id column in schema %s: the discovery query is broken", migrations.Schema)

	for _, tb := range tables {
		t.Run(tb.name, func(t *testing.T) {
			t.Parallel()
			tx, err := db.Pool.Begin(ctx)
			require.NoError(t, err)
			defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // rolled back whatever happened

			a, b := insertTenant(t, ctx, tx), insertTenant(t, ctx, tx)
			gen := &rowGen{cat: cat, q: tx}
			table := pgx.Identifier{migrations.Schema, tb.name}.Sanitize()
			count := func(where string, args ...any) int {
				t.Helper()
				var n int
				require.NoError(t, tx.QueryRow(ctx, "SELECT count(*) FROM "+table+" "+where, args...).Scan(&n))
				return n
			}
			var canUpdate, canDelete bool
			require.NoError(t, tx.QueryRow(ctx, "SELECT has_table_privilege($1, 'UPDATE'), has_table_privilege($1, 'DELETE')", table).Scan(&canUpdate, &canDelete))

			// Tenant A writes a row (and whatever rows it needs to point at).
			setTenant(t, ctx, tx, a.String())
			row, err := gen.build(ctx, tb, a, nil)
			require.NoError(t, err)
			_, err = gen.insert(ctx, row, nil)
			require.NoError(t, err)
			require.Equal(t, 1, count("WHERE tenant_id = $1", a), "tenant A sees its own row")

			// Tenant B sees none of it and cannot touch it.
			setTenant(t, ctx, tx, b.String())
			require.Zero(t, count(""), "tenant B sees rows of %s", tb.name)
			require.Zero(t, count("WHERE tenant_id = $1", a), "tenant B sees tenant A's row of %s", tb.name)
			mustAffectNone(t, ctx, tx, canUpdate, "UPDATE "+table+" SET tenant_id = $2 WHERE tenant_id = $1", a, b)
			mustAffectNone(t, ctx, tx, canDelete, "DELETE FROM "+table+" WHERE tenant_id = $1", a)
			forged := gen.fresh(row)
			requirePolicyViolation(t, savepoint(ctx, tx, func(q pgx.Tx) error {
				_, err := (&rowGen{cat: cat, q: q}).insert(ctx, forged, nil)
				return err
			}), "tenant B inserts a row of %s with tenant A's id", tb.name)

			// No tenant: no rows, no writes.
			setTenant(t, ctx, tx, "")
			require.Zero(t, count(""), "a transaction without a tenant sees rows of %s", tb.name)
			mustAffectNone(t, ctx, tx, canUpdate, "UPDATE "+table+" SET tenant_id = $2 WHERE tenant_id = $1", a, b)
			mustAffectNone(t, ctx, tx, canDelete, "DELETE FROM "+table+" WHERE tenant_id = $1", a)
			requirePolicyViolation(t, savepoint(ctx, tx, func(q pgx.Tx) error {
				_, err := (&rowGen{cat: cat, q: q}).insert(ctx, gen.fresh(row), nil)
				return err
			}), "a transaction without a tenant inserts a row of %s", tb.name)

			// And tenant A still has exactly its row, untouched.
			setTenant(t, ctx, tx, a.String())
			require.Equal(t, 1, count("WHERE tenant_id = $1", a), "tenant A's row of %s after B's attempts", tb.name)
			require.Zero(t, count("WHERE tenant_id = $1", b))
		})
	}
}

// mustAffectNone runs an UPDATE or DELETE that must change no row: the
// policy hides the rows, or the service may not run the statement at all
// (audit_log is append-only), which is refused outright.
func mustAffectNone(t *testing.T, ctx context.Context, tx pgx.Tx, privileged bool, sql string, args ...any) {
	t.Helper()
	var tag pgconn.CommandTag
	err := savepoint(ctx, tx, func(q pgx.Tx) error {
		var err error
		tag, err = q.Exec(ctx, sql, args...)
		return err
	})
	if !privileged {
		requireSQLState(t, "42501", err, "%s without the privilege", sql)
		return
	}
	require.NoError(t, err, sql)
	require.Zero(t, tag.RowsAffected(), "%s changed rows of another tenant", sql)
}

// savepoint runs fn in a savepoint, undone when fn fails.
func savepoint(ctx context.Context, tx pgx.Tx, fn func(q pgx.Tx) error) error {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return err
	}
	if err := fn(sp); err != nil {
		if rerr := sp.Rollback(ctx); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
	return sp.Commit(ctx)
}

func requireSQLState(t *testing.T, code string, err error, msgAndArgs ...any) {
	t.Helper()
	require.Error(t, err, msgAndArgs...)
	var pgErr *pgconn.PgError
	require.ErrorAs(t, err, &pgErr, msgAndArgs...)
	require.Equal(t, code, pgErr.Code, append([]any{fmt.Sprintf("%v: ", err)}, msgAndArgs...)...)
}

// requirePolicyViolation asserts err is the policy's WITH CHECK refusing a
// row, not a missing privilege (the same SQLSTATE).
func requirePolicyViolation(t *testing.T, err error, msgAndArgs ...any) {
	t.Helper()
	requireSQLState(t, "42501", err, msgAndArgs...)
	require.Contains(t, err.Error(), "violates row-level security policy", msgAndArgs...)
}

func setTenant(t *testing.T, ctx context.Context, tx pgx.Tx, tenant string) {
	t.Helper()
	_, err := tx.Exec(ctx, "SELECT set_config('app.tenant_id', $1, true)", tenant)
	require.NoError(t, err)
}

func insertTenant(t *testing.T, ctx context.Context, q querier) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	require.NoError(t, q.QueryRow(ctx, "INSERT INTO tenants (slug, name, kind, region_code) VALUES ($1, 'isolation', 'other', $2) RETURNING id",
		tenanttest.Slug("iso"), tenanttest.CityCode).Scan(&id))
	return id
}

// rowGen makes rows of any table from the catalog alone: the values every
// NOT NULL column without a default needs, parents first for foreign keys.
// Values travel as text and are cast to the column's type, so one path
// serves every type PostgreSQL can read from text.
type rowGen struct {
	cat *catalog
	q   querier
}

var genSeq atomic.Int64

// genRow is a row ready to insert. vals holds the columns given, as text
// (nil for NULL); fromFK marks the ones taken from parent rows.
type genRow struct {
	table  *catTable
	tenant uuid.UUID
	vals   map[string]*string
	fromFK map[string]bool
}

func strp(s string) *string { return &s }

// build works out a row of tb in tenant, inserting the parent rows its
// non-null foreign keys need. The transaction must be in tenant.
func (g *rowGen) build(ctx context.Context, tb *catTable, tenant uuid.UUID, stack []string) (*genRow, error) {
	if slices.Contains(stack, tb.name) {
		return nil, fmt.Errorf("table %s: its non-null foreign keys form a cycle (%s → %s); rowGen in isolation_test.go cannot fill it",
			tb.name, strings.Join(stack, " → "), tb.name)
	}
	stack = append(stack, tb.name)
	r := &genRow{table: tb, tenant: tenant, vals: map[string]*string{}, fromFK: map[string]bool{}}
	if tb.tenantCol() != nil {
		r.vals["tenant_id"] = strp(tenant.String())
		r.fromFK["tenant_id"] = true
	}
	for _, fk := range tb.fks {
		ref := g.cat.tables[fk.refOID]
		if ref == nil {
			return nil, fmt.Errorf("table %s: foreign key %s points outside schema %s; rowGen in isolation_test.go cannot fill it", tb.name, fk.name, migrations.Schema)
		}
		local := make([]*catColumn, len(fk.cols))
		remote := make([]string, len(fk.refCols))
		needed := false
		for i := range fk.cols {
			local[i], remote[i] = tb.col(fk.cols[i]), ref.col(fk.refCols[i]).name
			if _, set := r.vals[local[i].name]; !set && local[i].notNull && !local[i].hasDef {
				needed = true
			}
		}
		if !needed {
			// Satisfied already (tenant_id → tenants.id) or nullable: a
			// NULL column makes the key match nothing, which is allowed.
			continue
		}
		var parent map[string]*string
		var err error
		if ref.tenantCol() != nil {
			// A tenant table: a parent row of our own, in the same tenant.
			var pr *genRow
			if pr, err = g.build(ctx, ref, tenant, stack); err == nil {
				parent, err = g.insert(ctx, pr, remote)
			}
		} else {
			// Jurisdiction-wide data: any existing row will do.
			parent, err = g.existing(ctx, ref, remote)
		}
		if err != nil {
			return nil, fmt.Errorf("table %s, foreign key %s: %w", tb.name, fk.name, err)
		}
		for i, c := range local {
			if cur, set := r.vals[c.name]; set && !ptrEq(cur, parent[remote[i]]) {
				return nil, fmt.Errorf("table %s, column %s: foreign key %s needs %v but another key set %v; rowGen in isolation_test.go cannot fill it",
					tb.name, c.name, fk.name, deref(parent[remote[i]]), deref(cur))
			}
			r.vals[c.name] = parent[remote[i]]
			r.fromFK[c.name] = true
		}
	}
	for _, c := range tb.cols {
		if _, set := r.vals[c.name]; set || !c.notNull || c.hasDef || c.identity != "" || c.generated != "" {
			continue
		}
		v, err := genValue(tb, c)
		if err != nil {
			return nil, err
		}
		r.vals[c.name] = strp(v)
	}
	return r, nil
}

// fresh returns a copy of r pointing at the same parents with new values of
// its own, so that only the policy can refuse it.
func (g *rowGen) fresh(r *genRow) *genRow {
	n := &genRow{table: r.table, tenant: r.tenant, vals: maps.Clone(r.vals), fromFK: r.fromFK}
	for name := range n.vals {
		if !r.fromFK[name] {
			v, err := genValue(r.table, r.table.colByName(name))
			if err == nil {
				n.vals[name] = strp(v)
			}
		}
	}
	return n
}

// insert writes r and returns the columns in want, as text.
func (g *rowGen) insert(ctx context.Context, r *genRow, want []string) (map[string]*string, error) {
	var cols, params []string
	var args []any
	for _, c := range r.table.cols {
		v, ok := r.vals[c.name]
		if !ok {
			continue
		}
		args = append(args, v)
		cols = append(cols, pgx.Identifier{c.name}.Sanitize())
		params = append(params, fmt.Sprintf("$%d::text::%s", len(args), c.typ))
	}
	sql := "INSERT INTO " + pgx.Identifier{migrations.Schema, r.table.name}.Sanitize()
	if len(cols) == 0 {
		sql += " DEFAULT VALUES"
	} else {
		sql += " (" + strings.Join(cols, ", ") + ") VALUES (" + strings.Join(params, ", ") + ")"
	}
	var ret []string
	for _, w := range want {
		ret = append(ret, pgx.Identifier{w}.Sanitize()+"::text")
	}
	if len(ret) > 0 {
		sql += " RETURNING " + strings.Join(ret, ", ")
	}
	out := make([]*string, len(want))
	dest := make([]any, len(want))
	for i := range out {
		dest[i] = &out[i]
	}
	var err error
	if len(want) > 0 {
		err = g.q.QueryRow(ctx, sql, args...).Scan(dest...)
	} else {
		_, err = g.q.Exec(ctx, sql, args...)
	}
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "42501" {
			return nil, err // the policy speaking: callers test for it
		}
		return nil, fmt.Errorf("table %s cannot be filled generically (%s; column %q, constraint %q); teach rowGen in isolation_test.go: %w",
			r.table.name, sql, pgErrColumn(err), pgErrConstraint(err), err)
	}
	res := map[string]*string{}
	for i, w := range want {
		res[w] = out[i]
	}
	return res, nil
}

// existing returns the columns cols of some row of a table without tenant_id.
func (g *rowGen) existing(ctx context.Context, tb *catTable, cols []string) (map[string]*string, error) {
	sel := make([]string, len(cols))
	for i, c := range cols {
		sel[i] = pgx.Identifier{c}.Sanitize() + "::text"
	}
	out := make([]*string, len(cols))
	dest := make([]any, len(cols))
	for i := range out {
		dest[i] = &out[i]
	}
	err := g.q.QueryRow(ctx, "SELECT "+strings.Join(sel, ", ")+" FROM "+pgx.Identifier{migrations.Schema, tb.name}.Sanitize()+" LIMIT 1").Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("table %s has no row to point at; rowGen in isolation_test.go cannot make one", tb.name)
	}
	if err != nil {
		return nil, err
	}
	res := map[string]*string{}
	for i, c := range cols {
		res[c] = out[i]
	}
	return res, nil
}

// genValue returns a text value of column c's type, unique where the type
// allows (columns may be in unique keys).
func genValue(tb *catTable, c *catColumn) (string, error) {
	n := genSeq.Add(1)
	if c.category == "A" {
		return "{}", nil
	}
	if c.typType == "e" {
		if c.enumFirst == nil {
			return "", fmt.Errorf("table %s, column %s: enum %s has no labels", tb.name, c.name, c.typ)
		}
		return *c.enumFirst, nil
	}
	switch c.baseType {
	case "uuid":
		return uuid.NewString(), nil
	case "text", "varchar", "bpchar", "name", "citext":
		return "g" + strconv.FormatInt(n, 36), nil
	case "int2":
		// Small enough for enumerations such as weekdays (1–7).
		return strconv.FormatInt(n%7+1, 10), nil
	case "int4", "int8", "numeric", "float4", "float8":
		return strconv.FormatInt(n, 10), nil
	case "bool":
		return "true", nil
	case "json", "jsonb":
		return "{}", nil
	// Later columns get later times, so CHECK (ends > starts) holds.
	case "timestamptz", "timestamp":
		return time.Unix(1_767_225_600+n, 0).UTC().Format(time.RFC3339), nil
	case "date":
		return "today", nil
	case "time", "timetz":
		return time.Unix(n%86400, 0).UTC().Format("15:04:05"), nil
	case "interval":
		return "1 hour", nil
	case "bytea":
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		return `\x` + hex.EncodeToString(b), nil
	case "ltree":
		return "g" + strconv.FormatInt(n, 10), nil
	case "inet", "cidr":
		return "127.0.0.1", nil
	case "tstzrange", "tsrange", "daterange":
		return "[2020-01-01,2020-01-02)", nil
	}
	return "", fmt.Errorf("table %s, column %s: rowGen in isolation_test.go does not know how to make a value of type %s; teach it", tb.name, c.name, c.typ)
}

func pgErrColumn(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.ColumnName
	}
	return ""
}

func pgErrConstraint(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.ConstraintName
	}
	return ""
}

func ptrEq(a, b *string) bool { return (a == nil && b == nil) || (a != nil && b != nil && *a == *b) }

func deref(s *string) string {
	if s == nil {
		return "NULL"
	}
	return *s
}

// TestIsolationThroughTx shows the same isolation through the API the
// service uses: what tenant A creates, tenant B's transactions cannot list,
// read or change.
func TestIsolationThroughTx(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := tenanttest.DB(t)
	a := tenanttest.Tenant(t, tenants.KindPoliceBureau, "files", "clues")
	b := tenanttest.Tenant(t, tenants.KindPoliceBureau)

	var (
		org     tenants.Org
		member  tenants.Member
		role    tenants.Role
		key     tenants.KeyInfo
		secret  string
		auditA  []tenants.AuditEntry
		aOrgIDs []uuid.UUID
	)
	require.NoError(t, db.Tx(ctx, a.ID, tenants.System().String(), func(tx *tenants.Tx) error {
		var err error
		org, err = tenants.CreateOrg(ctx, tx, tenants.NewOrg{Code: "a-branch", Name: "A 分局", Kind: "branch"})
		require.NoError(t, err)
		role, err = tenants.CreateRole(ctx, tx, tenants.NewRole{Name: "A 民警", Permissions: []string{"orgs:read"}, DataScope: tenants.ScopeOrg})
		require.NoError(t, err)
		member, err = tenants.CreateMember(ctx, tx, tenants.NewMember{OrgID: org.ID, Name: "张三", RoleIDs: []uuid.UUID{role.ID}})
		require.NoError(t, err)
		key, secret, err = tenants.CreateTenantKey(ctx, tx, tenants.NewKey{Name: "A 接口", Scopes: []string{"orgs:read"}})
		require.NoError(t, err)
		require.NoError(t, tenants.Audit(ctx, tx, "test.isolation", "a-only", nil))
		auditA, err = tenants.ListAudit(ctx, tx, tenants.AuditFilter{})
		require.NoError(t, err)
		orgs, err := tenants.ListOrgs(ctx, tx, nil)
		require.NoError(t, err)
		for _, o := range orgs {
			aOrgIDs = append(aOrgIDs, o.ID)
		}
		return nil
	}))
	require.NotEmpty(t, auditA)

	t.Run("TenantBListsNoneOfIt", func(t *testing.T) {
		t.Parallel()
		tenanttest.Tx(t, b, func(tx *tenants.Tx) {
			orgs, err := tenants.ListOrgs(ctx, tx, nil)
			require.NoError(t, err)
			require.Len(t, orgs, 1, "B has only its own root org")
			require.NotContains(t, aOrgIDs, orgs[0].ID)

			sub, err := tenants.ListOrgs(ctx, tx, &org.ID)
			require.NoError(t, err)
			require.Empty(t, sub, "B lists A's subtree")

			members, err := tenants.ListMembers(ctx, tx, policy.SystemScope(), tenants.MemberFilter{})
			require.NoError(t, err)
			require.Empty(t, members)
			members, err = tenants.ListMembers(ctx, tx, policy.SystemScope(), tenants.MemberFilter{OrgID: &org.ID, Subtree: true})
			require.NoError(t, err)
			require.Empty(t, members)

			roles, err := tenants.ListRoles(ctx, tx)
			require.NoError(t, err)
			require.Len(t, roles, 1)
			require.Equal(t, tenants.AdminRoleName, roles[0].Name)
			require.NotEqual(t, role.ID, roles[0].ID)

			keys, err := tenants.ListTenantKeys(ctx, tx)
			require.NoError(t, err)
			require.Empty(t, keys)

			audit, err := tenants.ListAudit(ctx, tx, tenants.AuditFilter{Limit: 500})
			require.NoError(t, err)
			require.NotEmpty(t, audit, "B's own creation is audited")
			for _, e := range audit {
				for _, ea := range auditA {
					require.NotEqual(t, ea.ID, e.ID, "B lists A's audit entry %s %s", ea.Action, ea.Target)
				}
				require.NotEqual(t, "a-only", e.Target)
			}
			none, err := tenants.ListAudit(ctx, tx, tenants.AuditFilter{Action: "test.isolation"})
			require.NoError(t, err)
			require.Empty(t, none)

			states, err := tenants.ModuleStates(ctx, tx)
			require.NoError(t, err)
			require.Empty(t, states, "B was given no modules, A's are not B's")
		})
	})

	t.Run("TenantAStillSeesItsOwn", func(t *testing.T) {
		t.Parallel()
		tenanttest.Tx(t, a, func(tx *tenants.Tx) {
			got, err := tenants.GetMember(ctx, tx, member.ID)
			require.NoError(t, err)
			require.Equal(t, []uuid.UUID{role.ID}, got.RoleIDs)
			keys, err := tenants.ListTenantKeys(ctx, tx)
			require.NoError(t, err)
			require.Len(t, keys, 1)
			states, err := tenants.ModuleStates(ctx, tx)
			require.NoError(t, err)
			require.ElementsMatch(t, []string{"files", "clues"}, slices.Collect(maps.Keys(states)))
		})
	})

	t.Run("TenantBCannotReachItByID", func(t *testing.T) {
		t.Parallel()
		tenanttest.Tx(t, b, func(tx *tenants.Tx) {
			_, err := tenants.GetOrg(ctx, tx, org.ID)
			requireProblem(t, err, http.StatusNotFound, "")
			_, err = tenants.GetMember(ctx, tx, member.ID)
			requireProblem(t, err, http.StatusNotFound, "")
			_, err = tenants.GetRole(ctx, tx, role.ID)
			requireProblem(t, err, http.StatusNotFound, "")

			name := "stolen"
			_, err = tenants.UpdateOrg(ctx, tx, org.ID, tenants.OrgUpdate{Name: &name})
			requireProblem(t, err, http.StatusNotFound, "")
			_, err = tenants.UpdateMember(ctx, tx, member.ID, tenants.MemberUpdate{Name: &name})
			requireProblem(t, err, http.StatusNotFound, "")
			requireProblem(t, tenants.RevokeTenantKey(ctx, tx, key.ID), http.StatusNotFound, "")
			requireProblem(t, tenants.DeleteMember(ctx, tx, member.ID), http.StatusNotFound, "")
			requireProblem(t, tenants.DeleteRole(ctx, tx, role.ID), http.StatusNotFound, "")
			requireProblem(t, tenants.DeleteOrg(ctx, tx, org.ID), http.StatusNotFound, "")

			// Nor point at it: a member of B in A's org, a role of B
			// scoped to A's org, B's org moved under A's.
			root, err := tenants.ListOrgs(ctx, tx, nil)
			require.NoError(t, err)
			err = tx.Savepoint(ctx, func() error {
				_, err := tenants.CreateMember(ctx, tx, tenants.NewMember{OrgID: org.ID, Name: "李四"})
				return err
			})
			requireProblem(t, err, http.StatusUnprocessableEntity, "body.org_id")
			_, err = tenants.CreateRole(ctx, tx, tenants.NewRole{Name: "越权", DataScope: tenants.ScopeCustom, ScopeOrgIDs: []uuid.UUID{org.ID}})
			requireProblem(t, err, http.StatusUnprocessableEntity, "body.scope_org_ids")
			_, err = tenants.MoveOrg(ctx, tx, root[0].ID, org.ID)
			requireProblem(t, err, http.StatusUnprocessableEntity, "body.parent_id")
		})
	})

	t.Run("KeyAuthenticatesOnlyAsItsTenant", func(t *testing.T) {
		t.Parallel()
		s, err := db.Authenticate(ctx, secret)
		require.NoError(t, err)
		require.Equal(t, a.ID, s.TenantID)
	})
}
