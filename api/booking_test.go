package api_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"yamen/api/kratostest"
	"yamen/modules/booking"
	"yamen/modules/booking/pass"
	"yamen/tenants"
	"yamen/tenants/tenanttest"
)

// citizenAccount creates a Kratos citizen with the real-name level given
// (written to metadata_public, as Yamen does) and signs them in; it returns
// the identity and a session token.
func citizenAccount(t testing.TB, name, level string) (id, token string) {
	t.Helper()
	public, admin := os.Getenv("KRATOS_PUBLIC_URL"), os.Getenv("KRATOS_ADMIN_URL")
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	phone := "+86137" + fmt.Sprintf("%08d", (int(b[0])<<16|int(b[1])<<8|int(b[2]))%100_000_000)
	password := "Yamen-" + hex.EncodeToString(b) + "-居民"
	status, ident := kratostest.JSON(t, "POST", admin+"/admin/identities", map[string]any{
		"schema_id":       "citizen",
		"traits":          map[string]any{"phone": phone, "name": name},
		"metadata_public": map[string]any{"real_name_level": level},
		"credentials":     map[string]any{"password": map[string]any{"config": map[string]any{"password": password}}},
	})
	require.Equal(t, http.StatusCreated, status, "%v", ident)
	id = ident["id"].(string)
	t.Cleanup(func() { kratostest.JSON(t, "DELETE", admin+"/admin/identities/"+id, nil) })
	status, flow := kratostest.JSON(t, "GET", public+"/self-service/login/api", nil)
	require.Equal(t, http.StatusOK, status, "%v", flow)
	action := flow["ui"].(map[string]any)["action"].(string)
	status, login := kratostest.JSON(t, "POST", action, map[string]any{"method": "password", "identifier": phone, "password": password})
	require.Equal(t, http.StatusOK, status, "%v", login)
	return id, login["session_token"].(string)
}

