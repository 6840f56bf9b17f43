package portal_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"yamen/api/kratostest"
	"yamen/infra/demo"
	"yamen/modules/builtin"
	"yamen/modules/catalog"
	"yamen/tenants"
)

// BenchmarkPages renders each portal page for a tenant admin of the demo
// hall (yamen seed demo), signed in through Kratos, over HTTP. It reports
// the 95th percentile (p95-ms) and the page's weight (bytes).
//
//	go test -run '^$' -bench Pages -benchtime 2s ./portal/
func BenchmarkPages(b *testing.B) {
	bd := setup(b)
	reg, err := builtin.Registry()
	require.NoError(b, err)
	_, err = demo.Seed(context.Background(), bd.db, reg)
	require.NoError(b, err)
	tn, err := bd.db.TenantBySlug(context.Background(), "demo-hall")
	require.NoError(b, err)
	a := bd.staffAccount(b, "演示管理员")
	ctx := context.Background()
	require.NoError(b, bd.db.Tx(ctx, tn.ID, tenants.System().String(), func(tx *tenants.Tx) error {
		orgs, err := tenants.ListOrgs(ctx, tx, nil)
		if err != nil {
			return err
		}
		roles, err := tenants.ListRoles(ctx, tx)
		if err != nil {
			return err
		}
		var admin uuid.UUID
		for _, r := range roles {
			if r.Name == tenants.AdminRoleName {
				admin = r.ID
			}
		}
		m, err := tenants.CreateMember(ctx, tx, tenants.NewMember{OrgID: orgs[0].ID, Name: "演示管理员", Email: &a.email, RoleIDs: []uuid.UUID{admin}})
		if err != nil {
			return err
		}
		_, err = tenants.LinkIdentity(ctx, tx, m.ID, &a.identity)
		return err
	}))
	r, err := bd.db.Reader(tn.ID, tenants.System().String())
	require.NoError(b, err)
	halls, err := catalog.ListHalls(ctx, r, catalog.HallFilter{ActiveOnly: true})
	require.NoError(b, err)
	require.NotEmpty(b, halls)
	windows, err := catalog.ListWindows(ctx, r, catalog.WindowFilter{Hall: halls[0].ID.String()})
	require.NoError(b, err)
	require.NotEmpty(b, windows)
	c := client(b)
	bd.signIn(b, c, a)
	base := bd.url + "/t/" + tn.Slug + "/admin"
	t := "/t/" + tn.Slug
	hall := t + "/hall/" + halls[0].ID.String()
	citizen := bd.citizenAccount(b, "演示居民")
	district := seedRatings(b, bd, tn, citizen.identity)
	cc := client(b)
	bd.signIn(b, cc, citizen)
	pages := []struct {
		path string
		c    *http.Client
	}{}
	for _, pg := range []string{"/", "/auth/registration", base, base + "/modules", base + "/modules/messages/settings", base + "/orgs", base + "/staff", base + "/roles", base + "/roles/new", base + "/policies", base + "/audit",
		t + "/hall", hall, hall + "?q=%E8%AF%81", t + "/window", t + "/window/" + windows[0].ID.String(), t + "/board/" + halls[0].ID.String(),
		t + "/ratings/public", t + "/ratings/rectifications", t + "/ratings/rectifications/B-1", t + "/ratings/dashboard", t + "/ratings/dashboard?region=" + district, t + "/ratings/province"} {
		pages = append(pages, struct {
			path string
			c    *http.Client
		}{pg, c})
	}
	for _, pg := range []string{t + "/me/cases", t + "/me/cases/B-1", t + "/me/tickets"} {
		pages = append(pages, struct {
			path string
			c    *http.Client
		}{pg, cc})
	}
	for _, pc := range pages {
		pg, c := pc.path, pc.c
		u := pg
		if u[0] == '/' {
			u = bd.url + pg
		}
		b.Run(pg, func(b *testing.B) {
			var took []time.Duration
			var size int
			for b.Loop() {
				start := time.Now()
				resp, err := c.Get(u)
				require.NoError(b, err)
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				require.NoError(b, err)
				took = append(took, time.Since(start))
				if resp.StatusCode == http.StatusFound {
					continue // a new flow: its page is the next request's
				}
				require.Equal(b, http.StatusOK, resp.StatusCode, string(body))
				size = len(body)
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)*95/100].Microseconds())/1000, "p95-ms")
			b.ReportMetric(float64(size), "bytes")
			require.Less(b, size, 100<<10, "a page weighs under 100 KB")
		})
	}
}

