package queue_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"yamen/modules"
	"yamen/modules/booking/pass"
	"yamen/modules/queue"
	"yamen/modules/queue/queuetest"
	"yamen/problem"
	"yamen/tenants"
	"yamen/tenants/tenanttest"
)

type bundle struct {
	db *tenants.DB
	m  *queue.Module
}

func setup(t testing.TB) *bundle {
	t.Helper()
	db := tenanttest.DB(t)
	m := queue.New()
	require.NoError(t, m.Provision(context.Background(), modules.Env{DB: db.Pool, Setting: os.Getenv}))
	require.NoError(t, m.Validate())
	t.Cleanup(func() { _ = m.Cleanup() })
	return &bundle{db: db, m: m}
}

// tx runs fn in a committed transaction of the hall's tenant as subject.
func tx[T any](t testing.TB, b *bundle, tn tenants.Tenant, fn func(tx *tenants.Tx) (T, error)) (T, error) {
	t.Helper()
	var out T
	err := b.db.Tx(context.Background(), tn.ID, "system", func(tx *tenants.Tx) error {
		var err error
		out, err = fn(tx)
		return err
	})
	return out, err
}

func status(err error) int {
	if p, ok := problem.As(err); ok {
		return p.Status
	}
	return 0
}

func (b *bundle) issue(t testing.TB, h queuetest.Hall, in queue.NewTicket) queue.Ticket {
	t.Helper()
	tk, err := tx(t, b, h.Tenant, func(tx *tenants.Tx) (queue.Ticket, error) { return b.m.IssueIn(context.Background(), tx, in) })
	require.NoError(t, err)
	return tk
}

func (b *bundle) callNext(t testing.TB, h queuetest.Hall, window uuid.UUID) (queue.Ticket, error) {
	t.Helper()
	return tx(t, b, h.Tenant, func(tx *tenants.Tx) (queue.Ticket, error) {
		return b.m.CallNextIn(context.Background(), tx, window, nil)
	})
}

func (b *bundle) finish(t testing.TB, h queuetest.Hall, ticket uuid.UUID) queue.Ticket {
	t.Helper()
	tk, err := tx(t, b, h.Tenant, func(tx *tenants.Tx) (queue.Ticket, error) {
		return b.m.FinishIn(context.Background(), tx, ticket, nil)
	})
	require.NoError(t, err)
	return tk
}

func TestParseIDNumber(t *testing.T) {
	t.Parallel()
	today := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	got, err := queue.ParseIDNumber(" 11010519491231002x ", today)
	require.NoError(t, err)
	require.Equal(t, "11010519491231002X", got, "a lower-case x is the check character X")
	require.Equal(t, "110105********002X", queue.MaskIDNumber(got), "digits 7–14 are hidden")
	for _, id := range queuetest.IDNumbers(50) {
		_, err := queue.ParseIDNumber(id, today)
		require.NoError(t, err, id)
	}
	for _, bad := range []string{
		"",
		"110105194912310021",  // wrong check character
		"11010519491231002",   // 17 characters
		"1101051949123100212", // 19
		"11010519990230002X",  // 30 February
		"11010520301231002X",  // born in the future
		"1101051949123100X2",  // X inside
		"11010518491231002X",  // wrong check for this date
		"１１０１０５１９４９１２３１００２Ｘ",
	} {
		_, err := queue.ParseIDNumber(bad, today)
		require.ErrorIs(t, err, queue.ErrIDNumber, bad)
	}
}

// FuzzParseIDNumber: whatever a kiosk sends, parsing does not panic, and
// what it accepts is 18 characters that mask to 8 hidden digits.
func FuzzParseIDNumber(f *testing.F) {
	for _, s := range []string{"11010519491231002X", "110105194912310021", "", "x", "𠀀䶮", "000000000000000000"} {
		f.Add(s)
	}
	today := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		id, err := queue.ParseIDNumber(s, today)
		if err != nil {
			require.ErrorIs(t, err, queue.ErrIDNumber)
			return
		}
		require.Len(t, id, 18)
		again, err := queue.ParseIDNumber(id, today)
		require.NoError(t, err)
		require.Equal(t, id, again)
		masked := queue.MaskIDNumber(id)
		require.Equal(t, id[:6]+"********"+id[14:], masked)
	})
}

