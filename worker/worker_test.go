package worker_test

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"yamen/modules"
	"yamen/modules/builtin"
	"yamen/tenants"
	"yamen/tenants/tenanttest"
	"yamen/worker"
	"yamen/worker/workertest"
)

// Tasks written in business transactions of two tenants each run once, in
// a transaction of their own tenant on behalf of the system subject; a task
// of a transaction that rolled back never runs.
func TestOutboxTasksRunOnceInTheirTenant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	redis, ns := sharedRedis(t)
	rec := &recorder{}
	p := newProbe().add(modules.Task{Type: "probe:note", MaxRetry: 3, Handle: func(ctx context.Context, tx *tenants.Tx, payload []byte) error {
		if err := rec.handle(nil)(ctx, tx, payload); err != nil {
			return err
		}
		// Writes land in the task's tenant, recorded as the system's.
		return tenants.Audit(ctx, tx, "probe.note", "", map[string]any{"payload": json.RawMessage(payload)})
	}})
	a := tenanttest.Tenant(t, tenants.KindOther, "probe")
	b := tenanttest.Tenant(t, tenants.KindOther, "probe")
	startWorker(t, redis, ns, p.registry(t), []tenants.Tenant{a, b}, nil)

	want := map[string]struct {
		tenant  uuid.UUID
		payload string
	}{}
	// Tenant a: one transaction per task; tenant b: one transaction for all.
	for i := range 40 {
		task := tenants.Task{Type: "probe:note", Payload: map[string]any{"tenant": "a", "n": i}}
		id := enqueue(t, a, task)[0]
		want[id.String()] = struct {
			tenant  uuid.UUID
			payload string
		}{a.ID, payload(task.Payload)}
	}
	var batch []tenants.Task
	for i := range 40 {
		batch = append(batch, tenants.Task{Type: "probe:note", Payload: map[string]any{"tenant": "b", "n": i}})
	}
	for i, id := range enqueue(t, b, batch...) {
		want[id.String()] = struct {
			tenant  uuid.UUID
			payload string
		}{b.ID, payload(batch[i].Payload)}
	}
	tenanttest.Tx(t, a, func(tx *tenants.Tx) {
		_, err := tenants.Enqueue(ctx, tx, tenants.Task{Type: "probe:note", Payload: "rolled back"})
		require.NoError(t, err)
	})

	rec.waitRuns(t, len(want), 15*time.Second)
	time.Sleep(300 * time.Millisecond) // time for a second run, were there one
	runs := rec.all()
	require.Len(t, runs, len(want))
	seen := map[string]bool{}
	for _, r := range runs {
		w, ok := want[r.id]
		require.True(t, ok, "a task nobody enqueued ran: %s %s", r.id, r.payload)
		require.False(t, seen[r.id], "task %s ran twice", r.id)
		seen[r.id] = true
		require.Equal(t, w.tenant, r.tenant, "task %s ran in the wrong tenant", r.id)
		require.Equal(t, tenants.System().String(), r.subject)
		require.JSONEq(t, w.payload, r.payload)
	}

	// The outbox knows every row was handed over.
	var ids []uuid.UUID
	for id := range want {
		ids = append(ids, uuid.MustParse(id))
	}
	for id, row := range outboxRows(t, a, ids) {
		require.True(t, row.Enqueued, "row %s", id)
	}
	// The handler's writes are the tenant's, by the system, with the task
	// as their request.
	r, err := tenanttest.DB(t).Reader(a.ID, "system")
	require.NoError(t, err)
	entries, err := tenants.ListAudit(ctx, r, tenants.AuditFilter{Action: "probe.note"})
	require.NoError(t, err)
	require.Len(t, entries, 40)
	for _, e := range entries {
		require.Equal(t, "system", e.Subject)
		require.True(t, strings.HasPrefix(e.RequestID, "task:"), e.RequestID)
		require.Equal(t, a.ID, want[strings.TrimPrefix(e.RequestID, "task:")].tenant)
	}
}

