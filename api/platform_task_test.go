package api_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"yamen/api"
	"yamen/modules"
	"yamen/tenants"
	"yamen/tenants/tenanttest"
	"yamen/worker"
	"yamen/worker/workertest"
)

// chore is a module of these tests whose one task fails while told to.
type chore struct {
	failing *atomic.Bool
	runs    *atomic.Int32
}

func (chore) Module() modules.Info {
	return modules.Info{ID: "chore", Title: modules.Text{ZH: "杂务", EN: "Chore"}}
}

func (c chore) Tasks() []modules.Task {
	return []modules.Task{{Type: "chore:push", MaxRetry: 1, Handle: func(context.Context, *tenants.Tx, []byte) error {
		c.runs.Add(1)
		if c.failing.Load() {
			return errors.New("provider answered 500")
		}
		return nil
	}}}
}

// A task whose handler keeps failing ends among the dead tasks, where a
// platform admin lists it, retries it and deletes it.
func TestDeadTasks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := tenanttest.DB(t)
	redis := workertest.Redis(t)
	ns := workertest.Namespace(t, redis)
	c := chore{failing: &atomic.Bool{}, runs: &atomic.Int32{}}
	c.failing.Store(true)
	reg, err := modules.NewRegistry(c)
	require.NoError(t, err)
	tn := tenanttest.Tenant(t, tenants.KindOther, "chore")

	w, err := worker.New(worker.Config{DB: db, Registry: reg, Redis: redis, Namespace: ns,
		Tenants: func(id uuid.UUID) bool { return id == tn.ID },
		Tick:    50 * time.Millisecond, RetryDelay: 10 * time.Millisecond, MaxRetryDelay: 20 * time.Millisecond})
	require.NoError(t, err)
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	t.Cleanup(func() { stop(); require.NoError(t, <-done) })

	inspector := asynq.NewInspector(redis)
	t.Cleanup(func() { _ = inspector.Close() })
	srv, err := api.New(api.Config{DB: db, Registry: reg, Inspector: inspector, TaskQueues: worker.QueueNames(ns)})
	require.NoError(t, err)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	_, key, err := db.CreatePlatformKey(ctx, tenants.NewKey{Name: "test " + t.Name()})
	require.NoError(t, err)
	b := &bundle{url: ts.URL, db: db, platformKey: key}

	var ids []string
	require.NoError(t, db.Tx(ctx, tn.ID, "system", func(tx *tenants.Tx) error {
		for i := range 2 {
			id, err := tenants.Enqueue(ctx, tx, tenants.Task{Type: "chore:push", Payload: map[string]any{"phone": fmt.Sprintf("1380000000%d", i)}})
			ids = append(ids, id.String())
			if err != nil {
				return err
			}
		}
		return nil
	}))

	dead := func(query string) []map[string]any {
		r := b.do(t, "GET", "/v1/platform/tasks/dead"+query, b.platformKey, nil)
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		return r.list(t)
	}
	require.Eventually(t, func() bool { return len(dead("")) == 2 }, 10*time.Second, 20*time.Millisecond)
	require.EqualValues(t, 4, c.runs.Load(), "a run and a retry each")
	list := dead("")
	require.ElementsMatch(t, ids, []any{list[0]["id"], list[1]["id"]})
	d := list[0]
	require.Equal(t, "chore:push", d["type"])
	require.Equal(t, worker.QueueName(ns, tenants.QueueDefault), d["queue"])
	require.Equal(t, tn.ID.String(), d["tenant_id"])
	require.Equal(t, tn.Slug, d["tenant"])
	require.EqualValues(t, 1, d["retried"])
	require.EqualValues(t, 1, d["max_retry"])
	require.Contains(t, d["last_error"], "provider answered 500")
	require.NotEmpty(t, d["last_failed_at"])
	require.NotContains(t, string(b.do(t, "GET", "/v1/platform/tasks/dead", b.platformKey, nil).body), "13800000000",
		"the payload is the tenant's and is not shown")

	t.Run("Paging", func(t *testing.T) {
		first, second := dead("?limit=1"), dead("?limit=1&page=2")
		require.Len(t, first, 1)
		require.Len(t, second, 1)
		require.NotEqual(t, first[0]["id"], second[0]["id"])
		require.Empty(t, dead("?limit=1&page=3"))
		require.Len(t, dead("?queue="+worker.QueueName(ns, tenants.QueueDefault)), 2)
		require.Empty(t, dead("?queue="+worker.QueueName(ns, tenants.QueueCritical)))
		requireProblem(t, b.do(t, "GET", "/v1/platform/tasks/dead?queue=nonsense", b.platformKey, nil), http.StatusUnprocessableEntity)
	})

	t.Run("PlatformAdminsOnly", func(t *testing.T) {
		tenantKey := b.key(t, tn, "*")
		requireProblem(t, b.do(t, "GET", "/v1/platform/tasks/dead", tenantKey, nil), http.StatusForbidden)
		requireProblem(t, b.do(t, "POST", "/v1/platform/tasks/dead/"+ids[0]+"/retry", tenantKey, nil), http.StatusForbidden)
		requireProblem(t, b.do(t, "DELETE", "/v1/platform/tasks/dead/"+ids[0], "", nil), http.StatusUnauthorized)
	})

	// Retried once the provider is fixed, the task runs and is done.
	c.failing.Store(false)
	r := b.do(t, "POST", "/v1/platform/tasks/dead/"+ids[0]+"/retry", b.platformKey, nil)
	require.Equal(t, http.StatusNoContent, r.status, string(r.body))
	require.Eventually(t, func() bool {
		info, err := inspector.GetTaskInfo(worker.QueueName(ns, tenants.QueueDefault), ids[0])
		return err == nil && info.State == asynq.TaskStateCompleted
	}, 10*time.Second, 20*time.Millisecond)
	require.EqualValues(t, 5, c.runs.Load())
	requireProblem(t, b.do(t, "POST", "/v1/platform/tasks/dead/"+ids[0]+"/retry", b.platformKey, nil), http.StatusConflict)

	r = b.do(t, "DELETE", "/v1/platform/tasks/dead/"+ids[1], b.platformKey, nil)
	require.Equal(t, http.StatusNoContent, r.status, string(r.body))
	require.Empty(t, dead(""))
	requireProblem(t, b.do(t, "DELETE", "/v1/platform/tasks/dead/"+ids[1], b.platformKey, nil), http.StatusNotFound)
	requireProblem(t, b.do(t, "POST", "/v1/platform/tasks/dead/"+uuid.NewString()+"/retry", b.platformKey, nil), http.StatusNotFound)

	// Both are in the tenant's audit log, as the platform admin's doing.
	rd, err := db.Reader(tn.ID, "system")
	require.NoError(t, err)
	for action, id := range map[string]string{"task.retry": ids[0], "task.delete": ids[1]} {
		entries, err := tenants.ListAudit(ctx, rd, tenants.AuditFilter{Action: action})
		require.NoError(t, err)
		require.Len(t, entries, 1, action)
		require.Equal(t, id, entries[0].Target)
		require.Contains(t, entries[0].Subject, string(tenants.SubjectPlatformKey))
	}
}

// Without the task queue the operations exist and answer 503.
func TestDeadTasksWithoutQueue(t *testing.T) {
	t.Parallel()
	db := tenanttest.DB(t)
	reg, err := modules.NewRegistry()
	require.NoError(t, err)
	srv, err := api.New(api.Config{DB: db, Registry: reg})
	require.NoError(t, err)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	_, key, err := db.CreatePlatformKey(context.Background(), tenants.NewKey{Name: "test " + t.Name()})
	require.NoError(t, err)
	b := &bundle{url: ts.URL, db: db, platformKey: key}
	requireProblem(t, b.do(t, "GET", "/v1/platform/tasks/dead", b.platformKey, nil), http.StatusServiceUnavailable)
	requireProblem(t, b.do(t, "DELETE", "/v1/platform/tasks/dead/x", b.platformKey, nil), http.StatusServiceUnavailable)
}