// Many windows call at once, with two staff at each window: every ticket
// is called exactly once, and all of them are.
func TestCallNextConcurrently(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tn := tenanttest.Tenant(t, tenants.KindAffairsHall, "catalog", "queue")
	h := queuetest.Make(t, b.db, tn, 12)
	const tickets = 240
	ids := queuetest.IDNumbers(tickets)
	want := map[uuid.UUID]bool{}
	for i := range tickets {
		item := h.ItemA
		if i%3 == 0 {
			item = h.ItemB
		}
		want[b.issue(t, h, queue.NewTicket{ItemID: item.String(), CitizenName: "市民", IDNumber: ids[i], Priority: i%7 == 0}).ID] = true
	}

	var mu sync.Mutex
	called := map[uuid.UUID]int{}
	byWindow := map[uuid.UUID]uuid.UUID{}
	var wg sync.WaitGroup
	for _, w := range h.Windows {
		for range 2 {
			wg.Go(func() {
				for {
					tk, err := b.callNext(t, h, w)
					if status(err) == http.StatusNotFound {
						return
					}
					if status(err) == http.StatusConflict {
						time.Sleep(time.Millisecond) // the other clerk at this window is serving
						continue
					}
					if !assertNoError(t, err) {
						return
					}
					mu.Lock()
					called[tk.ID]++
					byWindow[tk.ID] = w
					mu.Unlock()
					b.finish(t, h, tk.ID)
				}
			})
		}
	}
	wg.Wait()
	require.Len(t, called, tickets, "every ticket was called")
	for id, n := range called {
		require.Equal(t, 1, n, "ticket %s called %d times", id, n)
		require.True(t, want[id])
	}
}

func assertNoError(t testing.TB, err error) bool {
	if err != nil {
		t.Errorf("call next: %v", err)
		return false
	}
	return true
}

func TestNumbersAndOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tn := tenanttest.Tenant(t, tenants.KindAffairsHall, "catalog", "queue")
	h := queuetest.Make(t, b.db, tn, 1)
	ids := queuetest.IDNumbers(10)
	ctx := context.Background()

	first := b.issue(t, h, queue.NewTicket{ItemID: h.ItemA.String(), CitizenName: "甲", IDNumber: ids[0]})
	require.Equal(t, "A001", first.Number)
	require.Equal(t, "waiting", first.Status)
	require.Equal(t, "110105********0001"[:6], first.IDNumber[:6])
	require.Contains(t, first.IDNumber, "********")
	require.NotEmpty(t, first.Secret)
	require.Equal(t, "政务服务中心𠀀", first.HallName)
	require.Equal(t, "公安局出入境䶮", first.DepartmentName)
	second := b.issue(t, h, queue.NewTicket{ItemID: h.ItemB.String(), CitizenName: "乙", IDNumber: ids[1]})
	require.Equal(t, "B001", second.Number, "each prefix counts on its own")
	priority := b.issue(t, h, queue.NewTicket{ItemID: h.ItemA.String(), CitizenName: "丙", IDNumber: ids[2], Priority: true})
	require.Equal(t, "A002", priority.Number)
	require.Equal(t, 0, priority.WaitingAhead, "a priority ticket goes ahead of walk-ins")

	// Appointments: one whose slot began, one checked in early.
	now := time.Now()
	inSlot := h.Appointment(t, b.db, h.ItemA, now.Add(-5*time.Minute), now.Add(25*time.Minute))
	early := h.Appointment(t, b.db, h.ItemA, now.Add(20*time.Minute), now.Add(50*time.Minute))
	checkIn := func(id uuid.UUID) queue.Ticket {
		tk, err := tx(t, b, tn, func(tx *tenants.Tx) (queue.Ticket, error) {
			return b.m.CheckInIn(ctx, tx, queue.CheckIn{Token: pass.Sign(devKey(t), pass.Claim{Tenant: tn.ID, Appointment: id, Expires: now.Add(time.Hour)})}, now)
		})
		require.NoError(t, err)
		return tk
	}
	earlyTicket := checkIn(early)
	slotTicket := checkIn(inSlot)
	require.Equal(t, "appointment", slotTicket.Kind)
	require.Equal(t, "checked_in", h.Status(t, b.db, inSlot))
	require.Equal(t, 0, slotTicket.WaitingAhead, "an appointment in its slot goes first")

	var order []string
	for {
		tk, err := b.callNext(t, h, h.Windows[0])
		if status(err) == http.StatusNotFound {
			break
		}
		require.NoError(t, err)
		order = append(order, tk.Number)
		b.finish(t, h, tk.ID)
	}
	require.Equal(t, []string{slotTicket.Number, priority.Number, first.Number, second.Number, earlyTicket.Number}, order,
		"appointment in its slot, priority, then arrival (the early appointment waits by arrival)")
}

