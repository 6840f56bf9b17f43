package portal_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"yamen/modules/booking"
	"yamen/modules/queue"
	"yamen/tenants"
	"yamen/tenants/tenanttest"
)

// openHall gives tn a hall open around the clock every day, one
// department, one item that can be booked (30-minute slots of 3, from now
// on, two days ahead, any day) and ticketed, and one window handling it.
func (b *bundle) openHall(t testing.TB, tn tenants.Tenant) (hall, item, window uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, b.db.Tx(ctx, tn.ID, tenants.System().String(), func(tx *tenants.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO catalog_halls (tenant_id, code, name, region_code, address) VALUES (current_tenant(), $1, '市民服务中心𠀀', $2, '人民路 1 号') RETURNING id`,
			"H"+uuid.NewString()[:6], tenanttest.CityCode).Scan(&hall); err != nil {
			return err
		}
		for wd := 1; wd <= 7; wd++ {
			if _, err := tx.Exec(ctx, `INSERT INTO catalog_hall_hours (tenant_id, hall_id, weekday, opens, closes) VALUES (current_tenant(), $1, $2, '00:00', '23:59')`, hall, wd); err != nil {
				return err
			}
		}
		var dept uuid.UUID
		if err := tx.QueryRow(ctx, `INSERT INTO catalog_departments (tenant_id, hall_id, code, name) VALUES (current_tenant(), $1, $2, '公安户政䶮') RETURNING id`,
			hall, "D"+uuid.NewString()[:6]).Scan(&dept); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO catalog_items (tenant_id, code, name, department_id, bookable, ticketable, real_name, ticket_prefix, theme)
			VALUES (current_tenant(), $1, '居住证办理𠀀', $2, true, true, false, 'J', '户籍办理') RETURNING id`, "I"+uuid.NewString()[:6], dept).Scan(&item); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO catalog_windows (tenant_id, hall_id, number, name, department_id, location) VALUES (current_tenant(), $1, 3, '综合窗口', $2, '一楼') RETURNING id`,
			hall, dept).Scan(&window); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO catalog_window_items (tenant_id, window_id, item_id) VALUES (current_tenant(), $1, $2)`, window, item); err != nil {
			return err
		}
		n := func(v int) *int { return &v }
		no := false
		_, err := booking.PutRule(ctx, tx, booking.TargetItem, item, booking.Rule{SlotMinutes: n(30), Capacity: n(3), DaysAhead: n(2), MinNoticeMinutes: n(0),
			CancelMinutesBefore: n(0), WorkingDaysOnly: &no})
		return err
	}))
	return hall, item, window
}

