package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"yamen/api"
	"yamen/modules"
	"yamen/modules/builtin"
	"yamen/modules/files/filestest"
	"yamen/modules/messages"
	"yamen/modules/ratings"
	"yamen/tenants"
	"yamen/tenants/tenanttest"
	"yamen/worker/workertest"
)

// ratingsSetup is setup with a ratings module that pushes to the province
// every second and retries an upload after 20 ms (doubling), sending through
// the registry's messages module.
func ratingsSetup(t testing.TB) (*bundle, *modules.Registry) {
	t.Helper()
	b := setup(t)
	mods := builtin.Modules()
	var msgs *messages.Module
	for _, m := range mods {
		if mm, ok := m.(*messages.Module); ok {
			msgs = mm
		}
	}
	for i, m := range mods {
		if _, ok := m.(*ratings.Module); ok {
			mods[i] = ratings.New(ratings.WithMessages(msgs), ratings.WithUploadRetry(20*time.Millisecond), ratings.WithPushEvery(time.Second))
		}
	}
	reg, err := modules.NewRegistry(mods...)
	require.NoError(t, err)
	require.NoError(t, reg.Provision(context.Background(), filestest.Env(t, b.db.Pool)))
	t.Cleanup(func() { _ = reg.Cleanup() })
	srv, err := api.New(api.Config{DB: b.db, Registry: reg, Sessions: testSessions(t)})
	require.NoError(t, err)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	b.url = ts.URL
	return b, reg
}

func pushCase(no string, handled time.Time) map[string]any {
	return map[string]any{"case_no": no, "item_code": "ITEM-9", "item_name": "居住证办理䶮", "department_code": "GA", "department_name": "公安分局",
		"staff_name": "周七", "region_code": tenanttest.DistrictCode, "channel": "window", "citizen_name": "吴八", "citizen_phone": "13655556666",
		"handled_at": handled.Format(time.RFC3339)}
}

