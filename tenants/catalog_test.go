package tenants_test

import (
	"cmp"
	"context"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"yamen/migrations"
)

// The catalog as TestSchema and TestIsolation see it: every table of the
// yamen schema with its columns, keys and policies, read from pg_catalog as
// yamen_app. Tables are discovered, never listed, so a table a later
// migration adds is covered without touching the tests.

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

type catalog struct {
	tables map[uint32]*catTable
	byName map[string]*catTable
}

type catTable struct {
	oid      uint32
	name     string
	owner    string
	rls      bool
	forceRLS bool
	cols     []*catColumn // by attnum
	pk       []int16
	uniques  [][]int16
	fks      []catFK
	policies []catPolicy
}

type catColumn struct {
	num       int16
	name      string
	typ       string // format_type, usable in a cast
	baseType  string // typname of the type, or of a domain's base type
	typType   string // pg_type.typtype of the base type: b, e, r, …
	category  string // pg_type.typcategory of the base type: A for arrays
	enumFirst *string
	notNull   bool
	hasDef    bool
	identity  string // "" or a/d
	generated string // "" or s
}

type catFK struct {
	name    string
	cols    []int16
	refOID  uint32
	refCols []int16
}

type catPolicy struct {
	name       string
	permissive bool
	cmd        string
	roles      []string
	qual       *string
	withCheck  *string
}

func (t *catTable) col(num int16) *catColumn {
	for _, c := range t.cols {
		if c.num == num {
			return c
		}
	}
	return nil
}

func (t *catTable) colByName(name string) *catColumn {
	for _, c := range t.cols {
		if c.name == name {
			return c
		}
	}
	return nil
}

// tenantCol is the table's tenant_id column, or nil.
func (t *catTable) tenantCol() *catColumn { return t.colByName("tenant_id") }

// inUnique reports whether the column is part of the primary key or a
// unique constraint.
func (t *catTable) inUnique(num int16) bool {
	if slices.Contains(t.pk, num) {
		return true
	}
	for _, u := range t.uniques {
		if slices.Contains(u, num) {
			return true
		}
	}
	return false
}

// tenantTables returns the tables that carry tenant_id, by name.
func (c *catalog) tenantTables() []*catTable {
	var ts []*catTable
	for _, t := range c.tables {
		if t.tenantCol() != nil {
			ts = append(ts, t)
		}
	}
	slices.SortFunc(ts, func(a, b *catTable) int { return cmp.Compare(a.name, b.name) })
	return ts
}

func loadCatalog(t *testing.T, ctx context.Context, q querier) *catalog {
	t.Helper()
	c := &catalog{tables: map[uint32]*catTable{}, byName: map[string]*catTable{}}

	rows, err := q.Query(ctx, `SELECT c.oid, c.relname, pg_get_userbyid(c.relowner)::text, c.relrowsecurity, c.relforcerowsecurity
		FROM pg_class c
		WHERE c.relnamespace = $1::regnamespace AND c.relkind IN ('r', 'p')`, migrations.Schema)
	require.NoError(t, err)
	for rows.Next() {
		tb := &catTable{}
		require.NoError(t, rows.Scan(&tb.oid, &tb.name, &tb.owner, &tb.rls, &tb.forceRLS))
		c.tables[tb.oid] = tb
		c.byName[tb.name] = tb
	}
	require.NoError(t, rows.Err())

	rows, err = q.Query(ctx, `SELECT a.attrelid, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod),
			bt.typname::text, bt.typtype::text, bt.typcategory::text,
			(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = bt.oid ORDER BY e.enumsortorder LIMIT 1),
			a.attnotnull, a.atthasdef, a.attidentity::text, a.attgenerated::text
		FROM pg_attribute a
		JOIN pg_class c ON c.oid = a.attrelid
		JOIN pg_type ty ON ty.oid = a.atttypid
		JOIN pg_type bt ON bt.oid = CASE WHEN ty.typtype = 'd' THEN ty.typbasetype ELSE ty.oid END
		WHERE c.relnamespace = $1::regnamespace AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY a.attrelid, a.attnum`, migrations.Schema)
	require.NoError(t, err)
	for rows.Next() {
		var oid uint32
		col := &catColumn{}
		require.NoError(t, rows.Scan(&oid, &col.num, &col.name, &col.typ, &col.baseType, &col.typType, &col.category,
			&col.enumFirst, &col.notNull, &col.hasDef, &col.identity, &col.generated))
		if tb := c.tables[oid]; tb != nil {
			tb.cols = append(tb.cols, col)
		}
	}
	require.NoError(t, rows.Err())

	rows, err = q.Query(ctx, `SELECT conrelid, conname::text, contype::text, conkey, confrelid, coalesce(confkey, '{}')
		FROM pg_constraint
		WHERE connamespace = $1::regnamespace AND contype IN ('p', 'u', 'f') AND conrelid <> 0`, migrations.Schema)
	require.NoError(t, err)
	for rows.Next() {
		var (
			oid, refOID   uint32
			name, kind    string
			keys, refKeys []int16
		)
		require.NoError(t, rows.Scan(&oid, &name, &kind, &keys, &refOID, &refKeys))
		tb := c.tables[oid]
		if tb == nil {
			continue
		}
		switch kind {
		case "p":
			tb.pk = keys
		case "u":
			tb.uniques = append(tb.uniques, keys)
		case "f":
			tb.fks = append(tb.fks, catFK{name: name, cols: keys, refOID: refOID, refCols: refKeys})
		}
	}
	require.NoError(t, rows.Err())
	for _, tb := range c.tables {
		slices.SortFunc(tb.fks, func(a, b catFK) int { return cmp.Compare(a.name, b.name) })
	}

	rows, err = q.Query(ctx, `SELECT tablename::text, policyname::text, permissive = 'PERMISSIVE', cmd, roles::text[], qual, with_check
		FROM pg_policies WHERE schemaname = $1`, migrations.Schema)
	require.NoError(t, err)
	for rows.Next() {
		var table string
		var p catPolicy
		require.NoError(t, rows.Scan(&table, &p.name, &p.permissive, &p.cmd, &p.roles, &p.qual, &p.withCheck))
		if tb := c.byName[table]; tb != nil {
			tb.policies = append(tb.policies, p)
		}
	}
	require.NoError(t, rows.Err())
	return c
}