func devKey(t testing.TB) []byte {
	t.Helper()
	k, err := pass.KeyFrom(nil)
	require.NoError(t, err)
	return k
}

// Refused passes are clear 4xx and change nothing: no ticket, the
// appointment still booked.
func TestCheckInRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tn := tenanttest.Tenant(t, tenants.KindAffairsHall, "catalog", "queue")
	other := tenanttest.Tenant(t, tenants.KindAffairsHall, "catalog", "queue")
	h := queuetest.Make(t, b.db, tn, 1)
	now := time.Now()
	appt := h.Appointment(t, b.db, h.ItemA, now.Add(-5*time.Minute), now.Add(25*time.Minute))
	claim := pass.Claim{Tenant: tn.ID, Appointment: appt, Expires: now.Add(time.Hour)}
	try := func(in tenants.Tenant, token string) error {
		_, err := tx(t, b, in, func(tx *tenants.Tx) (queue.Ticket, error) {
			return b.m.CheckInIn(context.Background(), tx, queue.CheckIn{Token: token}, now)
		})
		return err
	}
	for name, c := range map[string]struct {
		tenant tenants.Tenant
		token  string
		status int
	}{
		"forged":       {tn, pass.Sign([]byte("someone-else's-key-0123456789"), claim), http.StatusUnprocessableEntity},
		"malformed":    {tn, "not a pass", http.StatusUnprocessableEntity},
		"expired":      {tn, pass.Sign(devKey(t), pass.Claim{Tenant: tn.ID, Appointment: appt, Expires: now.Add(-time.Second)}), http.StatusUnprocessableEntity},
		"other tenant": {other, pass.Sign(devKey(t), claim), http.StatusUnprocessableEntity},
		"no such":      {tn, pass.Sign(devKey(t), pass.Claim{Tenant: tn.ID, Appointment: uuid.New(), Expires: now.Add(time.Hour)}), http.StatusUnprocessableEntity},
	} {
		err := try(c.tenant, c.token)
		require.Equal(t, c.status, status(err), "%s: %v", name, err)
	}
	require.Equal(t, "booked", h.Status(t, b.db, appt), "nothing changed")

	token := pass.Sign(devKey(t), claim)
	require.NoError(t, try(tn, token))
	err := try(tn, token)
	require.Equal(t, http.StatusConflict, status(err), "a pass is used once: %v", err)

	tooEarly := h.Appointment(t, b.db, h.ItemA, now.Add(3*time.Hour), now.Add(4*time.Hour))
	err = try(tn, pass.Sign(devKey(t), pass.Claim{Tenant: tn.ID, Appointment: tooEarly, Expires: now.Add(5 * time.Hour)}))
	require.Equal(t, http.StatusConflict, status(err), "%v", err)
	require.Equal(t, "booked", h.Status(t, b.db, tooEarly))
	n, _ := tx(t, b, tn, func(tx *tenants.Tx) (int, error) {
		var n int
		err := tx.QueryRow(context.Background(), "SELECT count(*) FROM queue_tickets").Scan(&n)
		return n, err
	})
	require.Equal(t, 1, n, "only the one good check-in made a ticket")
}

