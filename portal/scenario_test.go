package portal_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"yamen/api/kratostest"
	"yamen/modules"
	"yamen/modules/booking"
	"yamen/modules/queue"
	"yamen/modules/ratings"
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

// The main scenario in Chromium: a citizen registers, finds the
// item in the hall, books a slot and shows the QR code; a clerk checks the
// pass in at the window, calls the citizen and finishes the case, which
// the queue hands to the ratings module through the outbox; the citizen
// rates it 不满意 (first without a tag: refused at the field), the manager
// reports back on the rectification, and the citizen rates the
// rectification; the public summary publishes it. axe-core checks every
// page; screenshots at 390 and 1366 px.
func TestBrowserCitizenBooksAndIsServed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	clerk := b.staffAccount(t, "窗口人员")
	tn := b.tenantAdmin(t, clerk, tenants.KindAffairsHall, "messages", "catalog", "booking", "queue", "ratings")
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
	password := "Yamen-" + random() + "-密码"
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(b.url+"/auth/registration"),
		chromedp.WaitVisible(`input[name="traits.phone"]`, chromedp.ByQuery),
		chromedp.SendKeys(`input[name="traits.phone"]`, phone, chromedp.ByQuery),
		chromedp.SendKeys(`input[name="traits.name"]`, "李䶮", chromedp.ByQuery),
		chromedp.SendKeys(`input[name="password"]`, password, chromedp.ByQuery),
		chromedp.Click(`button[name="method"][value="password"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`form[action="/auth/logout"]`, chromedp.ByQuery),
	))
	status, ids := kratosJSONList(t, b.admin+"/admin/identities?credentials_identifier=%2B86"+phone)
	require.Equal(t, 200, status)
	require.Len(t, ids, 1)
	t.Cleanup(func() { kratostest.JSON(t, "DELETE", b.admin+"/admin/identities/"+ids[0]["id"].(string), nil) })

	// The hall, a search by theme, the item's slots.
	require.NoError(t, chromedp.Run(ctx, chromedp.Navigate(base+"/hall"), chromedp.WaitVisible(`main .cards`, chromedp.ByQuery)))
	check(t, ctx, "hall-list")
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Click(`a[href="/t/`+tn.Slug+`/hall/`+hall.String()+`"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#q`, chromedp.ByQuery),
		chromedp.SetValue(`#theme`, "户籍办理", chromedp.ByQuery),
		// The item is listed before the search too: mark the page, and wait
		// for the search's page to replace it before looking for the item.
		chromedp.Evaluate(`document.body.dataset.before = "search"`, nil),
		chromedp.Click(`form.filters button`, chromedp.ByQuery),
		chromedp.WaitNotPresent(`body[data-before]`, chromedp.ByQuery),
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

	// The worker's part: the queue's ratings:case task creates the case.
	caseNo := b.runCaseTask(t, tn)
	var badTag string
	tags, err := ratings.ListTags(context.Background(), r)
	require.NoError(t, err)
	for _, tg := range tags {
		if tg.Level == 2 && tg.Active && badTag == "" {
			badTag = tg.Code
		}
	}
	require.NotEmpty(t, badTag, "the dictionary has tags for 不满意")

	// The manager's dashboard and the (empty) rectification queue.
	require.NoError(t, chromedp.Run(ctx, chromedp.Navigate(base+"/ratings/rectifications"), chromedp.WaitVisible(`main h1`, chromedp.ByQuery)))
	check(t, ctx, "rectifications-empty")

	// The citizen signs in and rates the case 不满意: without a tag it is
	// refused at the tags, with one it is taken.
	signIn := func(identifier, pw string) {
		require.NoError(t, chromedp.Run(ctx,
			chromedp.Click(`form[action="/auth/logout"] button`, chromedp.ByQuery),
			chromedp.WaitVisible(`a[href="/auth/login"]`, chromedp.ByQuery),
			chromedp.Navigate(b.url+"/auth/login"),
			chromedp.WaitVisible(`input[name="identifier"]`, chromedp.ByQuery),
			chromedp.SendKeys(`input[name="identifier"]`, identifier, chromedp.ByQuery),
			chromedp.SendKeys(`input[name="password"]`, pw, chromedp.ByQuery),
			chromedp.Click(`button[name="method"][value="password"]`, chromedp.ByQuery),
			chromedp.WaitVisible(`form[action="/auth/logout"]`, chromedp.ByQuery),
		))
	}
	signIn(phone, password)
	require.NoError(t, chromedp.Run(ctx, chromedp.Navigate(base+"/me/cases"), chromedp.WaitVisible(`main table`, chromedp.ByQuery)))
	require.Contains(t, text(t, ctx, "#c-"+caseNo), "待评价")
	check(t, ctx, "my-cases")
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Click(`#c-`+caseNo+` a`, chromedp.ByQuery),
		chromedp.WaitVisible(`#level-2`, chromedp.ByQuery),
	))
	check(t, ctx, "case-rate")
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Click(`#level-2`, chromedp.ByQuery),
		chromedp.SendKeys(`#comment`, "等候太久𠀀", chromedp.ByQuery),
		chromedp.Click(`#rate`, chromedp.ByQuery),
		chromedp.WaitVisible(`#field-tags .field-error`, chromedp.ByQuery),
	))
	require.Contains(t, text(t, ctx, "#field-tags .field-error"), "标签")
	check(t, ctx, "case-rate-error")
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Click(`#tag-`+badTag, chromedp.ByQuery),
		chromedp.Click(`#rate`, chromedp.ByQuery),
		chromedp.WaitVisible(`#rating`, chromedp.ByQuery),
	))
	require.Contains(t, text(t, ctx, "p.notice"), "评价已提交")
	require.Contains(t, text(t, ctx, "#rating"), "不满意")
	require.Contains(t, text(t, ctx, "#rect-status"), "正在整改")
	check(t, ctx, "case-rated")
	// A follow-up, within the allowed days.
	require.NoError(t, chromedp.Run(ctx,
		chromedp.SendKeys(`#fu-comment`, "补充：窗口人员态度尚可䶮", chromedp.ByQuery),
		chromedp.Click(`#follow-up-submit`, chromedp.ByQuery),
		chromedp.WaitVisible(`#follow-up`, chromedp.ByQuery),
	))
	require.Contains(t, text(t, ctx, "#follow-up"), "态度尚可")

	// The manager sees the rectification, overdue or not, and reports back.
	signIn(clerk.email, clerk.password)
	require.NoError(t, chromedp.Run(ctx, chromedp.Navigate(base+"/ratings/rectifications"), chromedp.WaitVisible(`#r-`+caseNo, chromedp.ByQuery)))
	require.Contains(t, text(t, ctx, "#r-"+caseNo), "待整改")
	check(t, ctx, "rectifications")
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Click(`#r-`+caseNo+` a`, chromedp.ByQuery),
		chromedp.WaitVisible(`#answer`, chromedp.ByQuery),
		chromedp.Click(`#outcome-rectified_at_once`, chromedp.ByQuery),
		chromedp.SendKeys(`#feedback`, "已加开窗口，缩短等候𠀀", chromedp.ByQuery),
		chromedp.Click(`#answer`, chromedp.ByQuery),
		chromedp.WaitVisible(`p.notice`, chromedp.ByQuery),
	))
	require.Contains(t, text(t, ctx, "#rect-status"), "已反馈")
	check(t, ctx, "rectification")
	require.NoError(t, chromedp.Run(ctx, chromedp.Navigate(base+"/ratings/dashboard"), chromedp.WaitVisible(`#regions`, chromedp.ByQuery)))
	require.Contains(t, text(t, ctx, "main"), "公安户政䶮")
	check(t, ctx, "ratings-dashboard")
	require.NoError(t, chromedp.Run(ctx, chromedp.Navigate(base+"/ratings/province"), chromedp.WaitVisible(`main h1`, chromedp.ByQuery)))
	require.Contains(t, text(t, ctx, "main"), caseNo, "the rating waits for a provincial endpoint")
	check(t, ctx, "ratings-province")

	// The citizen sees the rectification and rates it; it is published.
	signIn(phone, password)
	require.NoError(t, chromedp.Run(ctx, chromedp.Navigate(base+"/me/cases/"+caseNo), chromedp.WaitVisible(`#second-submit`, chromedp.ByQuery)))
	require.Contains(t, text(t, ctx, "#rect"), "已加开窗口")
	check(t, ctx, "case-second")
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Click(`#second-satisfied`, chromedp.ByQuery),
		chromedp.Click(`#second-submit`, chromedp.ByQuery),
		chromedp.WaitVisible(`#second`, chromedp.ByQuery),
	))
	require.Contains(t, text(t, ctx, "#second"), "满意")
	rect, err := ratings.GetRectification(context.Background(), r, caseNo)
	require.NoError(t, err)
	require.Equal(t, "closed", rect.Status)
	require.NoError(t, chromedp.Run(ctx, chromedp.Navigate(base+"/ratings/public"), chromedp.WaitVisible(`#summary`, chromedp.ByQuery)))
	require.Contains(t, text(t, ctx, "main table"), "已加开窗口")
	require.NotContains(t, text(t, ctx, "main"), "李䶮", "no personal data in the summary")
	check(t, ctx, "ratings-public")
}

