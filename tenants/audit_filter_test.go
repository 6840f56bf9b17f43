package tenants_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"yamen/problem"
	"yamen/tenants"
	"yamen/tenants/tenanttest"
)

func TestAuditQuery(t *testing.T) {
	t.Parallel()
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		require.NoError(t, err)
		return v.UTC()
	}
	good := map[tenants.AuditQuery]tenants.AuditFilter{
		{Limit: 100}: {Limit: 100},
		{Action: "org.move", Subject: "key:0b8c", Limit: 1}:                         {Action: "org.move", Subject: "key:0b8c", Limit: 1},
		{Action: "org.*", Limit: 500, Before: 7}:                                    {Action: "org.*", Limit: 500, Before: 7},
		{Action: "*", Limit: 5}:                                                     {Action: "*", Limit: 5},
		{Action: "read.sensitive", Subject: "cli:张三", Limit: 5}:                     {Action: "read.sensitive", Subject: "cli:张三", Limit: 5},
		{From: "2026-01-02T08:00:00+08:00", To: "2026-01-02T00:00:00.5Z", Limit: 9}: {From: at("2026-01-02T00:00:00Z"), To: at("2026-01-02T00:00:00.5Z"), Limit: 9},
	}
	for q, want := range good {
		f, err := q.Filter()
		require.NoError(t, err, "%+v", q)
		require.Equal(t, want, f, "%+v", q)
	}
	bad := []struct {
		q    tenants.AuditQuery
		locs []string
	}{
		{tenants.AuditQuery{Action: "Org.Move", Subject: "a\x01b", From: "yesterday", To: "2026-13-01T00:00:00Z", Before: -1, Limit: 0},
			[]string{"query.action", "query.subject", "query.from", "query.to", "query.before", "query.limit"}},
		{tenants.AuditQuery{Action: "org.*.move", Limit: 1}, []string{"query.action"}},
		{tenants.AuditQuery{Action: "org%", Limit: 1}, []string{"query.action"}},
		{tenants.AuditQuery{Action: strings.Repeat("a", 101), Limit: 1}, []string{"query.action"}},
		{tenants.AuditQuery{Subject: strings.Repeat("字", 201), Limit: 1}, []string{"query.subject"}},
		{tenants.AuditQuery{Subject: "\xff", Limit: 1}, []string{"query.subject"}},
		{tenants.AuditQuery{From: "2026-01-02T00:00:00Z", To: "2026-01-02T00:00:00Z", Limit: 1}, []string{"query.to"}},
		{tenants.AuditQuery{From: "2026-01-02", Limit: 501}, []string{"query.from", "query.limit"}},
	}
	for _, c := range bad {
		_, err := c.q.Filter()
		p, ok := problem.As(err)
		require.True(t, ok, "%+v: %v", c.q, err)
		require.Equal(t, http.StatusUnprocessableEntity, p.Status)
		var locs []string
		for _, f := range p.Fields {
			locs = append(locs, f.Location)
		}
		require.ElementsMatch(t, c.locs, locs, "%+v", c.q)
	}
}