func TestWindowWork(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tn := tenanttest.Tenant(t, tenants.KindAffairsHall, "catalog", "queue", "ratings")
	h := queuetest.Make(t, b.db, tn, 2)
	ctx := context.Background()
	ids := queuetest.IDNumbers(3)
	a := b.issue(t, h, queue.NewTicket{ItemID: h.ItemA.String(), CitizenName: "王𠀀", IDNumber: ids[0]})
	later := b.issue(t, h, queue.NewTicket{ItemID: h.ItemB.String(), CitizenName: "李", IDNumber: ids[1]})

	called, err := b.callNext(t, h, h.Windows[0])
	require.NoError(t, err)
	require.Equal(t, a.ID, called.ID)
	require.Equal(t, 1, *called.WindowNumber)
	_, err = b.callNext(t, h, h.Windows[0])
	require.Equal(t, http.StatusConflict, status(err), "one citizen at a time per window")

	do := func(fn func(tx *tenants.Tx) (queue.Ticket, error)) (queue.Ticket, error) { return tx(t, b, tn, fn) }
	_, err = do(func(tx *tenants.Tx) (queue.Ticket, error) { return b.m.NoShowIn(ctx, tx, a.ID) })
	require.Equal(t, http.StatusConflict, status(err), "recall twice before a no-show")
	for i := range 2 {
		r, err := do(func(tx *tenants.Tx) (queue.Ticket, error) { return b.m.RecallIn(ctx, tx, a.ID) })
		require.NoError(t, err)
		require.Equal(t, i+1, r.Recalls)
	}
	// Transfer to B: it waits again, ahead of the B ticket taken after it.
	moved, err := do(func(tx *tenants.Tx) (queue.Ticket, error) {
		return b.m.TransferIn(ctx, tx, a.ID, queue.Transfer{ItemID: h.ItemB.String()})
	})
	require.NoError(t, err)
	require.Equal(t, "waiting", moved.Status)
	require.Equal(t, a.Number, moved.Number, "it keeps its number")
	require.Equal(t, 0, moved.Recalls)
	require.Equal(t, 0, moved.WaitingAhead, "and its place")
	_, err = do(func(tx *tenants.Tx) (queue.Ticket, error) { return b.m.RecallIn(ctx, tx, a.ID) })
	require.Equal(t, http.StatusConflict, status(err))

	again, err := b.callNext(t, h, h.Windows[1])
	require.NoError(t, err)
	require.Equal(t, a.ID, again.ID)
	done := b.finish(t, h, a.ID)
	require.Equal(t, "finished", done.Status)
	_, err = do(func(tx *tenants.Tx) (queue.Ticket, error) { return b.m.FinishIn(ctx, tx, a.ID, nil) })
	require.Equal(t, http.StatusConflict, status(err), "a case is finished once")

	var raw []byte
	_, err = tx(t, b, tn, func(tx *tenants.Tx) (int, error) {
		return 0, tx.QueryRow(ctx, "SELECT payload FROM outbox WHERE task_type = 'ratings:case'").Scan(&raw)
	})
	require.NoError(t, err)
	var p queue.CasePayload
	require.NoError(t, json.Unmarshal(raw, &p))
	require.Equal(t, "queue", p.Source)
	require.Equal(t, "window", p.Channel)
	require.Equal(t, h.Code+"-"+time.Now().In(shanghai(t)).Format("20060102")+"-"+a.Number, p.CaseNo)
	require.Equal(t, h.ItemB, p.ItemID, "the item it was finished under")
	require.Equal(t, "ITEM-B", p.ItemCode)
	require.Equal(t, h.Department, p.DepartmentID)
	require.Equal(t, h.Windows[1], p.WindowID)
	require.Equal(t, 2, p.WindowNumber)
	require.Equal(t, tenanttest.DistrictCode, p.RegionCode)
	require.Equal(t, "王𠀀", p.CitizenName)
	require.False(t, p.HandledAt.IsZero())

	// The later ticket is a no-show after two recalls.
	c, err := b.callNext(t, h, h.Windows[0])
	require.NoError(t, err)
	require.Equal(t, later.ID, c.ID)
	for range 2 {
		_, err = do(func(tx *tenants.Tx) (queue.Ticket, error) { return b.m.RecallIn(ctx, tx, later.ID) })
		require.NoError(t, err)
	}
	ns, err := do(func(tx *tenants.Tx) (queue.Ticket, error) { return b.m.NoShowIn(ctx, tx, later.ID) })
	require.NoError(t, err)
	require.Equal(t, "no_show", ns.Status)
}

func shanghai(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	return loc
}