// runCaseTask does what the worker does with the ratings:case task that
// finishing a ticket put in the outbox, and returns the case number.
func (b *bundle) runCaseTask(t testing.TB, tn tenants.Tenant) string {
	t.Helper()
	ctx := context.Background()
	var handle func(context.Context, *tenants.Tx, []byte) error
	for _, m := range b.reg.All() {
		if tp, ok := m.(modules.TaskProvider); ok {
			for _, task := range tp.Tasks() {
				if task.Type == queue.TaskCase {
					handle = task.Handle
				}
			}
		}
	}
	require.NotNil(t, handle, "the ratings module handles ratings:case")
	var caseNo string
	require.NoError(t, b.db.Tx(ctx, tn.ID, tenants.System().String(), func(tx *tenants.Tx) error {
		var raw []byte
		if err := tx.QueryRow(ctx, "SELECT payload FROM outbox WHERE task_type = $1", queue.TaskCase).Scan(&raw); err != nil {
			return err
		}
		var p queue.CasePayload
		if err := json.Unmarshal(raw, &p); err != nil {
			return err
		}
		caseNo = p.CaseNo
		return handle(ctx, tx, raw)
	}))
	return caseNo
}

// enable switches a module on in tn.
func (b *bundle) enable(t testing.TB, tn tenants.Tenant, module string) {
	t.Helper()
	require.NoError(t, b.db.Tx(context.Background(), tn.ID, tenants.System().String(), func(tx *tenants.Tx) error {
		return tenants.SetEnabled(context.Background(), tx, module, true)
	}))
}
