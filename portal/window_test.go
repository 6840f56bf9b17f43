package portal_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"yamen/modules/queue"
	"yamen/modules/queue/queuetest"
	"yamen/tenants"
)

// queueOf is the bundle's queue module, to issue tickets as a kiosk would.
func (b *bundle) queueOf(t testing.TB) *queue.Module {
	t.Helper()
	for _, m := range b.reg.All() {
		if q, ok := m.(*queue.Module); ok {
			return q
		}
	}
	t.Fatal("no queue module in the registry")
	return nil
}

// validID is a resident ID number with a good check character.
const validID = "11010519491231002X"

// issue takes an on-site ticket for item at a kiosk.
func (b *bundle) issue(t testing.TB, h queuetest.Hall, item string) queue.Ticket {
	t.Helper()
	var tk queue.Ticket
	require.NoError(t, b.db.Tx(context.Background(), h.Tenant.ID, tenants.System().String(), func(tx *tenants.Tx) error {
		var err error
		tk, err = b.queueOf(t).IssueIn(context.Background(), tx, queue.NewTicket{ItemID: item, CitizenName: "张䶮", IDNumber: validID})
		return err
	}))
	return tk
}

// A clerk picks a window, calls the next citizen, recalls, cannot mark a
// no-show before enough recalls, transfers and finishes; the hall's board
// shows the call to anyone; the waiting counts follow.
func TestWindowCallsRecallsTransfersAndFinishes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.staffAccount(t, "窗口人员")
	tn := b.tenantAdmin(t, a, tenants.KindAffairsHall, "messages", "catalog", "queue")
	h := queuetest.Make(t, b.db, tn, 2)
	first := b.issue(t, h, h.ItemB.String())
	c := client(t)
	b.signIn(t, c, a)

	base := b.url + "/t/" + tn.Slug + "/window"
	p := get(t, c, base)
	require.Equal(t, http.StatusOK, p.status, p.body)
	require.Contains(t, p.body, "政务服务中心𠀀")
	require.Contains(t, p.body, "/window/"+h.Windows[0].String())

	w := base + "/" + h.Windows[0].String()
	p = get(t, c, w)
	require.Equal(t, http.StatusOK, p.status, p.body)
	require.Contains(t, p.body, `id="call-next"`)
	require.Regexp(t, `id="w-`+h.ItemB.String()+`">.*<td class="num">1</td>`, p.body, "one waits for item B")
	token := p.csrf(t)

	p = post(t, c, w+"/call", url.Values{"_csrf": {token}})
	require.Equal(t, http.StatusSeeOther, p.status, p.body)
	p = get(t, c, w+"?done=called")
	require.Contains(t, p.body, `id="current">`+first.Number+`<`)
	require.Contains(t, p.body, "张䶮")
	require.Contains(t, p.body, "110105********002X", "the ID number is masked")
	require.Contains(t, p.body, "已叫号。")

	// The board shows the call to anyone, signed in or not.
	board := get(t, client(t), b.url+"/t/"+tn.Slug+"/board/"+h.ID.String())
	require.Equal(t, http.StatusOK, board.status, board.body)
	require.Contains(t, board.body, `<span class="call-number">`+first.Number+`</span>`)
	require.Contains(t, board.body, "请到 1 号窗口")
	require.Contains(t, board.body, `data-stream="/v1/t/`+tn.Slug+`/queue/halls/`+h.ID.String()+`/board/stream"`)

	// A second call while serving is refused on the page.
	p = post(t, c, w+"/call", url.Values{"_csrf": {token}})
	require.Equal(t, http.StatusConflict, p.status, p.body)
	require.Contains(t, p.body, "窗口还有正在叫号的")

	act := w + "/tickets/" + first.ID.String()
	p = post(t, c, act+"/no-show", url.Values{"_csrf": {token}})
	require.Equal(t, http.StatusConflict, p.status, p.body)
	require.Contains(t, p.body, "须先重呼 2 次才能过号")
	p = post(t, c, act+"/recall", url.Values{"_csrf": {token}})
	require.Equal(t, http.StatusSeeOther, p.status, p.body)

	// Transfer to item A: it waits again, the window is free.
	p = post(t, c, act+"/transfer", url.Values{"_csrf": {token}, "item_id": {h.ItemA.String()}})
	require.Equal(t, http.StatusSeeOther, p.status, p.body)
	p = get(t, c, w)
	require.Contains(t, p.body, `id="call-next"`)
	require.Regexp(t, `id="w-`+h.ItemA.String()+`">.*<td class="num">1</td>`, p.body)

	// Called again and finished.
	p = post(t, c, w+"/call", url.Values{"_csrf": {token}})
	require.Equal(t, http.StatusSeeOther, p.status, p.body)
	p = post(t, c, act+"/finish", url.Values{"_csrf": {token}})
	require.Equal(t, http.StatusSeeOther, p.status, p.body)
	r, err := b.db.Reader(tn.ID, tenants.System().String())
	require.NoError(t, err)
	got, err := queue.GetTicket(context.Background(), r, first.ID)
	require.NoError(t, err)
	require.Equal(t, "finished", got.Status)
	require.Equal(t, 1, got.Transfers)

	// Acting on a ticket the window no longer serves is refused.
	p = post(t, c, act+"/recall", url.Values{"_csrf": {token}})
	require.Equal(t, http.StatusConflict, p.status, p.body)

	// Nobody waits: said on the page, nothing breaks.
	p = post(t, c, w+"/call", url.Values{"_csrf": {token}})
	require.Equal(t, http.StatusNotFound, p.status, p.body)
	require.Contains(t, p.body, "没有等候的号")

	// A bad pass at check-in is refused at the page.
	p = post(t, c, w+"/checkin", url.Values{"_csrf": {token}, "token": {"not-a-pass"}})
	require.Equal(t, http.StatusUnprocessableEntity, p.status, p.body)
	require.Contains(t, p.body, "预约二维码无效")
}

// Window pages are for the tenant's staff: a visitor is sent to sign in,
// staff of another tenant find nothing, and a window of another tenant is
// not found.
func TestWindowPagesAreTheTenantsOwn(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.staffAccount(t, "窗口人员")
	tn := b.tenantAdmin(t, a, tenants.KindAffairsHall, "messages", "catalog", "queue")
	other := b.tenantAdmin(t, b.staffAccount(t, "别人"), tenants.KindAffairsHall, "messages", "catalog", "queue")
	h := queuetest.Make(t, b.db, tn, 1)
	ho := queuetest.Make(t, b.db, other, 1)

	p := get(t, client(t), b.url+"/t/"+tn.Slug+"/window/"+h.Windows[0].String())
	require.Equal(t, http.StatusFound, p.status)

	c := client(t)
	b.signIn(t, c, a)
	p = get(t, c, b.url+"/t/"+other.Slug+"/window")
	require.Equal(t, http.StatusNotFound, p.status, p.body)
	p = get(t, c, b.url+"/t/"+tn.Slug+"/window/"+ho.Windows[0].String())
	require.Equal(t, http.StatusNotFound, p.status, "another tenant's window is not found")
	p = get(t, c, b.url+"/t/"+tn.Slug+"/board/"+ho.ID.String())
	require.Equal(t, http.StatusNotFound, p.status, "nor its board")
	p = get(t, c, b.url+"/t/"+tn.Slug+"/window")
	require.NotContains(t, p.body, ho.Windows[0].String())
}