// Bad input writes nothing; another tenant's items, windows and tickets do
// not exist.
func TestBadInputAndOtherTenants(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tn := tenanttest.Tenant(t, tenants.KindAffairsHall, "catalog", "queue")
	other := tenanttest.Tenant(t, tenants.KindAffairsHall, "catalog", "queue")
	h := queuetest.Make(t, b.db, tn, 1)
	oh := queuetest.Make(t, b.db, other, 1)
	ctx := context.Background()
	ids := queuetest.IDNumbers(2)
	mine := b.issue(t, h, queue.NewTicket{ItemID: h.ItemA.String(), CitizenName: "甲", IDNumber: ids[0]})

	issue := func(in tenants.Tenant, nt queue.NewTicket) error {
		_, err := tx(t, b, in, func(tx *tenants.Tx) (queue.Ticket, error) { return b.m.IssueIn(ctx, tx, nt) })
		return err
	}
	err := issue(other, queue.NewTicket{ItemID: h.ItemA.String(), CitizenName: "乙", IDNumber: ids[1]})
	p, ok := problem.As(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, http.StatusUnprocessableEntity, p.Status)
	require.Equal(t, "body.item_id", p.Fields[0].Location)

	err = issue(tn, queue.NewTicket{ItemID: h.ItemA.String(), CitizenName: "乙", IDNumber: "110105194912310021"})
	p, _ = problem.As(err)
	require.Equal(t, http.StatusUnprocessableEntity, p.Status)
	require.Equal(t, "body.id_number", p.Fields[0].Location)
	err = issue(tn, queue.NewTicket{ItemID: h.ItemA.String()})
	p, _ = problem.As(err)
	require.Equal(t, http.StatusUnprocessableEntity, p.Status, "a real-name item needs an ID number")
	err = issue(tn, queue.NewTicket{ItemID: h.ItemB.String(), CitizenName: "甲", IDNumber: ids[0]})
	require.NoError(t, err, "the same person may wait for another item")
	err = issue(tn, queue.NewTicket{ItemID: h.ItemA.String(), CitizenName: "甲", IDNumber: ids[0]})
	require.Equal(t, http.StatusConflict, status(err), "but holds one waiting ticket per item")

	_, err = tx(t, b, other, func(tx *tenants.Tx) (queue.Ticket, error) { return queue.GetTicket(ctx, tx, mine.ID) })
	require.Equal(t, http.StatusNotFound, status(err))
	_, err = tx(t, b, other, func(tx *tenants.Tx) (queue.Ticket, error) { return b.m.CallNextIn(ctx, tx, h.Windows[0], nil) })
	require.Equal(t, http.StatusNotFound, status(err))
	_, err = tx(t, b, other, func(tx *tenants.Tx) (queue.Ticket, error) { return b.m.FinishIn(ctx, tx, mine.ID, nil) })
	require.Equal(t, http.StatusNotFound, status(err))
	_, err = tx(t, b, other, func(tx *tenants.Tx) ([]queue.Waiting, error) { return queue.WaitingCounts(ctx, tx, h.ID) })
	require.Equal(t, http.StatusNotFound, status(err))
	// The other tenant's own hall has nobody waiting: my ticket is not in it.
	_, err = b.callNext(t, oh, oh.Windows[0])
	require.Equal(t, http.StatusNotFound, status(err))

	counts, err := tx(t, b, tn, func(tx *tenants.Tx) ([]queue.Waiting, error) { return queue.WaitingCounts(ctx, tx, h.ID) })
	require.NoError(t, err)
	require.Len(t, counts, 2)
	total := 0
	for _, c := range counts {
		total += c.Waiting
	}
	require.Equal(t, 2, total, "the refused requests wrote nothing")
}

// A call tells the hall's boards, when it commits, what they show: the
// number, the window, the item; nothing about the citizen.
func TestCallNotifiesBoards(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	tn := tenanttest.Tenant(t, tenants.KindAffairsHall, "catalog", "queue")
	h := queuetest.Make(t, b.db, tn, 2)
	conn, err := b.db.Pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	_, err = conn.Exec(ctx, "LISTEN "+queue.BoardChannel)
	require.NoError(t, err)
	issued := b.issue(t, h, queue.NewTicket{ItemID: h.ItemB.String(), CitizenName: "张䶮", IDNumber: queuetest.IDNumbers(1)[0]})
	called, err := b.callNext(t, h, h.Windows[1])
	require.NoError(t, err)
	require.Equal(t, issued.ID, called.ID)
	for {
		wait, cancel := context.WithTimeout(ctx, 5*time.Second)
		n, err := conn.Conn().WaitForNotification(wait)
		cancel()
		require.NoError(t, err)
		var e struct {
			Tenant uuid.UUID `json:"tenant"`
			queue.BoardEvent
		}
		require.NoError(t, json.Unmarshal([]byte(n.Payload), &e))
		if e.TicketID != called.ID {
			continue // another test's call
		}
		require.Equal(t, tn.ID, e.Tenant)
		require.Equal(t, h.ID, e.Hall)
		require.Equal(t, "call", e.Event)
		require.Equal(t, called.Number, e.Number)
		require.Equal(t, 2, e.WindowNumber)
		require.Equal(t, called.WindowLocation, e.WindowLocation)
		require.Equal(t, called.ItemName, e.ItemName)
		require.Zero(t, e.Recalls)
		require.Equal(t, called.Number+" 请到 2 号窗口", e.Text)
		require.WithinDuration(t, *called.CalledAt, e.At, time.Second)
		require.NotContains(t, n.Payload, "张", "the board shows no names")
		return
	}
}