// A task due in an hour waits in PostgreSQL; one due shortly runs when it
// falls due, not before.
func TestFutureTasksWaitInPostgreSQL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	redis, ns := sharedRedis(t)
	rec := &recorder{}
	p := newProbe().add(modules.Task{Type: "probe:later", Handle: rec.handle(nil)})
	a := tenanttest.Tenant(t, tenants.KindOther, "probe")

	far := enqueue(t, a, tenants.Task{Type: "probe:later", RunAt: time.Now().Add(time.Hour)})[0]
	w := startWorker(t, redis, ns, p.registry(t), []tenants.Tenant{a}, nil)
	soonAt := time.Now().Add(800 * time.Millisecond)
	soon := enqueue(t, a, tenants.Task{Type: "probe:later", RunAt: soonAt})[0]

	rec.waitRuns(t, 1, 10*time.Second)
	runs := rec.all()
	require.Equal(t, soon.String(), runs[0].id)
	require.False(t, runs[0].at.Before(soonAt), "ran %s before it was due", soonAt.Sub(runs[0].at))

	n, err := w.Relay().Drain(ctx, a.ID)
	require.NoError(t, err)
	require.Zero(t, n, "nothing else is due")
	require.False(t, outboxRows(t, a, []uuid.UUID{far})[far].Enqueued)
	in := asynq.NewInspector(redis)
	defer in.Close()
	_, err = in.GetTaskInfo(worker.QueueName(ns, tenants.QueueDefault), far.String())
	require.ErrorIs(t, err, asynq.ErrTaskNotFound, "the far task must not be in Redis yet")
	require.Len(t, rec.all(), 1)
}

// A relay that dies after handing tasks to asynq and before marking their
// rows leaves them to be handed over again: asynq knows their ids (pending,
// or finished and retained), so they do not run a second time.
func TestRelayDiedBeforeMarking(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	redis, ns := sharedRedis(t)
	rec := &recorder{}
	p := newProbe().add(modules.Task{Type: "probe:once", Handle: rec.handle(nil)})
	a := tenanttest.Tenant(t, tenants.KindOther, "probe")

	// Pending: the dead relay's enqueue went through, its mark did not.
	pending := enqueue(t, a, tenants.Task{Type: "probe:once", Payload: "pending"})[0]
	client := asynq.NewClient(redis)
	defer client.Close()
	env := payload(map[string]any{"tenant": a.ID, "payload": "pending"})
	_, err := client.Enqueue(asynq.NewTask("probe:once", []byte(env)), asynq.TaskID(pending.String()),
		asynq.Queue(worker.QueueName(ns, tenants.QueueDefault)), asynq.Retention(time.Minute))
	require.NoError(t, err)

	w := startWorker(t, redis, ns, p.registry(t), []tenants.Tenant{a}, nil)
	rec.waitRuns(t, 1, 10*time.Second)
	require.Eventually(t, func() bool { return outboxRows(t, a, []uuid.UUID{pending})[pending].Enqueued }, 5*time.Second, 20*time.Millisecond)

	// Finished: the task ran, then its row is found unmarked again.
	done := enqueue(t, a, tenants.Task{Type: "probe:once", Payload: "done"})[0]
	rec.waitRuns(t, 2, 10*time.Second)
	require.NoError(t, tenanttest.DB(t).Tx(ctx, a.ID, "system", func(tx *tenants.Tx) error {
		_, err := tx.Exec(ctx, "UPDATE outbox SET enqueued_at = NULL WHERE id = $1", done)
		return err
	}))
	n, err := w.Relay().Drain(ctx, a.ID)
	require.NoError(t, err)
	require.Equal(t, 1, n, "the row counts as handed over")
	require.True(t, outboxRows(t, a, []uuid.UUID{done})[done].Enqueued)

	time.Sleep(300 * time.Millisecond)
	require.Equal(t, map[string]int{pending.String(): 1, done.String(): 1}, rec.byID())
}

