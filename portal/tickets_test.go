package portal_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"yamen/api/kratostest"
	"yamen/modules/queue"
	"yamen/tenants"
)

// registerCitizen registers a citizen in the browser, who stays signed in.
func (b *bundle) registerCitizen(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	phone := "135" + strings.Map(func(r rune) rune {
		if r > '9' {
			return r - 'a' + '0'
		}
		return r
	}, random()[:8])
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(b.url+"/auth/registration"),
		chromedp.WaitVisible(`input[name="traits.phone"]`, chromedp.ByQuery),
		chromedp.SendKeys(`input[name="traits.phone"]`, phone, chromedp.ByQuery),
		chromedp.SendKeys(`input[name="traits.name"]`, name, chromedp.ByQuery),
		chromedp.SendKeys(`input[name="password"]`, "Yamen-"+random()+"-密码", chromedp.ByQuery),
		chromedp.Click(`button[name="method"][value="password"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`form[action="/auth/logout"]`, chromedp.ByQuery),
	))
	status, ids := kratosJSONList(t, b.admin+"/admin/identities?credentials_identifier=%2B86"+phone)
	require.Equal(t, 200, status)
	require.Len(t, ids, 1)
	t.Cleanup(func() { kratostest.JSON(t, "DELETE", b.admin+"/admin/identities/"+ids[0]["id"].(string), nil) })
}

// A citizen takes an on-site ticket on their phone and watches its place:
// when a window calls it, the page says where to go without a reload.
func TestBrowserCitizenTakesTicket(t *testing.T) {
	t.Parallel()
	b := setup(t)
	clerk := b.staffAccount(t, "窗口人员")
	tn := b.tenantAdmin(t, clerk, tenants.KindAffairsHall, "messages", "catalog", "queue")
	_, item, window := b.openHall(t, tn)
	ctx := browser(t)
	base := b.url + "/t/" + tn.Slug
	b.registerCitizen(t, ctx, "赵𠀀")

	// The tenant verifies every ID number: the citizen without a verified
	// one is refused, with the reason.
	require.NoError(t, chromedp.Run(ctx, chromedp.Navigate(base+"/me/tickets"), chromedp.WaitVisible(`#take-`+item.String(), chromedp.ByQuery)))
	check(t, ctx, "tickets")
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Click(`#take-`+item.String(), chromedp.ByQuery),
		chromedp.WaitVisible(`#take-error`, chromedp.ByQuery),
	))
	require.Contains(t, text(t, ctx, "#take-error"), "实名")
	check(t, ctx, "tickets-refused")

	// Without that setting, the item takes the ticket in the citizen's name.
	require.NoError(t, b.db.Tx(context.Background(), tn.ID, tenants.System().String(), func(tx *tenants.Tx) error {
		_, err := tx.Exec(context.Background(), `UPDATE tenant_modules SET settings = settings || '{"verify_identity": false}' WHERE module = 'queue'`)
		return err
	}))
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(base+"/me/tickets"),
		chromedp.WaitVisible(`#take-`+item.String(), chromedp.ByQuery),
		chromedp.Click(`#take-`+item.String(), chromedp.ByQuery),
		chromedp.WaitVisible(`#number`, chromedp.ByQuery),
	))
	require.Equal(t, "J001", strings.TrimSpace(text(t, ctx, "#number")))
	require.Contains(t, text(t, ctx, "#status"), "等候中")
	check(t, ctx, "ticket")

	// A window calls it: the page follows.
	var qm *queue.Module
	for _, m := range b.reg.All() {
		if q, ok := m.(*queue.Module); ok {
			qm = q
		}
	}
	require.NoError(t, b.db.Tx(context.Background(), tn.ID, tenants.System().String(), func(tx *tenants.Tx) error {
		tk, err := qm.CallNextIn(context.Background(), tx, window, nil)
		require.Equal(t, "赵𠀀", tk.CitizenName)
		return err
	}))
	require.NoError(t, chromedp.Run(ctx, chromedp.Poll(`document.getElementById("status").textContent.indexOf("已叫号") >= 0`, nil,
		chromedp.WithPollingTimeout(20*time.Second))))
	require.Contains(t, text(t, ctx, "#window"), "3 号窗口")
}
