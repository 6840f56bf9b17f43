package worker_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"yamen/modules"
	"yamen/tenants"
	"yamen/tenants/tenanttest"
	"yamen/worker"
	"yamen/worker/workertest"
)

// probe is a module that exists only in these tests: its tasks record what
// they were given, and fail when told to.
type probe struct {
	tasks     []modules.Task
	schedules []modules.Schedule
}

func (*probe) Module() modules.Info {
	return modules.Info{ID: "probe", Title: modules.Text{ZH: "探针", EN: "Probe"}}
}
func (p *probe) Tasks() []modules.Task                   { return p.tasks }
func (p *probe) Schedules() []modules.Schedule           { return p.schedules }
func (p *probe) add(t modules.Task) *probe               { p.tasks = append(p.tasks, t); return p }
func (p *probe) every(s modules.Schedule) *probe         { p.schedules = append(p.schedules, s); return p }
func newProbe() *probe                                   { return &probe{} }
func (p *probe) registry(t testing.TB) *modules.Registry { return mustRegistry(t, p) }

func mustRegistry(t testing.TB, mods ...modules.Module) *modules.Registry {
	t.Helper()
	reg, err := modules.NewRegistry(mods...)
	require.NoError(t, err)
	return reg
}

// run is one run of a task, as its handler saw it.
type run struct {
	id      string
	tenant  uuid.UUID
	subject string
	payload string
	at      time.Time
}

// recorder keeps the runs of tasks.
type recorder struct {
	mu   sync.Mutex
	runs []run
}

// handle records the run, then returns fail's verdict (nil when fail is nil).
func (r *recorder) handle(fail func(n int) error) func(ctx context.Context, tx *tenants.Tx, payload []byte) error {
	return func(ctx context.Context, tx *tenants.Tx, payload []byte) error {
		id, _ := asynq.GetTaskID(ctx)
		r.mu.Lock()
		r.runs = append(r.runs, run{id: id, tenant: tx.TenantID(), subject: tx.Subject(), payload: string(payload), at: time.Now()})
		n := len(r.runs)
		r.mu.Unlock()
		if fail != nil {
			return fail(n)
		}
		return nil
	}
}

func (r *recorder) all() []run {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]run(nil), r.runs...)
}

// byID counts the runs of each task id.
func (r *recorder) byID() map[string]int {
	n := map[string]int{}
	for _, x := range r.all() {
		n[x.id]++
	}
	return n
}

// waitRuns waits until n runs were recorded.
func (r *recorder) waitRuns(t *testing.T, n int, within time.Duration) {
	t.Helper()
	require.Eventually(t, func() bool { return len(r.all()) >= n }, within, 10*time.Millisecond,
		"want %d runs", n)
}

// started is a running worker of a test.
type started struct {
	*worker.Worker
	ns    string
	redis asynq.RedisConnOpt
}

// startWorker runs a worker for the test's own tenants and namespace until
// the test ends. tweak may change its configuration first.
func startWorker(t *testing.T, redis asynq.RedisConnOpt, ns string, reg *modules.Registry, ts []tenants.Tenant, tweak func(*worker.Config)) *started {
	t.Helper()
	mine := map[uuid.UUID]bool{}
	for _, tn := range ts {
		mine[tn.ID] = true
	}
	cfg := worker.Config{
		DB: tenanttest.DB(t), Registry: reg, Redis: redis, Logger: testLogger(),
		Namespace: ns,
		Tenants:   func(id uuid.UUID) bool { return mine[id] },
		Location:  shanghai,
		Tick:      50 * time.Millisecond, RetryDelay: 20 * time.Millisecond, MaxRetryDelay: 100 * time.Millisecond,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	w, err := worker.New(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	return &started{Worker: w, ns: ns, redis: redis}
}

var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}()

// testLogger shows the worker's log with YAMEN_TEST_LOG=1.
func testLogger() *slog.Logger {
	if os.Getenv("YAMEN_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// enqueue commits tasks in one business transaction of tenant and returns
// their ids.
func enqueue(t *testing.T, tenant tenants.Tenant, tasks ...tenants.Task) []uuid.UUID {
	t.Helper()
	var ids []uuid.UUID
	err := tenanttest.DB(t).Tx(context.Background(), tenant.ID, "system", func(tx *tenants.Tx) error {
		for _, task := range tasks {
			id, err := tenants.Enqueue(context.Background(), tx, task)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	require.NoError(t, err)
	return ids
}

// outboxRow is what the outbox says about a task.
type outboxRow struct {
	Enqueued  bool
	Attempts  int
	LastError string
}

func outboxRows(t *testing.T, tenant tenants.Tenant, ids []uuid.UUID) map[uuid.UUID]outboxRow {
	t.Helper()
	r, err := tenanttest.DB(t).Reader(tenant.ID, "system")
	require.NoError(t, err)
	rows, err := r.Query(context.Background(), "SELECT id, enqueued_at IS NOT NULL, attempts, last_error FROM outbox WHERE id = ANY($1)", ids)
	require.NoError(t, err)
	out := map[uuid.UUID]outboxRow{}
	for rows.Next() {
		var id uuid.UUID
		var row outboxRow
		require.NoError(t, rows.Scan(&id, &row.Enqueued, &row.Attempts, &row.LastError))
		out[id] = row
	}
	require.NoError(t, rows.Err())
	return out
}

func payload(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

var errBoom = errors.New("boom")

// sharedRedis is the Redis of `make test` and a namespace of the test's own.
func sharedRedis(t *testing.T) (asynq.RedisConnOpt, string) {
	r := workertest.Redis(t)
	return r, workertest.Namespace(t, r)
}