func TestRatingsHTTP(t *testing.T) {
	t.Parallel()
	b, _ := ratingsSetup(t)
	tn, key := b.tenant(t, tenants.KindAffairsHall)
	base := "/v1/t/" + tn.Slug + "/ratings"
	now := time.Now()

	r := b.do(t, "POST", base+"/cases", key, pushCase("H-1", now.Add(-time.Hour)))
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	token := r.json(t)["rate_token"].(string)
	require.NotEmpty(t, token)
	r = b.do(t, "POST", base+"/cases", key, pushCase("H-1", now.Add(-2*time.Hour)))
	require.Equal(t, http.StatusOK, r.status, "pushed twice: nothing changes")
	require.Equal(t, false, r.json(t)["created"])

	t.Run("BadPushNamesEveryField", func(t *testing.T) {
		bad := pushCase("bad no!", now.Add(time.Hour))
		bad["channel"] = "pigeon"
		delete(bad, "item_name")
		r := b.do(t, "POST", base+"/cases", key, bad)
		requireProblem(t, r, http.StatusUnprocessableEntity)
		require.ElementsMatch(t, []string{"body.case_no", "body.channel", "body.item_name"}, r.locations(t))
		bad = pushCase("H-2", now.Add(time.Hour))
		bad["region_code"] = "123456"
		r = b.do(t, "POST", base+"/cases", key, bad)
		requireProblem(t, r, http.StatusUnprocessableEntity)
		require.ElementsMatch(t, []string{"body.region_code", "body.handled_at"}, r.locations(t))
	})
	t.Run("BadRatingWithoutTagIs422", func(t *testing.T) {
		r := b.do(t, "POST", base+"/cases/H-1/rating", key, map[string]any{"level": 1, "channel": "window_device"})
		requireProblem(t, r, http.StatusUnprocessableEntity)
		require.Equal(t, []string{"body.tags"}, r.locations(t))
		r = b.do(t, "POST", base+"/cases/H-1/rating", key, map[string]any{"level": 9, "channel": "fax"})
		requireProblem(t, r, http.StatusUnprocessableEntity)
		require.ElementsMatch(t, []string{"body.level", "body.channel"}, r.locations(t))
	})
	t.Run("AnonymousByToken", func(t *testing.T) {
		b.do(t, "POST", base+"/cases", key, pushCase("H-3", now.Add(-time.Hour)))
		r := b.send(t, "POST", base+"/public/cases/H-1/rating", map[string]any{"token": "wrong", "level": 5, "channel": "qr_code"})
		requireProblem(t, r, http.StatusNotFound)
		r = b.send(t, "POST", base+"/public/cases/H-3/rating", map[string]any{"token": token, "level": 5, "channel": "qr_code"})
		requireProblem(t, r, http.StatusNotFound) // H-1's token does not open H-3
		r = b.send(t, "POST", base+"/public/cases/H-1/rating", map[string]any{"token": token, "level": 5, "tags": []string{"510"}, "channel": "qr_code", "anonymous": true})
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		require.Equal(t, "吴*", r.json(t)["citizen_name"])
		require.NotContains(t, string(r.body), "13655556666")
		r = b.send(t, "POST", base+"/public/cases/H-1/rating", map[string]any{"token": token, "level": 1, "tags": []string{"115"}, "channel": "qr_code"})
		requireProblem(t, r, http.StatusConflict)
	})
	t.Run("StatsAndExport", func(t *testing.T) {
		r := b.do(t, "GET", base+"/stats?by=region", key, nil)
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		require.EqualValues(t, 1, r.json(t)["total"].(map[string]any)["very_satisfied"])
		r = b.do(t, "GET", base+"/stats/export?by=channel", key, nil)
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		require.Equal(t, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", r.header.Get("Content-Type"))
		require.Equal(t, "PK", string(r.body[:2]))
		r = b.send(t, "GET", base+"/public/summary", nil)
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		r = b.do(t, "GET", base+"/stats?by=galaxy", key, nil)
		requireProblem(t, r, http.StatusUnprocessableEntity)
	})
	t.Run("ScopedKeyNeedsPermission", func(t *testing.T) {
		reader := b.key(t, tn, "ratings:read")
		requireProblem(t, b.do(t, "POST", base+"/cases", reader, pushCase("H-9", now)), http.StatusForbidden)
		requireProblem(t, b.do(t, "GET", base+"/stats/export", reader, nil), http.StatusForbidden)
	})
}

// A case handled 8 days ago is rated 基本满意 by the worker with nobody
// touching it; one handled 6 days ago is not.
func TestRatingsDefaultByWorker(t *testing.T) {
	t.Parallel()
	b, reg := ratingsSetup(t)
	tn, key := b.tenant(t, tenants.KindAffairsHall)
	base := "/v1/t/" + tn.Slug + "/ratings"
	now := time.Now()
	require.Equal(t, http.StatusCreated, b.do(t, "POST", base+"/cases", key, pushCase("W-8", now.AddDate(0, 0, -8))).status)
	require.Equal(t, http.StatusCreated, b.do(t, "POST", base+"/cases", key, pushCase("W-6", now.AddDate(0, 0, -6))).status)
	redis := workertest.Redis(t)
	runMessagesWorker(t, b.db, reg, redis, workertest.Namespace(t, redis), tn.ID, 50*time.Millisecond)

	require.Eventually(t, func() bool {
		r := b.do(t, "GET", base+"/cases/W-8", key, nil)
		return r.json(t)["rating"] != nil
	}, 15*time.Second, 50*time.Millisecond)
	rating := b.do(t, "GET", base+"/cases/W-8", key, nil).json(t)["rating"].(map[string]any)
	require.Equal(t, "基本满意", rating["level_name"])
	require.Equal(t, true, rating["default"])
	require.Equal(t, "system", rating["channel"])
	time.Sleep(300 * time.Millisecond) // a wrong default would come now
	require.Nil(t, b.do(t, "GET", base+"/cases/W-6", key, nil).json(t)["rating"])
}

// province is a loopback provincial 好差评 system: it fails while down,
// and accepts each Idempotency-Key once.
type province struct {
	*httptest.Server
	down     atomic.Bool
	posts    atomic.Int64
	mu       sync.Mutex
	accepted map[string]int
	events   map[string]string
}

func startProvince(t testing.TB) *province {
	t.Helper()
	p := &province{accepted: map[string]int{}, events: map[string]string{}}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		p.posts.Add(1)
		if p.down.Load() {
			http.Error(w, "维护中", http.StatusServiceUnavailable)
			return
		}
		var u ratings.Upload
		if err := json.Unmarshal(raw, &u); err != nil {
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
		p.mu.Lock()
		p.accepted[r.Header.Get(ratings.HeaderIdempotency)]++
		p.events[u.CaseNo+"/"+u.Event] = u.ItemName
		p.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(p.Close)
	return p
}

// The province fails for "an hour" (until the test lets it recover): every
// rating waits, listed with the province's answer, and the province is
// tried again run after run; once it recovers everything arrives, each
// event once, and the reconciliation lists nothing.
func TestRatingsProvinceOutage(t *testing.T) {
	t.Parallel()
	b, reg := ratingsSetup(t)
	prov := startProvince(t)
	prov.down.Store(true)
	tn, key := b.tenant(t, tenants.KindAffairsHall)
	base := "/v1/t/" + tn.Slug + "/ratings"
	r := b.do(t, "PUT", "/v1/t/"+tn.Slug+"/modules/ratings/settings", key, map[string]any{"province": []map[string]any{{"url": prov.URL, "secret": "s3cret"}}})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	redis := workertest.Redis(t)
	runMessagesWorker(t, b.db, reg, redis, workertest.Namespace(t, redis), tn.ID, 50*time.Millisecond)

	const n = 20
	now := time.Now()
	for i := range n {
		no := "P-" + string(rune('A'+i))
		require.Equal(t, http.StatusCreated, b.do(t, "POST", base+"/cases", key, pushCase(no, now.Add(-time.Hour))).status)
		r := b.do(t, "POST", base+"/cases/"+no+"/rating", key, map[string]any{"level": 4, "channel": "window_device"})
		require.Equal(t, http.StatusOK, r.status, string(r.body))
	}
	// The oldest event is tried run after run; each run gives up after a
	// few failures in a row rather than flooding the province.
	var pending []map[string]any
	require.Eventually(t, func() bool {
		pending = b.do(t, "GET", base+"/province/unacknowledged", key, nil).list(t)
		return len(pending) == n && pending[0]["attempts"].(float64) >= 3
	}, 15*time.Second, 50*time.Millisecond, "retried while down")
	require.Contains(t, pending[0]["last_error"], "503")

	prov.down.Store(false)
	require.Eventually(t, func() bool {
		return len(b.do(t, "GET", base+"/province/unacknowledged", key, nil).list(t)) == 0
	}, 30*time.Second, 50*time.Millisecond, "everything arrives once the province recovers")
	time.Sleep(500 * time.Millisecond) // a duplicate would come now
	prov.mu.Lock()
	defer prov.mu.Unlock()
	require.Len(t, prov.accepted, n)
	for k, c := range prov.accepted {
		require.Equal(t, 1, c, "%s accepted once", k)
	}
	require.Equal(t, "居住证办理䶮", prov.events["P-A/rating"])
}