// citizenAccount creates a citizen identity in Kratos; signIn signs it in
// with its phone number.
func (b *bundle) citizenAccount(t testing.TB, name string) account {
	t.Helper()
	r := random()
	phone := fmt.Sprintf("138%08d", time.Now().UnixNano()%100000000)
	a := account{email: phone, phone: phone, password: "Yamen-" + r + "-密码"}
	status, id := kratostest.JSON(t, "POST", b.admin+"/admin/identities", map[string]any{
		"schema_id":   "citizen",
		"traits":      map[string]any{"phone": "+86" + phone, "name": name},
		"credentials": map[string]any{"password": map[string]any{"config": map[string]any{"password": a.password}}},
	})
	require.Equal(t, http.StatusCreated, status, "%v", id)
	a.identity = uuid.MustParse(id["id"].(string))
	t.Cleanup(func() { kratostest.JSON(t, "DELETE", b.admin+"/admin/identities/"+a.identity.String(), nil) })
	return a
}

// seedRatings gives tn a month of 3,000 rated cases over eight
// departments and the regions under the tenant's, the bad ones with their
// rectifications, thirty of them the citizen's; it returns a district to
// drill down to.
func seedRatings(t testing.TB, bd *bundle, tn tenants.Tenant, citizen uuid.UUID) string {
	t.Helper()
	ctx := context.Background()
	var district string
	require.NoError(t, bd.db.Tx(ctx, tn.ID, tenants.System().String(), func(tx *tenants.Tx) error {
		if _, err := tx.Exec(ctx, `WITH codes AS (SELECT array_agg(code ORDER BY code) AS c FROM regions
				WHERE left(code, 4) = left((SELECT region_code FROM tenants WHERE id = current_tenant()), 4))
			INSERT INTO rating_cases (tenant_id, case_no, source, item_name, department_code, department_name, region_code, channel, rate_token,
				handled_at, level, rating_channel, rated_at, citizen_id, rectify_status)
			SELECT current_tenant(), 'B-' || g, 'push', '事项' || (g % 20), 'D' || (g % 8), '部门' || (g % 8), codes.c[1 + g % array_length(codes.c, 1)], 'window',
				md5(g::text), now() - (g % 30) * interval '1 day', 1 + g % 5, 'pc', now() - (g % 30) * interval '1 day',
				CASE WHEN g % 100 = 1 THEN $1::uuid END, CASE WHEN g % 5 < 2 THEN 'open' END
			FROM generate_series(1, 3000) g, codes
			ON CONFLICT DO NOTHING`, citizen); err != nil {
			return err
		}
		// The demo tenant outlives a run: the cases become this run's
		// citizen's.
		if _, err := tx.Exec(ctx, `UPDATE rating_cases SET citizen_id = CASE WHEN substr(case_no, 3)::int % 100 = 1 THEN $1::uuid END
			WHERE case_no LIKE 'B-%'`, citizen); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO rating_rectifications (tenant_id, case_id, department_name, deadline)
			SELECT current_tenant(), id, department_name, handled_at + interval '5 days' FROM rating_cases WHERE level <= 2 AND case_no LIKE 'B-%'
			ON CONFLICT DO NOTHING`); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT code FROM regions WHERE parent_code = (SELECT region_code FROM tenants WHERE id = current_tenant()) ORDER BY code LIMIT 1`).Scan(&district)
	}))
	return district
}
