package portal_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"yamen/modules/ratings"
	"yamen/tenants"
	"yamen/tenants/tenanttest"
)

func (b *bundle) ratingsModule(t testing.TB) *ratings.Module {
	t.Helper()
	for _, m := range b.reg.All() {
		if r, ok := m.(*ratings.Module); ok {
			return r
		}
	}
	t.Fatal("no ratings module")
	return nil
}

// A citizen's case pages over HTTP: a level is required (at the field), a
// follow-up after the allowed working days is refused with until when it
// was open, and another citizen's case is not found.
func TestCitizenCasePages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.staffAccount(t, "管理员")
	tn := b.tenantAdmin(t, admin, tenants.KindAffairsHall, "messages", "ratings")
	citizen := b.citizenAccount(t, "周䶮")
	m := b.ratingsModule(t)
	ctx := context.Background()
	now := time.Now()
	other := uuid.New()
	require.NoError(t, b.db.Tx(ctx, tn.ID, tenants.System().String(), func(tx *tenants.Tx) error {
		for no, who := range map[string]uuid.UUID{"P-NEW": citizen.identity, "P-OLD": citizen.identity, "P-OTHER": other} {
			handled := now.Add(-time.Hour)
			if no == "P-OLD" {
				handled = now.AddDate(0, 0, -40)
			}
			id := who
			if _, err := m.CreateCase(ctx, tx, ratings.NewCase{CaseNo: no, ItemName: "社保查询𠀀", DepartmentName: "人社局", RegionCode: tenanttest.DistrictCode,
				Channel: "window", CitizenID: &id, HandledAt: handled}, now); err != nil {
				return err
			}
		}
		_, err := m.Rate(ctx, tx, "P-OLD", ratings.RateInput{Level: 4, Channel: "pc"}, ratings.Rater{Subject: "test", Citizen: citizen.identity}, now.AddDate(0, 0, -30))
		return err
	}))
	c := client(t)
	b.signIn(t, c, citizen)
	base := b.url + "/t/" + tn.Slug + "/me/cases"

	p := get(t, c, base)
	require.Equal(t, http.StatusOK, p.status, p.body)
	require.Contains(t, p.body, "P-NEW")
	require.Contains(t, p.body, "P-OLD")
	require.NotContains(t, p.body, "P-OTHER")
	require.Equal(t, http.StatusNotFound, get(t, c, base+"/P-OTHER").status)

	p = get(t, c, base+"/P-NEW")
	require.Equal(t, http.StatusOK, p.status)
	p = post(t, c, base+"/P-NEW/rating", url.Values{"_csrf": {p.csrf(t)}, "comment": {"𠀀"}})
	require.Equal(t, http.StatusUnprocessableEntity, p.status)
	require.Contains(t, p.body, "请选择满意程度")
	require.Contains(t, p.body, `aria-describedby="level-err"`, "the error is tied to the field")

	p = get(t, c, base+"/P-OLD")
	require.Equal(t, http.StatusOK, p.status)
	p = post(t, c, base+"/P-OLD/follow-up", url.Values{"_csrf": {p.csrf(t)}, "comment": {"补充意见䶮"}})
	require.Equal(t, http.StatusConflict, p.status)
	require.Contains(t, p.body, "追加评价须在评价后5个工作日内提出")

	// Someone else's case cannot be rated either.
	p = post(t, c, base+"/P-OTHER/rating", url.Values{"_csrf": {p.csrf(t)}, "level": {"5"}})
	require.Equal(t, http.StatusNotFound, p.status)
	r, err := b.db.Reader(tn.ID, tenants.System().String())
	require.NoError(t, err)
	got, err := ratings.GetCase(ctx, r, "P-OTHER")
	require.NoError(t, err)
	require.Nil(t, got.Rating, "nothing changed")

	// The export is the ratings module's workbook, for staff.
	sc := client(t)
	b.signIn(t, sc, admin)
	resp, err := sc.Get(b.url + "/t/" + tn.Slug + "/ratings/export?by=region")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Content-Type"), "spreadsheetml")
	require.Equal(t, http.StatusForbidden, get(t, c, b.url+"/t/"+tn.Slug+"/ratings/rectifications").status, "citizens do not see the queue")

	// A bad rating a month old: its rectification is overdue, and marked.
	require.NoError(t, b.db.Tx(ctx, tn.ID, tenants.System().String(), func(tx *tenants.Tx) error {
		_, err := m.Rate(ctx, tx, "P-OTHER", ratings.RateInput{Level: 1, Tags: []string{"115"}, Channel: "pc"}, ratings.Rater{Subject: "test"}, now.AddDate(0, 0, -30))
		return err
	}))
	p = get(t, sc, b.url+"/t/"+tn.Slug+"/ratings/rectifications")
	require.Equal(t, http.StatusOK, p.status, p.body)
	require.Contains(t, p.body, `<tr id="r-P-OTHER" class="overdue">`)
	require.Contains(t, p.body, "已超期")
	p = get(t, sc, b.url+"/t/"+tn.Slug+"/ratings/rectifications?overdue=1&status=closed")
	require.NotContains(t, p.body, "P-OTHER", "filtered out")
	p = get(t, sc, b.url+"/t/"+tn.Slug+"/ratings/dashboard")
	require.Equal(t, http.StatusOK, p.status, p.body)
	require.Contains(t, p.body, `<svg class="chart"`)
	require.Contains(t, p.body, "?region="+tenanttest.DistrictCode, "a region to drill down to")
	p = get(t, sc, b.url+"/t/"+tn.Slug+"/ratings/dashboard?region="+tenanttest.DistrictCode)
	require.Equal(t, http.StatusOK, p.status, p.body)

	// Without a provincial endpoint, every rating waits, listed with why.
	p = get(t, sc, b.url+"/t/"+tn.Slug+"/ratings/province")
	require.Equal(t, http.StatusOK, p.status, p.body)
	require.Contains(t, p.body, "尚未配置省级接收地址")
	require.Contains(t, p.body, `<tr id="u-P-OTHER-rating">`)
	require.Contains(t, p.body, "未配置省级接收地址 (no province endpoint configured)")
	require.Equal(t, http.StatusForbidden, get(t, c, b.url+"/t/"+tn.Slug+"/ratings/province").status, "citizens do not see it")
	require.NotContains(t, p.body, `id="resend"`, "nothing to send again without an endpoint")

	// With an endpoint, the province is back before the retry waits are
	// over: the admin has everything sent again at once.
	require.NoError(t, b.db.Tx(ctx, tn.ID, tenants.System().String(), func(tx *tenants.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE tenant_modules SET settings = settings || jsonb_build_object('province', jsonb_build_array(jsonb_build_object('url', 'http://127.0.0.1:9/')))
			WHERE module = 'ratings'`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE rating_uploads SET due_at = now() + interval '1 hour'`)
		return err
	}))
	p = get(t, sc, b.url+"/t/"+tn.Slug+"/ratings/province")
	require.Contains(t, p.body, `id="resend"`)
	p = post(t, sc, b.url+"/t/"+tn.Slug+"/ratings/province/resend", url.Values{"_csrf": {p.csrf(t)}})
	require.Equal(t, http.StatusSeeOther, p.status, p.body)
	p = get(t, sc, b.url+p.header.Get("Location"))
	require.Contains(t, p.body, "已安排重新上报")
	var waiting int
	require.NoError(t, b.db.Tx(ctx, tn.ID, tenants.System().String(), func(tx *tenants.Tx) error {
		return tx.QueryRow(ctx, "SELECT count(*) FROM rating_uploads WHERE acknowledged_at IS NULL AND due_at > now()").Scan(&waiting)
	}))
	require.Zero(t, waiting, "everything is due")
}
