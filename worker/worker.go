// Package worker does the work that happens after a response. Modules
// declare their tasks (modules.TaskProvider) and schedules
// (modules.ScheduleProvider); business transactions write tasks to the
// outbox (tenants.Enqueue); the relay moves them to asynq once they fall
// due; the asynq server runs them, each in a transaction of its tenant on
// behalf of the system subject; and the schedules start work on a timetable
// in every tenant that has the module enabled.
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"

	"yamen/modules"
	"yamen/tenants"
)

// Config is what a worker needs.
type Config struct {
	DB       *tenants.DB
	Registry *modules.Registry
	// Redis holds the queues (YAMEN_REDIS_URL; asynq.ParseRedisURI reads it).
	Redis  asynq.RedisConnOpt
	Logger *slog.Logger

	// Namespace keeps apart deployments, or parallel tests, that share one
	// Redis and one PostgreSQL: it prefixes the queue names and names the
	// lock that elects the worker running the schedules. Empty in
	// production.
	Namespace string
	// Tenants, when set, limits the relay and the schedules to the tenants
	// it accepts (tests); by default they work for every active tenant.
	Tenants func(uuid.UUID) bool
	// Location is the time zone of the schedules; the jurisdiction's when nil.
	Location *time.Location

	// Concurrency is how many tasks run at once; 32 by default, as tasks
	// mostly wait on PostgreSQL and the network.
	Concurrency int
	// Timeout bounds one run of a task whose type declares none; 5 minutes
	// by default.
	Timeout time.Duration
	// RetryDelay is the wait before a failed task's first retry; each retry
	// waits twice as long as the one before, up to MaxRetryDelay. 10 s and
	// 6 h by default.
	RetryDelay    time.Duration
	MaxRetryDelay time.Duration
	// Relay tunes the outbox relay.
	Relay RelayConfig
	// Tick, when set, shortens the worker's own waits for tests: how often
	// empty queues are checked (100 ms), due retries move back to their queue
	// (5 s), the schedules pick up module changes (1 s), the schedules'
	// leadership is retried (5 s) and the longest the relay backs off while
	// Redis is down (5 s).
	Tick time.Duration
}

// Defaults.
const (
	defaultConcurrency   = 32
	defaultTimeout       = 5 * time.Minute
	defaultRetryDelay    = 10 * time.Second
	defaultMaxRetryDelay = 6 * time.Hour
	// unknownMaxRetry is how often a task whose type this build does not
	// declare is retried: long enough for a rolling deploy to bring the
	// worker that knows it.
	unknownMaxRetry = 10
)

// Worker runs the tasks, the relay and the schedules.
type Worker struct {
	cfg      Config
	log      *slog.Logger
	server   *asynq.Server
	mux      *asynq.ServeMux
	relay    *Relay
	sched    *schedules
	listener *listener
	metrics  *Metrics
}