// bookableItem adds a hall open every day around the clock, a department
// and an item to the tenant, with rules that make slots exist whenever the
// test runs: 30-minute slots of 3 on any day, from now on, two days ahead.
func (b *bundle) bookableItem(t testing.TB, tn tenants.Tenant, realName bool) string {
	t.Helper()
	ctx := context.Background()
	var item uuid.UUID
	require.NoError(t, b.db.Tx(ctx, tn.ID, "system", func(tx *tenants.Tx) error {
		var hall, dept uuid.UUID
		if err := tx.QueryRow(ctx, `INSERT INTO catalog_halls (tenant_id, code, name, region_code) VALUES (current_tenant(), $1, '政务服务中心', $2) RETURNING id`,
			"H"+uuid.NewString()[:6], tenanttest.CityCode).Scan(&hall); err != nil {
			return err
		}
		for wd := 1; wd <= 7; wd++ {
			if _, err := tx.Exec(ctx, `INSERT INTO catalog_hall_hours (tenant_id, hall_id, weekday, opens, closes) VALUES (current_tenant(), $1, $2, '00:00', '23:59')`, hall, wd); err != nil {
				return err
			}
		}
		if err := tx.QueryRow(ctx, `INSERT INTO catalog_departments (tenant_id, hall_id, code, name) VALUES (current_tenant(), $1, $2, '户政') RETURNING id`,
			hall, "D"+uuid.NewString()[:6]).Scan(&dept); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO catalog_items (tenant_id, code, name, department_id, bookable, real_name) VALUES (current_tenant(), $1, '居住证办理 𠀀', $2, true, $3) RETURNING id`,
			"I"+uuid.NewString()[:6], dept, realName).Scan(&item)
	}))
	return item.String()
}

func TestBookingOverHTTP(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tn, admin := b.tenant(t, tenants.KindAffairsHall)
	other, _ := b.tenant(t, tenants.KindAffairsHall)
	base := "/v1/t/" + tn.Slug + "/booking"
	item := b.bookableItem(t, tn, false)
	foreign := b.bookableItem(t, other, false)

	// Rules are validated, naming the field.
	r := b.do(t, "PUT", base+"/rules/items/"+item, admin, map[string]any{"slot_minutes": 3, "capacity": 0})
	require.ElementsMatch(t, []string{"body.slot_minutes", "body.capacity"}, requireProblemLocations(t, r))
	requireProblem(t, b.do(t, "PUT", base+"/rules/items/"+foreign, admin, map[string]any{"capacity": 3}), http.StatusNotFound)
	r = b.do(t, "PUT", base+"/rules/items/"+item, admin, map[string]any{
		"slot_minutes": 30, "capacity": 3, "days_ahead": 2, "min_notice_minutes": 0, "working_days_only": false, "cancel_minutes_before": 0})
	require.Equal(t, http.StatusOK, r.status, string(r.body))

	// Slots are public, with the places left.
	r = b.send(t, "GET", base+"/items/"+item+"/slots", nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	slots := r.json(t)["slots"].([]any)
	require.NotEmpty(t, slots)
	slot := slots[0].(map[string]any)
	require.EqualValues(t, 3, slot["remaining"])
	require.Equal(t, []string{"query.from"}, requireProblemLocations(t, b.send(t, "GET", base+"/items/"+item+"/slots?from=2026-13-45", nil)))
	requireProblem(t, b.send(t, "GET", "/v1/t/"+other.Slug+"/booking/items/"+item+"/slots", nil), http.StatusNotFound)

	citizenID, token := citizenAccount(t, "李四", booking.LevelRealName)
	book := func(token, key string, body map[string]any) reply {
		h := []string{"X-Session-Token", token}
		if key != "" {
			h = append(h, "Idempotency-Key", key)
		}
		return b.send(t, "POST", base+"/appointments", body, h...)
	}
	want := map[string]any{"item_id": item, "slot_start": slot["start"]}

	// Only a signed-in citizen books.
	requireProblem(t, b.send(t, "POST", base+"/appointments", want), http.StatusUnauthorized)
	requireProblem(t, b.do(t, "POST", base+"/appointments", admin, want), http.StatusForbidden)

	// Bad input: a slot in the past, beyond the window, another tenant's item.
	require.Equal(t, []string{"body.slot_start"}, requireProblemLocations(t, book(token, "", map[string]any{"item_id": item, "slot_start": time.Now().Add(-time.Hour).Truncate(30 * time.Minute)})))
	require.Equal(t, []string{"body.slot_start"}, requireProblemLocations(t, book(token, "", map[string]any{"item_id": item, "slot_start": time.Now().Add(96 * time.Hour).Truncate(30 * time.Minute)})))
	require.Equal(t, []string{"body.item_id"}, requireProblemLocations(t, book(token, "", map[string]any{"item_id": foreign, "slot_start": slot["start"]})))

	r = book(token, "k1", want)
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	a := r.json(t)
	require.Equal(t, "booked", a["status"])
	require.Equal(t, citizenID, a["citizen_id"])
	require.Equal(t, "李四", a["citizen_name"])
	r = book(token, "k1", want)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, a["id"], r.json(t)["id"], "the Idempotency-Key answers with the first booking")
	requireProblem(t, book(token, "k2", want), http.StatusConflict)

	// The pass verifies with the key the queue holds.
	r = b.doSession(t, "GET", base+"/appointments/"+a["id"].(string)+"/pass", token, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	key, err := pass.KeyFrom(nil)
	require.NoError(t, err)
	claim, err := pass.Verify(key, r.json(t)["token"].(string), time.Now())
	require.NoError(t, err)
	require.Equal(t, tn.ID, claim.Tenant)
	require.Equal(t, a["id"], claim.Appointment.String())
	_, other1 := citizenAccount(t, "赵六", booking.LevelRealName)
	requireProblem(t, b.doSession(t, "GET", base+"/appointments/"+a["id"].(string)+"/pass", other1, nil), http.StatusNotFound)

	// The citizen's own list spans tenants; staff see the phone masked
	// without booking:read_restricted.
	r = b.doSession(t, "GET", "/v1/me/appointments", token, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	mine := r.list(t)
	require.Len(t, mine, 1)
	require.Equal(t, a["id"], mine[0]["id"])
	r = b.do(t, "GET", base+"/appointments", b.key(t, tn, "booking:read"), nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Contains(t, r.list(t)[0]["citizen_phone"], "****")
	r = b.do(t, "GET", base+"/appointments", admin, nil)
	require.NotContains(t, r.list(t)[0]["citizen_phone"], "****")
	r = b.do(t, "GET", "/v1/t/"+other.Slug+"/booking/appointments", admin, nil)
	requireProblem(t, r, http.StatusNotFound) // another tenant's key: the tenant does not exist

	// Cancelling needs a reason; the booking is kept, cancelled.
	cancel := base + "/appointments/" + a["id"].(string) + "/cancel"
	require.Equal(t, []string{"body.reason"}, requireProblemLocations(t, b.doSession(t, "POST", cancel, token, map[string]any{"reason": ""})))
	requireProblem(t, b.doSession(t, "POST", cancel, other1, map[string]any{"reason": "不是我的"}), http.StatusNotFound)
	r = b.doSession(t, "POST", cancel, token, map[string]any{"reason": "改期 䶮"})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, "cancelled", r.json(t)["status"])
	r = b.doSession(t, "GET", "/v1/me/appointments", token, nil)
	require.Equal(t, "cancelled", r.list(t)[0]["status"])

	r = b.doSession(t, "GET", base+"/standing", token, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, true, r.json(t)["can_book"])
}

// An item that requires real names refuses a citizen who has not verified
// theirs, saying why; a blacklisted citizen is refused too.
func TestBookingRealNameAndBlacklist(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tn, admin := b.tenant(t, tenants.KindAffairsHall)
	base := "/v1/t/" + tn.Slug + "/booking"
	item := b.bookableItem(t, tn, true)
	r := b.do(t, "PUT", base+"/rules/items/"+item, admin, map[string]any{"min_notice_minutes": 0, "working_days_only": false, "days_ahead": 2})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	slot := b.send(t, "GET", base+"/items/"+item+"/slots", nil).json(t)["slots"].([]any)[0].(map[string]any)["start"]
	body := map[string]any{"item_id": item, "slot_start": slot}

	_, unverified := citizenAccount(t, "钱七", booking.LevelNone)
	p := requireProblem(t, b.doSession(t, "POST", base+"/appointments", unverified, body), http.StatusForbidden)
	require.Contains(t, p["detail"], "实名")

	id, verified := citizenAccount(t, "孙八", booking.LevelRealName)
	r = b.do(t, "PUT", base+"/lists/"+id, admin, map[string]any{"list": "black", "note": "恶意占号"})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	p = requireProblem(t, b.doSession(t, "POST", base+"/appointments", verified, body), http.StatusForbidden)
	require.Contains(t, p["detail"], "黑名单")
	r = b.doSession(t, "GET", base+"/standing", verified, nil)
	require.Equal(t, false, r.json(t)["can_book"])
	require.Equal(t, http.StatusNoContent, b.do(t, "DELETE", base+"/lists/"+id, admin, nil).status)
	r = b.doSession(t, "POST", base+"/appointments", verified, body)
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
}

func requireProblemLocations(t testing.TB, r reply) []string {
	t.Helper()
	require.Equal(t, http.StatusUnprocessableEntity, r.status, string(r.body))
	return r.locations(t)
}

// A barred citizen sees why and until when, appeals, and books again once
// staff with booking:appeals uphold the appeal.
func TestBookingBarAndAppealOverHTTP(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tn, admin := b.tenant(t, tenants.KindAffairsHall)
	base := "/v1/t/" + tn.Slug + "/booking"
	item := b.bookableItem(t, tn, false)
	r := b.do(t, "PUT", base+"/rules/items/"+item, admin, map[string]any{"min_notice_minutes": 0, "working_days_only": false, "days_ahead": 2})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	slot := b.send(t, "GET", base+"/items/"+item+"/slots", nil).json(t)["slots"].([]any)[0].(map[string]any)["start"]
	id, token := citizenAccount(t, "周九", booking.LevelRealName)
	until := time.Now().Add(72 * time.Hour).Truncate(time.Second)
	var bar uuid.UUID
	require.NoError(t, b.db.Tx(context.Background(), tn.ID, "system", func(tx *tenants.Tx) error {
		return tx.QueryRow(context.Background(), `INSERT INTO booking_bars (tenant_id, citizen_id, reason, ends_at) VALUES (current_tenant(), $1, '30 天内 3 次预约未到', $2) RETURNING id`,
			id, until).Scan(&bar)
	}))

	p := requireProblem(t, b.doSession(t, "POST", base+"/appointments", token, map[string]any{"item_id": item, "slot_start": slot}), http.StatusForbidden)
	require.Contains(t, p["detail"], "30 天内 3 次预约未到")
	r = b.doSession(t, "GET", base+"/standing", token, nil)
	st := r.json(t)
	require.Equal(t, false, st["can_book"])
	got, err := time.Parse(time.RFC3339, st["until"].(string))
	require.NoError(t, err)
	require.True(t, until.Equal(got))

	require.Equal(t, []string{"body.reason"}, requireProblemLocations(t, b.doSession(t, "POST", base+"/appeals", token, map[string]any{"bar_id": bar, "reason": ""})))
	r = b.doSession(t, "POST", base+"/appeals", token, map[string]any{"bar_id": bar, "reason": "那天在医院 𠀀"})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	appeal := r.json(t)["id"].(string)

	reader := b.key(t, tn, "booking:read")
	requireProblem(t, b.do(t, "POST", base+"/appeals/"+appeal+"/decide", reader, map[string]any{"uphold": true, "note": "x"}), http.StatusForbidden)
	r = b.do(t, "GET", base+"/appeals?status=pending", admin, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Len(t, r.list(t), 1)
	r = b.do(t, "POST", base+"/appeals/"+appeal+"/decide", admin, map[string]any{"uphold": true, "note": "情况属实，解除暂停"})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, "upheld", r.json(t)["status"])
	requireProblem(t, b.do(t, "POST", base+"/appeals/"+appeal+"/decide", admin, map[string]any{"uphold": false, "note": "x"}), http.StatusConflict)

	r = b.doSession(t, "POST", base+"/appointments", token, map[string]any{"item_id": item, "slot_start": slot})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
}

// 200 signed-in citizens booking the last 5 places of one slot at once,
// over HTTP: exactly 5 get 201, the other 195 a 409 that says the slot is
// full, and the slot is not oversold.
func TestBookingLastPlacesUnderConcurrencyOverHTTP(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tn, admin := b.tenant(t, tenants.KindAffairsHall)
	base := "/v1/t/" + tn.Slug + "/booking"
	item := b.bookableItem(t, tn, false)
	r := b.do(t, "PUT", base+"/rules/items/"+item, admin, map[string]any{"capacity": 7, "min_notice_minutes": 0, "working_days_only": false, "days_ahead": 2})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	slot := b.send(t, "GET", base+"/items/"+item+"/slots", nil).json(t)["slots"].([]any)[1].(map[string]any)["start"]
	body := map[string]any{"item_id": item, "slot_start": slot}

	const citizens = 202
	tokens := make([]string, citizens)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range tokens {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			_, tokens[i] = citizenAccount(t, fmt.Sprintf("居民%d", i), booking.LevelRealName)
		})
	}
	wg.Wait()
	// Two places go first, leaving the last five.
	for _, tok := range tokens[:2] {
		require.Equal(t, http.StatusCreated, b.doSession(t, "POST", base+"/appointments", tok, body).status)
	}
	statuses := make([]int, citizens-2)
	details := make([]string, citizens-2)
	start := make(chan struct{})
	for i, tok := range tokens[2:] {
		wg.Go(func() {
			<-start
			r := b.doSession(t, "POST", base+"/appointments", tok, body)
			statuses[i] = r.status
			if r.status == http.StatusConflict {
				details[i] = r.json(t)["detail"].(string)
			}
		})
	}
	close(start)
	wg.Wait()
	count := map[int]int{}
	for i, s := range statuses {
		count[s]++
		if s == http.StatusConflict {
			require.Contains(t, details[i], "该时段已约满")
		}
	}
	require.Equal(t, map[int]int{http.StatusCreated: 5, http.StatusConflict: 195}, count)
	left := b.send(t, "GET", base+"/items/"+item+"/slots", nil).json(t)["slots"].([]any)[1].(map[string]any)["remaining"]
	require.EqualValues(t, 0, left)
	r = b.do(t, "GET", base+"/appointments?status=booked", admin, nil)
	require.Len(t, r.list(t), 7)
}