// With Redis down, business transactions still write their tasks; the
// relay fails, keeps them, and hands every one over once Redis is back.
func TestRedisOutage(t *testing.T) {
	t.Parallel()
	srv := workertest.Start(t)
	rec := &recorder{}
	p := newProbe().add(modules.Task{Type: "probe:survive", MaxRetry: 3, Handle: rec.handle(nil)})
	a := tenanttest.Tenant(t, tenants.KindOther, "probe")
	startWorker(t, srv.Opt(), "outage", p.registry(t), []tenants.Tenant{a}, nil)

	var ids []uuid.UUID
	for i := range 20 {
		ids = append(ids, enqueue(t, a, tenants.Task{Type: "probe:survive", Payload: i})...)
	}
	rec.waitRuns(t, 20, 10*time.Second)

	srv.Stop(t)
	start := time.Now()
	var during []uuid.UUID
	for i := range 200 {
		during = append(during, enqueue(t, a, tenants.Task{Type: "probe:survive", Payload: 100 + i})...)
	}
	t.Logf("200 business transactions with Redis down took %s", time.Since(start))
	require.Eventually(t, func() bool {
		for _, row := range outboxRows(t, a, during) {
			if row.LastError != "" {
				return true
			}
		}
		return false
	}, 10*time.Second, 20*time.Millisecond, "the relay should have tried and failed")
	for id, row := range outboxRows(t, a, during) {
		require.False(t, row.Enqueued, "row %s handed over while Redis was down", id)
	}
	require.Len(t, rec.all(), 20)

	srv.Restart(t)
	ids = append(ids, during...)
	rec.waitRuns(t, len(ids), 20*time.Second)
	time.Sleep(300 * time.Millisecond)
	counts := rec.byID()
	require.Len(t, counts, len(ids))
	for _, id := range ids {
		require.Equal(t, 1, counts[id.String()], "task %s", id)
	}
	for id, row := range outboxRows(t, a, ids) {
		require.True(t, row.Enqueued, "row %s", id)
		require.Empty(t, row.LastError)
	}
}

// A task that keeps failing is retried MaxRetry times, then dead; one that
// fails twice and then succeeds is done; a payload without its tenant is
// dead at once. The metrics count every run.
func TestRetriesAndDeadTasks(t *testing.T) {
	t.Parallel()
	redis, ns := sharedRedis(t)
	failing, flaky := &recorder{}, &recorder{}
	p := newProbe().
		add(modules.Task{Type: "probe:fail", MaxRetry: 2, Handle: failing.handle(func(int) error { return errBoom })}).
		add(modules.Task{Type: "probe:flaky", Queue: tenants.QueueCritical, MaxRetry: 5, Handle: flaky.handle(func(n int) error {
			if n < 3 {
				return errBoom
			}
			return nil
		})})
	a := tenanttest.Tenant(t, tenants.KindOther, "probe")
	w := startWorker(t, redis, ns, p.registry(t), []tenants.Tenant{a}, nil)
	ids := enqueue(t, a, tenants.Task{Type: "probe:fail"}, tenants.Task{Type: "probe:flaky"})

	client := asynq.NewClient(redis)
	defer client.Close()
	orphan, err := client.Enqueue(asynq.NewTask("probe:fail", []byte(`{"payload":1}`)), asynq.MaxRetry(5),
		asynq.Queue(worker.QueueName(ns, tenants.QueueDefault)))
	require.NoError(t, err)

	in := asynq.NewInspector(redis)
	defer in.Close()
	// state is nil until the relay has handed the task over.
	state := func(queue string, id string) *asynq.TaskInfo {
		info, _ := in.GetTaskInfo(worker.QueueName(ns, queue), id)
		return info
	}
	reaches := func(queue, id string, want asynq.TaskState) {
		t.Helper()
		require.Eventually(t, func() bool {
			info := state(queue, id)
			return info != nil && info.State == want
		}, 10*time.Second, 20*time.Millisecond, "task %s never became %s", id, want)
	}
	reaches(tenants.QueueDefault, ids[0].String(), asynq.TaskStateArchived)
	dead := state(tenants.QueueDefault, ids[0].String())
	require.Equal(t, 2, dead.Retried)
	require.Contains(t, dead.LastErr, "boom")
	reaches(tenants.QueueCritical, ids[1].String(), asynq.TaskStateCompleted)
	reaches(tenants.QueueDefault, orphan.ID, asynq.TaskStateArchived)
	require.Zero(t, state(tenants.QueueDefault, orphan.ID).Retried, "an envelope without a tenant is not retried")
	require.Contains(t, state(tenants.QueueDefault, orphan.ID).LastErr, "tenant envelope")

	time.Sleep(200 * time.Millisecond)
	require.Len(t, failing.all(), 3, "one run and two retries")
	require.Len(t, flaky.all(), 3)

	reg := prometheus.NewRegistry()
	reg.MustRegister(w.Metrics())
	require.Equal(t, 4.0, counter(t, reg, "yamen_task_processed_total", "probe:fail"), "three runs and the orphan")
	require.Equal(t, 4.0, counter(t, reg, "yamen_task_failed_total", "probe:fail"))
	require.Equal(t, 3.0, counter(t, reg, "yamen_task_processed_total", "probe:flaky"))
	require.Equal(t, 2.0, counter(t, reg, "yamen_task_failed_total", "probe:flaky"))
	require.Equal(t, 2.0, counter(t, reg, "yamen_outbox_relayed_total", ""))
}