// New checks the modules' tasks and schedules and returns a worker for
// them. Nothing runs, and nothing connects, until Run.
func New(cfg Config) (*Worker, error) {
	if cfg.DB == nil || cfg.Registry == nil || cfg.Redis == nil {
		return nil, errors.New("worker: DB, Registry and Redis are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Tenants == nil {
		cfg.Tenants = func(uuid.UUID) bool { return true }
	}
	cfg.Concurrency = orDefault(cfg.Concurrency, defaultConcurrency)
	cfg.Timeout = orDefault(cfg.Timeout, defaultTimeout)
	cfg.RetryDelay = orDefault(cfg.RetryDelay, defaultRetryDelay)
	cfg.MaxRetryDelay = orDefault(cfg.MaxRetryDelay, defaultMaxRetryDelay)
	tasks, scheds, err := declarations(cfg.Registry)
	if err != nil {
		return nil, err
	}
	log := cfg.Logger.With("component", "worker")
	w := &Worker{cfg: cfg, log: log, mux: asynq.NewServeMux(), metrics: newMetrics(tasks)}

	queues := map[string]int{}
	// Weighted, not strict: low work still moves under load.
	for name, weight := range map[string]int{tenants.QueueCritical: 6, tenants.QueueDefault: 3, tenants.QueueLow: 1} {
		queues[QueueName(cfg.Namespace, name)] = weight
	}
	w.server = asynq.NewServer(cfg.Redis, asynq.Config{
		Concurrency:    cfg.Concurrency,
		Queues:         queues,
		RetryDelayFunc: retryDelay(cfg.RetryDelay, cfg.MaxRetryDelay),
		ErrorHandler:   asynq.ErrorHandlerFunc(w.failed),
		Logger:         slogAdapter{cfg.Logger},
		LogLevel:       asynq.WarnLevel,
		// asynq waits a second between looks at empty queues by default;
		// a notification should not, and a look at Redis is cheap.
		TaskCheckInterval:        orDefault(cfg.Tick, 100*time.Millisecond),
		DelayedTaskCheckInterval: cfg.Tick,
	})
	for _, t := range tasks {
		w.mux.Handle(t.Type, w.handler(t))
	}

	w.relay = newRelay(cfg, tasks, w.metrics, log.With("part", "relay"))
	w.sched = newSchedules(cfg, scheds, tasks, log.With("part", "schedules"))
	w.listener = &listener{db: cfg.DB, log: log.With("part", "listener"), retry: orDefault(cfg.Tick, 5*time.Second),
		channels: map[string]func(string){
			outboxChannel:  w.relay.notified,
			modulesChannel: w.sched.changed,
		},
		// Whatever was written while nobody listened is found by looking.
		connected: func() { w.relay.sweepSoon(); w.sched.reloadAll() },
	}
	return w, nil
}

// Run works until ctx ends, then lets running tasks finish (up to asynq's
// shutdown timeout, 8 s; a task cut short is run again).
func (w *Worker) Run(ctx context.Context) error {
	// Start does not reach Redis: a worker started while Redis is down
	// waits for it, and the relay keeps the outbox until then.
	if err := w.server.Start(w.mux); err != nil {
		return fmt.Errorf("worker: start: %w", err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { w.listener.run(ctx) })
	wg.Go(func() { w.relay.run(ctx) })
	wg.Go(func() { w.sched.run(ctx) })
	<-ctx.Done()
	wg.Wait()
	w.server.Shutdown()
	return w.relay.close()
}

// Relay returns the worker's outbox relay.
func (w *Worker) Relay() *Relay { return w.relay }

// Metrics returns the worker's Prometheus series, to register where the
// process exposes its metrics.
func (w *Worker) Metrics() *Metrics { return w.metrics }

// QueueName is the name in Redis of one of tenants.Queues.
func QueueName(namespace, queue string) string {
	if namespace == "" {
		return queue
	}
	return namespace + "." + queue
}

// QueueNames are the names in Redis of every queue, most urgent first.
func QueueNames(namespace string) []string {
	names := make([]string, len(tenants.Queues))
	for i, q := range tenants.Queues {
		names[i] = QueueName(namespace, q)
	}
	return names
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// slogAdapter lets asynq log through slog.
type slogAdapter struct{ log *slog.Logger }

func (a slogAdapter) Debug(args ...any) { a.log.Debug(fmt.Sprint(args...), "component", "asynq") }
func (a slogAdapter) Info(args ...any)  { a.log.Info(fmt.Sprint(args...), "component", "asynq") }
func (a slogAdapter) Warn(args ...any)  { a.log.Warn(fmt.Sprint(args...), "component", "asynq") }
func (a slogAdapter) Error(args ...any) { a.log.Error(fmt.Sprint(args...), "component", "asynq") }
func (a slogAdapter) Fatal(args ...any) {
	a.log.Error(fmt.Sprint(args...), "component", "asynq", "fatal", true)
}