func TestListAuditFilters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := tenanttest.DB(t)
	tn := tenanttest.Tenant(t, tenants.KindOther)
	for i, s := range []struct{ subject, action string }{
		{"key:alice", "org.create"}, {"key:bob", "org.move"}, {"key:alice", "organ.donate"},
		{"key:bob", "member.create"}, {"key:alice", "org.move"}, {"system", "org_x.y"},
	} {
		require.NoError(t, db.Tx(ctx, tn.ID, s.subject, func(tx *tenants.Tx) error {
			return tenants.Audit(ctx, tx, s.action, "t", map[string]any{"i": i})
		}))
	}
	r, err := db.Reader(tn.ID, "system")
	require.NoError(t, err)
	list := func(q tenants.AuditQuery) []tenants.AuditEntry {
		t.Helper()
		if q.Limit == 0 {
			q.Limit = 100
		}
		f, err := q.Filter()
		require.NoError(t, err)
		es, err := tenants.ListAudit(ctx, r, f)
		require.NoError(t, err)
		return es
	}
	actions := func(es []tenants.AuditEntry) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.Subject+" "+e.Action)
		}
		return out
	}
	all := list(tenants.AuditQuery{})
	require.Len(t, all, creationRecords+6)

	require.Equal(t, []string{"key:alice org.move", "key:bob org.move"}, actions(list(tenants.AuditQuery{Action: "org.move"})))
	require.Equal(t, []string{"key:alice org.move", "key:bob org.move", "key:alice org.create", "system org.create"},
		actions(list(tenants.AuditQuery{Action: "org.*"})), "a prefix stops at the dot: not organ.*, not org_x")
	require.Len(t, list(tenants.AuditQuery{Action: "*"}), len(all))
	require.Equal(t, []string{"key:alice org.move", "key:alice organ.donate", "key:alice org.create"}, actions(list(tenants.AuditQuery{Subject: "key:alice"})))
	require.Equal(t, []string{"key:bob org.move"}, actions(list(tenants.AuditQuery{Subject: "key:bob", Action: "org.*"})))
	require.Empty(t, list(tenants.AuditQuery{Action: "or_.*"}), "_ is no wildcard: or_.* is not org.*")

	// Time: from is inclusive, to exclusive.
	mid := all[3] // newest first: the fourth newest
	from := mid.At.Format(time.RFC3339Nano)
	require.Equal(t, all[:4], list(tenants.AuditQuery{From: from}))
	require.Equal(t, all[4:], list(tenants.AuditQuery{To: from}))
	require.Equal(t, all[3:4], list(tenants.AuditQuery{From: from, To: mid.At.Add(time.Microsecond).Format(time.RFC3339Nano)}))

	// Keyset paging: pages of two, each continuing before the last id.
	var paged []tenants.AuditEntry
	var before int64
	for {
		page := list(tenants.AuditQuery{Limit: 2, Before: before})
		if len(page) == 0 {
			break
		}
		require.LessOrEqual(t, len(page), 2)
		paged = append(paged, page...)
		before = page[len(page)-1].ID
	}
	require.Equal(t, all, paged)
}

// FuzzAuditQuery: whatever the query, Filter either names only known
// parameters in a 422, or gives a filter PostgreSQL runs and whose every
// result matches it.
func FuzzAuditQuery(f *testing.F) {
	ctx := context.Background()
	db := tenanttest.DB(f)
	tn := tenanttest.Tenant(f, tenants.KindOther)
	r, err := db.Reader(tn.ID, "system")
	require.NoError(f, err)
	known := []string{"query.action", "query.subject", "query.from", "query.to", "query.before", "query.limit"}

	f.Add("org.*", "system", "2026-01-02T00:00:00Z", "2099-01-01T00:00:00+08:00", int64(0), 100)
	f.Add("tenant.create", "", "", "", int64(5), 1)
	f.Add("*", "key:x", "1970-01-01T00:00:00Z", "", int64(0), 500)
	f.Add("org_%", "\x00", "2026-02-30T00:00:00Z", "0000-01-01T00:00:00Z", int64(-1), 0)
	f.Add("a.b.*", "system", "9999-12-31T23:59:59.999999999Z", "", int64(1)<<62, 501)
	f.Add(".*", "\xff\xfe", "2026-01-02T00:00:00+24:00", "2026-01-02T00:00:00-00:00", int64(0), -5)
	f.Fuzz(func(t *testing.T, action, subject, from, to string, before int64, limit int) {
		q := tenants.AuditQuery{Action: action, Subject: subject, From: from, To: to, Before: before, Limit: limit}
		filter, err := q.Filter()
		if err != nil {
			p, ok := problem.As(err)
			require.True(t, ok, "%v", err)
			require.Equal(t, http.StatusUnprocessableEntity, p.Status)
			require.NotEmpty(t, p.Fields)
			for _, fl := range p.Fields {
				require.Contains(t, known, fl.Location)
			}
			return
		}
		es, err := tenants.ListAudit(ctx, r, filter)
		require.NoError(t, err, "%+v", filter)
		require.LessOrEqual(t, len(es), filter.Limit)
		for _, e := range es {
			switch {
			case filter.Action == "" || filter.Action == "*":
			case strings.HasSuffix(filter.Action, ".*"):
				require.True(t, strings.HasPrefix(e.Action, strings.TrimSuffix(filter.Action, "*")), "%s does not match %s", e.Action, filter.Action)
			default:
				require.Equal(t, filter.Action, e.Action)
			}
			if filter.Subject != "" {
				require.Equal(t, filter.Subject, e.Subject)
			}
			require.False(t, !filter.From.IsZero() && e.At.Before(filter.From))
			require.False(t, !filter.To.IsZero() && !e.At.Before(filter.To))
			require.False(t, filter.Before > 0 && e.ID >= filter.Before)
		}
		require.True(t, slices.IsSortedFunc(es, func(a, b tenants.AuditEntry) int { return int(b.ID - a.ID) }))
	})
}
