package portal_test

import (
	"context"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

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
	for _, pg := range []string{"/", "/auth/registration", base, base + "/modules", base + "/modules/messages/settings", base + "/orgs", base + "/staff", base + "/roles", base + "/roles/new", base + "/policies", base + "/audit",
		t + "/hall", hall, hall + "?q=%E8%AF%81", t + "/window", t + "/window/" + windows[0].ID.String(), t + "/board/" + halls[0].ID.String()} {
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