// counter reads a counter (or a histogram's count) of a task type from reg.
func counter(t *testing.T, reg *prometheus.Registry, name, taskType string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if taskType != "" && label(m, "type") != taskType {
				continue
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	t.Fatalf("no metric %s{type=%q}", name, taskType)
	return 0
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// Two relays (two worker processes) share a tenant's rows: every task runs
// once.
func TestRelaysShareTheWork(t *testing.T) {
	t.Parallel()
	redis, ns := sharedRedis(t)
	rec := &recorder{}
	p := newProbe().add(modules.Task{Type: "probe:shared", Handle: rec.handle(nil)})
	a := tenanttest.Tenant(t, tenants.KindOther, "probe")
	small := func(c *worker.Config) { c.Relay.BatchSize = 25 }
	w1 := startWorker(t, redis, ns, p.registry(t), []tenants.Tenant{a}, small)
	w2 := startWorker(t, redis, ns, p.registry(t), []tenants.Tenant{a}, small)

	var ids []uuid.UUID
	for i := range 10 {
		var batch []tenants.Task
		for j := range 50 {
			batch = append(batch, tenants.Task{Type: "probe:shared", Payload: i*100 + j})
		}
		ids = append(ids, enqueue(t, a, batch...)...)
	}
	rec.waitRuns(t, len(ids), 15*time.Second)
	time.Sleep(300 * time.Millisecond)
	counts := rec.byID()
	require.Len(t, counts, len(ids))
	for _, id := range ids {
		require.Equal(t, 1, counts[id.String()])
	}
	reg1, reg2 := prometheus.NewRegistry(), prometheus.NewRegistry()
	reg1.MustRegister(w1.Metrics())
	reg2.MustRegister(w2.Metrics())
	relayed1, relayed2 := counter(t, reg1, "yamen_outbox_relayed_total", ""), counter(t, reg2, "yamen_outbox_relayed_total", "")
	t.Logf("relay 1 handed over %v rows, relay 2 %v", relayed1, relayed2)
	require.Equal(t, float64(len(ids)), relayed1+relayed2)
}

// The schedules follow the modules: a tenant that enables the module gets
// its schedule, one that disables it loses it.
func TestSchedulesFollowModules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	redis, ns := sharedRedis(t)
	rec := &recorder{}
	p := newProbe().
		add(modules.Task{Type: "probe:tick", Handle: rec.handle(nil)}).
		every(modules.Schedule{Task: "probe:tick", Cron: "@every 1s", Payload: map[string]string{"what": "tick"}})
	on := tenanttest.Tenant(t, tenants.KindOther, "probe")
	off := tenanttest.Tenant(t, tenants.KindOther)
	// asynq keeps the enqueue history of a schedule it stopped; drop ours
	// once the worker is gone.
	t.Cleanup(func() { dropSchedulerHistory(t, redis, rec) })
	startWorker(t, redis, ns, p.registry(t), []tenants.Tenant{on, off}, nil)

	runsOf := func(tn tenants.Tenant) int {
		n := 0
		for _, r := range rec.all() {
			if r.tenant == tn.ID {
				n++
			}
		}
		return n
	}
	require.Eventually(t, func() bool { return runsOf(on) > 0 }, 5*time.Second, 20*time.Millisecond)
	require.JSONEq(t, `{"what":"tick"}`, rec.all()[0].payload)
	require.Zero(t, runsOf(off))

	setEnabled := func(tn tenants.Tenant, enabled bool) {
		require.NoError(t, tenanttest.DB(t).Tx(ctx, tn.ID, "system", func(tx *tenants.Tx) error {
			if enabled {
				if err := tenants.SetEntitled(ctx, tx, "probe", true); err != nil {
					return err
				}
			}
			return tenants.SetEnabled(ctx, tx, "probe", enabled)
		}))
	}
	setEnabled(off, true)
	setEnabled(on, false)
	require.Eventually(t, func() bool { return runsOf(off) > 0 }, 5*time.Second, 20*time.Millisecond)
	// A tick already in the queue when the module went off may still run.
	stopped := runsOf(on)
	time.Sleep(2200 * time.Millisecond)
	require.LessOrEqual(t, runsOf(on), stopped+1, "the schedule of a disabled module keeps firing")
	require.Greater(t, runsOf(off), 1, "the newly enabled tenant ticks on")
}

// Declarations are checked when the worker is built.
func TestDeclarationsAreChecked(t *testing.T) {
	t.Parallel()
	redis := workertest.Redis(t)
	handle := func(context.Context, *tenants.Tx, []byte) error { return nil }
	for name, p := range map[string]*probe{
		"OtherModulesType": newProbe().add(modules.Task{Type: "files:purge", Handle: handle}),
		"MalformedType":    newProbe().add(modules.Task{Type: "probe:Bad Type", Handle: handle}),
		"UnknownQueue":     newProbe().add(modules.Task{Type: "probe:work", Queue: "urgent", Handle: handle}),
		"NoHandler":        newProbe().add(modules.Task{Type: "probe:work"}),
		"Twice":            newProbe().add(modules.Task{Type: "probe:work", Handle: handle}).add(modules.Task{Type: "probe:work", Handle: handle}),
		"NegativeRetry":    newProbe().add(modules.Task{Type: "probe:work", MaxRetry: -1, Handle: handle}),
		"ScheduleOfNoTask": newProbe().add(modules.Task{Type: "probe:work", Handle: handle}).every(modules.Schedule{Task: "probe:other", Cron: "@daily"}),
		"BadCron":          newProbe().add(modules.Task{Type: "probe:work", Handle: handle}).every(modules.Schedule{Task: "probe:work", Cron: "61 * * * *"}),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := worker.New(worker.Config{DB: tenanttest.DB(t), Registry: p.registry(t), Redis: redis})
			require.Error(t, err)
			t.Log(err)
		})
	}
	_, err := worker.New(worker.Config{DB: tenanttest.DB(t), Redis: redis, Registry: newProbe().
		add(modules.Task{Type: "probe:work", Queue: tenants.QueueLow, MaxRetry: 1, Timeout: time.Second, Handle: handle}).
		every(modules.Schedule{Task: "probe:work", Cron: "30 2 * * *"}).registry(t)})
	require.NoError(t, err)
}

// Every built-in module's tasks and schedules pass the worker's checks, so
// `yamen worker` starts.
func TestBuiltinDeclarations(t *testing.T) {
	t.Parallel()
	reg, err := builtin.Registry()
	require.NoError(t, err)
	_, err = worker.New(worker.Config{DB: tenanttest.DB(t), Registry: reg, Redis: workertest.Redis(t)})
	require.NoError(t, err)
}

// dropSchedulerHistory deletes the scheduler histories that record tasks
// of rec.
func dropSchedulerHistory(t *testing.T, r asynq.RedisConnOpt, rec *recorder) {
	ctx := context.Background()
	c := r.MakeRedisClient().(redis.UniversalClient)
	defer c.Close()
	ids := rec.byID()
	iter := c.Scan(ctx, 0, "asynq:scheduler_history:*", 100).Iterator()
	for iter.Next(ctx) {
		events, err := c.ZRange(ctx, iter.Val(), 0, -1).Result()
		if err != nil {
			continue
		}
		for _, e := range events {
			if slices.ContainsFunc(slices.Collect(maps.Keys(ids)), func(id string) bool { return strings.Contains(e, id) }) {
				c.Del(ctx, iter.Val())
				break
			}
		}
	}
}