// The main scenario in Chromium, as far as the modules on main
// go: a citizen registers, finds the item in the hall, books a slot and
// shows the QR code; a clerk checks the pass in at the window, calls the
// citizen and finishes the case. (Rating it and the rectification wait for
// the ratings module.) axe-core checks every page; screenshots at 390 and
// 1366 px.
func TestBrowserCitizenBooksAndIsServed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	clerk := b.staffAccount(t, "窗口人员")
	tn := b.tenantAdmin(t, clerk, tenants.KindAffairsHall, "messages", "catalog", "booking", "queue")
	b.enable(t, tn, "messages")
	hall, item, window := b.openHall(t, tn)
	ctx := browser(t)
	base := b.url + "/t/" + tn.Slug

	// The citizen registers.
	phone := "136" + strings.Map(func(r rune) rune {
		if r > '9' {
			return r - 'a' + '0'
		}
		return r
	}, random()[:8])
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(b.url+"/auth/registration"),
		chromedp.WaitVisible(`input[name="traits.phone"]`, chromedp.ByQuery),
		chromedp.SendKeys(`input[name="traits.phone"]`, phone, chromedp.ByQuery),
		chromedp.SendKeys(`input[name="traits.name"]`, "李䶮", chromedp.ByQuery),
		chromedp.SendKeys(`input[name="password"]`, "Yamen-"+random()+"-密码", chromedp.ByQuery),
		chromedp.Click(`button[name="method"][value="password"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`form[action="/auth/logout"]`, chromedp.ByQuery),
	))
	status, ids := kratosJSONList(t, b.admin+"/admin/identities?credentials_identifier=%2B86"+phone)
	require.Equal(t, 200, status)
	require.Len(t, ids, 1)
	t.Cleanup(func() { kratosJSON(t, "DELETE", b.admin+"/admin/identities/"+ids[0]["id"].(string), nil) })

	// The hall, a search by theme, the item's slots.
	require.NoError(t, chromedp.Run(ctx, chromedp.Navigate(base+"/hall"), chromedp.WaitVisible(`main .cards`, chromedp.ByQuery)))
	check(t, ctx, "hall-list")
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Click(`a[href="/t/`+tn.Slug+`/hall/`+hall.String()+`"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#q`, chromedp.ByQuery),
		chromedp.SetValue(`#theme`, "户籍办理", chromedp.ByQuery),
		chromedp.Click(`form.filters button`, chromedp.ByQuery),
		chromedp.WaitVisible(`#i-`+item.String(), chromedp.ByQuery),
	))
	require.Contains(t, text(t, ctx, "#items"), "居住证办理𠀀")
	check(t, ctx, "hall")
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Click(`#i-`+item.String()+` a`, chromedp.ByQuery),
		chromedp.WaitVisible(`form[action$="/book"] button`, chromedp.ByQuery),
	))
	check(t, ctx, "slots")

	// Book the first slot: the appointment with its QR code.
	var pass string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Click(`form[action$="/book"] button`, chromedp.ByQuery),
		chromedp.WaitVisible(`.qr img`, chromedp.ByQuery),
		chromedp.Evaluate(`document.getElementById("pass").textContent`, &pass),
	))
	require.Contains(t, text(t, ctx, "p.notice"), "预约成功")
	require.NotEmpty(t, pass)
	var loaded bool
	require.NoError(t, chromedp.Run(ctx, chromedp.Evaluate(`document.querySelector(".qr img").naturalWidth > 0`, &loaded)))
	require.True(t, loaded, "the QR code image loads under the CSP")
	check(t, ctx, "appointment")
	require.NoError(t, chromedp.Run(ctx, chromedp.Navigate(base+"/me/appointments"), chromedp.WaitVisible(`main table`, chromedp.ByQuery)))
	require.Contains(t, text(t, ctx, "main table"), "已预约")
	check(t, ctx, "appointments")

	// The clerk signs in at the window and checks the pass in.
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Click(`form[action="/auth/logout"] button`, chromedp.ByQuery),
		chromedp.WaitVisible(`a[href="/auth/login"]`, chromedp.ByQuery),
		chromedp.Navigate(base+"/window/"+window.String()),
		chromedp.WaitVisible(`input[name="identifier"]`, chromedp.ByQuery),
		chromedp.SendKeys(`input[name="identifier"]`, clerk.email, chromedp.ByQuery),
		chromedp.SendKeys(`input[name="password"]`, clerk.password, chromedp.ByQuery),
		chromedp.Click(`button[name="method"][value="password"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#token`, chromedp.ByQuery),
	))
	check(t, ctx, "window-idle")
	require.NoError(t, chromedp.Run(ctx,
		chromedp.SetValue(`#token`, pass, chromedp.ByQuery),
		chromedp.Click(`#check-in`, chromedp.ByQuery),
		chromedp.WaitVisible(`#issued`, chromedp.ByQuery),
	))
	require.Contains(t, text(t, ctx, "#issued"), "J001")

	// Call and finish.
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Click(`#call-next`, chromedp.ByQuery),
		chromedp.WaitVisible(`#current`, chromedp.ByQuery),
	))
	require.Equal(t, "J001", strings.TrimSpace(text(t, ctx, "#current")))
	require.Contains(t, text(t, ctx, "main"), "李䶮")
	check(t, ctx, "window-serving")
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Click(`#finish`, chromedp.ByQuery),
		chromedp.WaitVisible(`#call-next`, chromedp.ByQuery),
	))
	require.Contains(t, text(t, ctx, "p.notice"), "已办结")

	// The board shows the hall; the case is finished in the queue.
	require.NoError(t, chromedp.Run(ctx, chromedp.Navigate(base+"/board/"+hall.String()), chromedp.WaitVisible(`#calls-h`, chromedp.ByQuery)))
	check(t, ctx, "board")
	r, err := b.db.Reader(tn.ID, tenants.System().String())
	require.NoError(t, err)
	var ticket uuid.UUID
	require.NoError(t, r.QueryRow(context.Background(), "SELECT id FROM queue_tickets WHERE number = 'J001'").Scan(&ticket))
	got, err := queue.GetTicket(context.Background(), r, ticket)
	require.NoError(t, err)
	require.Equal(t, "finished", got.Status)
	require.Equal(t, "appointment", got.Kind)
}

// enable switches a module on in tn.
func (b *bundle) enable(t testing.TB, tn tenants.Tenant, module string) {
	t.Helper()
	require.NoError(t, b.db.Tx(context.Background(), tn.ID, tenants.System().String(), func(tx *tenants.Tx) error {
		return tenants.SetEnabled(context.Background(), tx, module, true)
	}))
}
