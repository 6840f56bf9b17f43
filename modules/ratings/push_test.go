package ratings_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"yamen/modules/ratings"
	"yamen/tenants"
	"yamen/tenants/tenanttest"
)

// province is a loopback provincial 好差评 system that is down until told
// otherwise and counts what it accepts by idempotency key.
type province struct {
	*httptest.Server
	down     atomic.Bool
	posts    atomic.Int64
	mu       sync.Mutex
	accepted map[string]int
}

func startProvince(t *testing.T) *province {
	p := &province{accepted: map[string]int{}}
	p.down.Store(true)
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.posts.Add(1)
		if p.down.Load() {
			http.Error(w, "维护中", http.StatusServiceUnavailable)
			return
		}
		p.mu.Lock()
		p.accepted[r.Header.Get(ratings.HeaderIdempotency)]++
		p.mu.Unlock()
	}))
	t.Cleanup(p.Close)
	return p
}

func (b *bundle) useProvince(t *testing.T, url string) {
	t.Helper()
	require.NoError(t, b.tx(t, func(tx *tenants.Tx) error {
		_, err := tx.Exec(context.Background(), `UPDATE tenant_modules SET settings = jsonb_build_object('province', jsonb_build_array(jsonb_build_object('url', $1::text)))
			WHERE module = 'ratings'`, url)
		return err
	}))
}

func (b *bundle) pushNow(t *testing.T, now time.Time) int {
	t.Helper()
	var n int
	require.NoError(t, b.tx(t, func(tx *tenants.Tx) error {
		var err error
		n, err = b.m.Push(context.Background(), tx, now)
		return err
	}))
	return n
}

func (b *bundle) unacknowledged(t *testing.T) []ratings.PendingUpload {
	t.Helper()
	var out []ratings.PendingUpload
	require.NoError(t, b.tx(t, func(tx *tenants.Tx) error {
		var err error
		out, err = ratings.Unacknowledged(context.Background(), tx, 1000)
		return err
	}))
	return out
}

// A push that meets a province that is down gives up after a few failures
// rather than trying every event; the events tried wait out their backoff,
// the rest stay due; once the province is back, everything arrives once.
func TestPushGivesUpOnADownProvinceAndResumes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	now := time.Now()
	const n = 40
	for i := range n {
		no := fmt.Sprintf("U-%02d", i)
		b.push(t, newCase(no, now.Add(-time.Hour)), now)
		require.NoError(t, b.tx(t, func(tx *tenants.Tx) error {
			_, err := b.m.Rate(context.Background(), tx, no, ratings.RateInput{Level: 4, Channel: "pc"}, ratings.Rater{Subject: "t"}, now)
			return err
		}))
	}
	pending := b.unacknowledged(t)
	require.Len(t, pending, n)
	require.Contains(t, pending[0].LastError, "未配置", "without an endpoint the listing says why nothing went")
	require.Zero(t, b.pushNow(t, time.Now()), "nothing is claimed without an endpoint")

	prov := startProvince(t)
	b.useProvince(t, prov.URL)
	now = time.Now()
	require.Equal(t, n, b.pushNow(t, now))
	tried := prov.posts.Load()
	require.Less(t, tried, int64(n), "the run gave up before trying everything")
	pending = b.unacknowledged(t)
	require.Len(t, pending, n)
	var backedOff, stillDue int
	for _, u := range pending {
		switch u.Attempts {
		case 1:
			backedOff++
			require.Contains(t, u.LastError, "503")
			require.True(t, u.DueAt.After(now), "a failed upload waits before it is tried again")
		case 0:
			stillDue++
			require.False(t, u.DueAt.After(now))
		}
	}
	require.Equal(t, int(tried), backedOff)
	require.Equal(t, n-int(tried), stillDue)

	// The province is back before the waits are over: staff have it all
	// sent again at once.
	prov.down.Store(false)
	var queued int
	require.NoError(t, b.tx(t, func(tx *tenants.Tx) error {
		var err error
		queued, err = b.m.Reconcile(context.Background(), tx, now)
		return err
	}))
	require.Equal(t, backedOff, queued)
	require.Equal(t, n, b.pushNow(t, now))
	require.Empty(t, b.unacknowledged(t))
	require.Zero(t, b.pushNow(t, now.Add(time.Hour)), "nothing is sent twice")
	prov.mu.Lock()
	defer prov.mu.Unlock()
	require.Len(t, prov.accepted, n)
	for k, c := range prov.accepted {
		require.Equal(t, 1, c, k)
	}
}

