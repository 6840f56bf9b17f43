package api_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"yamen/modules/booking/pass"
	"yamen/modules/queue/queuetest"
	"yamen/tenants"
)

func passKey(t testing.TB) []byte {
	t.Helper()
	k, err := pass.KeyFrom(nil)
	require.NoError(t, err)
	return k
}

// A kiosk issues tickets and checks appointments in; a clerk calls, and
// the hall's board and the citizen's phone follow.
func TestQueueTicketsAndCalls(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tn, admin := b.tenant(t, tenants.KindAffairsHall)
	other, otherAdmin := b.tenant(t, tenants.KindAffairsHall)
	h := queuetest.Make(t, b.db, tn, 2)
	oh := queuetest.Make(t, b.db, other, 1)
	base := "/v1/t/" + tn.Slug + "/queue"
	kiosk := b.key(t, tn, "queue:issue")
	ids := queuetest.IDNumbers(4)

	waiting := func() int {
		r := b.do(t, "GET", base+"/halls/"+h.ID.String()+"/waiting", "", nil)
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		n := 0
		for _, w := range r.list(t) {
			n += int(w["waiting"].(float64))
		}
		return n
	}

	r := b.do(t, "POST", base+"/tickets", kiosk, map[string]any{"item_id": h.ItemA, "citizen_name": "张𠀀䶮", "id_number": ids[0]})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	first := r.json(t)
	require.Equal(t, "A001", first["number"])
	require.Equal(t, "张𠀀䶮", first["citizen_name"])
	require.Equal(t, ids[0][:6]+"********"+ids[0][14:], first["id_number"], "the ID number is masked")
	require.NotContains(t, string(r.body), ids[0])
	require.Equal(t, "政务服务中心𠀀", first["hall_name"])

	t.Run("BadInputWritesNothing", func(t *testing.T) {
		before := waiting()
		r := b.do(t, "POST", base+"/tickets", kiosk, map[string]any{"item_id": oh.ItemA, "citizen_name": "李", "id_number": "110105194912310021"})
		requireProblem(t, r, http.StatusUnprocessableEntity)
		require.ElementsMatch(t, []string{"body.item_id", "body.id_number"}, r.locations(t), "another tenant's item and a bad check digit")
		r = b.do(t, "POST", base+"/tickets", kiosk, map[string]any{"item_id": "nope"})
		requireProblem(t, r, http.StatusUnprocessableEntity)
		require.Equal(t, []string{"body.item_id"}, r.locations(t))
		r = b.do(t, "POST", base+"/tickets", kiosk, map[string]any{"item_id": h.ItemB, "colour": "red"})
		requireProblem(t, r, http.StatusUnprocessableEntity)
		require.Contains(t, r.locations(t), "body.colour")
		r = b.do(t, "POST", base+"/tickets", kiosk, map[string]any{"item_id": h.ItemA, "citizen_name": "张𠀀䶮", "id_number": ids[0]})
		requireProblem(t, r, http.StatusConflict)

		now := time.Now()
		appt := h.Appointment(t, b.db, h.ItemA, now.Add(-5*time.Minute), now.Add(25*time.Minute))
		claim := pass.Claim{Tenant: tn.ID, Appointment: appt, Expires: now.Add(time.Hour)}
		for name, token := range map[string]string{
			"forged":       pass.Sign([]byte("not-the-key-of-this-service!"), claim),
			"expired":      pass.Sign(passKey(t), pass.Claim{Tenant: tn.ID, Appointment: appt, Expires: now.Add(-time.Minute)}),
			"other tenant": pass.Sign(passKey(t), pass.Claim{Tenant: other.ID, Appointment: appt, Expires: now.Add(time.Hour)}),
			"garbage":      "yp1.AAAA.BBBB",
		} {
			r := b.do(t, "POST", base+"/checkins", kiosk, map[string]any{"token": token})
			requireProblem(t, r, http.StatusUnprocessableEntity)
			require.Equal(t, []string{"body.token"}, r.locations(t), name)
		}
		// Another tenant's kiosk cannot use this hall's pass either.
		r = b.do(t, "POST", "/v1/t/"+other.Slug+"/queue/checkins", otherAdmin, map[string]any{"token": pass.Sign(passKey(t), claim)})
		requireProblem(t, r, http.StatusUnprocessableEntity)
		require.Equal(t, "booked", h.Status(t, b.db, appt))
		require.Equal(t, before, waiting(), "nothing was written")

		r = b.do(t, "POST", base+"/checkins", kiosk, map[string]any{"token": pass.Sign(passKey(t), claim)})
		require.Equal(t, http.StatusCreated, r.status, string(r.body))
		require.Equal(t, "appointment", r.json(t)["kind"])
		require.Equal(t, 0, int(r.json(t)["waiting_ahead"].(float64)), "an appointment in its slot goes first")
		p := requireProblem(t, b.do(t, "POST", base+"/checkins", kiosk, map[string]any{"token": pass.Sign(passKey(t), claim)}), http.StatusConflict)
		require.Contains(t, p["detail"], "already")
		require.Equal(t, before+1, waiting())
	})

	// The kiosk may not call; a clerk with queue:call may.
	requireProblem(t, b.do(t, "POST", base+"/windows/"+h.Windows[0].String()+"/call-next", kiosk, nil), http.StatusForbidden)
	clerk, member := clerkSession(t, b, tn, admin)

	board, resp := openStream(t, b.url+base+"/halls/"+h.ID.String()+"/board/stream", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	_, resp = openStream(t, b.url+"/v1/t/"+other.Slug+"/queue/halls/"+h.ID.String()+"/board/stream", "")
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "another tenant has no such hall")

	r = b.doSession(t, "POST", base+"/windows/"+h.Windows[1].String()+"/call-next", clerk, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	called := r.json(t)
	require.Equal(t, "called", called["status"])
	require.Equal(t, member, called["called_by"], "who called is recorded")
	require.EqualValues(t, 2, called["window_number"])
	select {
	case e := <-board:
		require.Equal(t, "call", e.event)
		require.Equal(t, called["number"].(string)+" 请到 2 号窗口", e.data["text"])
		require.NotContains(t, fmt.Sprint(e.data), "张", "the board shows no names")
	case <-time.After(5 * time.Second):
		t.Fatal("no event on the board")
	}
	r = b.doSession(t, "POST", base+"/tickets/"+called["id"].(string)+"/recall", clerk, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	select {
	case e := <-board:
		require.Equal(t, "recall", e.event)
		require.EqualValues(t, 1, e.data["recalls"])
	case <-time.After(5 * time.Second):
		t.Fatal("no recall on the board")
	}

	// The citizen follows their own ticket with its secret; nobody else can.
	pos := base + "/tickets/" + first["id"].(string) + "/position?secret="
	r = b.do(t, "GET", pos+first["secret"].(string), "", nil)
	require.Equal(t, http.StatusOK, r.status, "%s %v", r.body, first)
	require.Equal(t, "A001", r.json(t)["number"])
	require.NotContains(t, string(r.body), "张")
	requireProblem(t, b.do(t, "GET", pos+"0000000000000000", "", nil), http.StatusNotFound)
	requireProblem(t, b.do(t, "GET", "/v1/t/"+other.Slug+"/queue/tickets/"+first["id"].(string)+"/position?secret="+first["secret"].(string), "", nil), http.StatusNotFound)

	r = b.doSession(t, "POST", base+"/tickets/"+called["id"].(string)+"/finish", clerk, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, "finished", r.json(t)["status"])
	requireProblem(t, b.do(t, "POST", "/v1/t/"+other.Slug+"/queue/tickets/"+called["id"].(string)+"/finish", otherAdmin, nil), http.StatusNotFound)
	requireProblem(t, b.do(t, "POST", "/v1/t/"+other.Slug+"/queue/windows/"+h.Windows[0].String()+"/call-next", otherAdmin, nil), http.StatusNotFound)
}

// clerkSession makes a window clerk: a member with queue:call, signed in.
func clerkSession(t *testing.T, b *bundle, tn tenants.Tenant, admin string) (token, member string) {
	t.Helper()
	base := "/v1/t/" + tn.Slug
	root := b.do(t, "GET", base+"/orgs", admin, nil).list(t)[0]["id"].(string)
	r := b.do(t, "POST", base+"/roles", admin, map[string]any{"name": "窗口人员", "permissions": []string{"queue:call", "queue:read"}, "data_scope": "org"})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	role := r.json(t)["id"].(string)
	r = b.do(t, "POST", base+"/members", admin, map[string]any{"org_id": root, "name": "窗口𠀀", "role_ids": []string{role}})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	member = r.json(t)["id"].(string)
	email, _, token := staffAccount(t, "窗口𠀀")
	r = b.do(t, "POST", base+"/members/"+member+"/link", admin, map[string]any{"identifier": email})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	return token, member
}

// Windows calling at once over HTTP never get the same ticket.
func TestQueueCallNextConcurrently(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tn, admin := b.tenant(t, tenants.KindAffairsHall)
	h := queuetest.Make(t, b.db, tn, 6)
	base := "/v1/t/" + tn.Slug + "/queue"
	const tickets = 60
	ids := queuetest.IDNumbers(tickets)
	for i := range tickets {
		r := b.do(t, "POST", base+"/tickets", admin, map[string]any{"item_id": h.ItemB, "citizen_name": "市民", "id_number": ids[i]})
		require.Equal(t, http.StatusCreated, r.status, string(r.body))
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for _, w := range h.Windows {
		wg.Go(func() {
			for {
				r := b.do(t, "POST", base+"/windows/"+w.String()+"/call-next", admin, nil)
				if r.status == http.StatusNotFound {
					return
				}
				if r.status != http.StatusOK {
					t.Errorf("call-next: %d %s", r.status, r.body)
					return
				}
				id := r.json(t)["id"].(string)
				mu.Lock()
				seen[id]++
				mu.Unlock()
				if f := b.do(t, "POST", base+"/tickets/"+id+"/finish", admin, nil); f.status != http.StatusOK {
					t.Errorf("finish: %d %s", f.status, f.body)
					return
				}
			}
		})
	}
	wg.Wait()
	require.Len(t, seen, tickets)
	for id, n := range seen {
		require.Equal(t, 1, n, "ticket %s called %d times", id, n)
	}
	// Each finished ticket is a case for ratings, once.
	var cases int
	require.NoError(t, b.db.Tx(context.Background(), tn.ID, "system", func(tx *tenants.Tx) error {
		return tx.QueryRow(context.Background(), "SELECT count(DISTINCT payload->>'case_no') FROM outbox WHERE task_type = 'ratings:case'").Scan(&cases)
	}))
	require.Equal(t, tickets, cases)
	_ = uuid.Nil
}