// A full batch that all went through queues the next push at once rather
// than leaving the rest for the schedule.
func TestPushContinuesAfterAFullBatch(t *testing.T) {
	t.Parallel()
	b := setup(t)
	now := time.Now()
	prov := startProvince(t)
	prov.down.Store(false)
	b.useProvince(t, prov.URL)
	require.NoError(t, b.tx(t, func(tx *tenants.Tx) error {
		ctx := context.Background()
		if _, err := tx.Exec(ctx, `INSERT INTO rating_cases (tenant_id, case_no, source, item_name, department_name, region_code, channel, rate_token, handled_at)
			SELECT current_tenant(), 'F-' || i, 'push', '事项', '部门', $1, 'window', 't', now() FROM generate_series(1, 501) AS i`, tenanttest.DistrictCode); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO rating_uploads (tenant_id, case_no, event, payload)
			SELECT current_tenant(), 'F-' || i, 'rating', '{}' FROM generate_series(1, 501) AS i`)
		return err
	}))
	now = time.Now()
	require.Equal(t, 500, b.pushNow(t, now))
	var next int
	require.NoError(t, b.tx(t, func(tx *tenants.Tx) error {
		return tx.QueryRow(context.Background(), "SELECT count(*) FROM outbox WHERE task_type = $1", ratings.TaskPush).Scan(&next)
	}))
	require.Equal(t, 1, next, "the next push is queued")
	require.Equal(t, 1, b.pushNow(t, now))
	require.Empty(t, b.unacknowledged(t))
}

// The daily reconciliation tells the holders of ratings:configure and the
// configured managers what the province has not acknowledged for a day,
// once a day, and nobody when everything arrived.
func TestReconcileDailyTellsTheManagers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.people(t)
	ctx := context.Background()
	now := time.Now()
	b.push(t, newCase("R-1", now.Add(-72*time.Hour)), now)
	_, err := b.rate(t, "R-1", ratings.RateInput{Level: 5, Channel: "pc"}, now)
	require.NoError(t, err)
	daily := func(at time.Time) int {
		var late int
		require.NoError(t, b.tx(t, func(tx *tenants.Tx) error {
			var err error
			late, err = b.m.ReconcileDaily(ctx, tx, at)
			return err
		}))
		return late
	}
	notices := func() []string {
		var texts []string
		require.NoError(t, b.tx(t, func(tx *tenants.Tx) error {
			rows, err := tx.Query(ctx, `SELECT m.body FROM message_deliveries d JOIN messages m ON m.id = d.message_id
				WHERE d.recipient_id = $1 AND d.channel = 'in_app'`, p.manager)
			if err != nil {
				return err
			}
			texts, err = pgx.CollectRows(rows, pgx.RowTo[string])
			return err
		}))
		return texts
	}
	require.Zero(t, daily(now), "a rating of today has not waited a day")
	require.Empty(t, notices())

	require.NoError(t, b.tx(t, func(tx *tenants.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE tenant_modules SET settings = jsonb_build_object('managers', jsonb_build_array($1::text)) WHERE module = 'ratings'`, p.manager.String())
		return err
	}))
	tomorrow := now.Add(25 * time.Hour)
	require.Equal(t, 1, daily(tomorrow))
	require.Equal(t, 1, daily(tomorrow.Add(time.Minute)), "still waiting")
	got := notices()
	require.Len(t, got, 1, "one notice a day")
	require.Contains(t, got[0], "省级系统尚有1条数据超过一天未确认接收")
}
