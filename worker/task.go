package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/robfig/cron/v3"

	"yamen/modules"
	"yamen/tenants"
)

var taskTypePattern = regexp.MustCompile(`^[a-z][a-z0-9]{1,30}:[a-z][a-z0-9_]{1,40}$`)

// declarations collects the tasks and schedules the modules declare, by
// task type and by module id, and checks them: types named <module>:<task>
// and declared once, known queues, a handler, and schedules of the module's
// own tasks with a cron spec that parses.
func declarations(reg *modules.Registry) (map[string]modules.Task, map[string][]modules.Schedule, error) {
	tasks := map[string]modules.Task{}
	scheds := map[string][]modules.Schedule{}
	var errs []error
	for _, m := range reg.All() {
		id := m.Module().ID
		var own []string
		if tp, ok := m.(modules.TaskProvider); ok {
			for _, t := range tp.Tasks() {
				switch {
				case !taskTypePattern.MatchString(t.Type) || !strings.HasPrefix(t.Type, id+":"):
					errs = append(errs, fmt.Errorf("module %s: task type %q must be named %s:<task>", id, t.Type, id))
				case tasks[t.Type].Type != "":
					errs = append(errs, fmt.Errorf("module %s: task %s declared twice", id, t.Type))
				case t.Queue != "" && !slices.Contains(tenants.Queues, t.Queue):
					errs = append(errs, fmt.Errorf("task %s: unknown queue %q", t.Type, t.Queue))
				case t.MaxRetry < 0 || t.Timeout < 0:
					errs = append(errs, fmt.Errorf("task %s: MaxRetry and Timeout cannot be negative", t.Type))
				case t.Handle == nil:
					errs = append(errs, fmt.Errorf("task %s: no handler", t.Type))
				default:
					tasks[t.Type] = t
					own = append(own, t.Type)
				}
			}
		}
		if sp, ok := m.(modules.ScheduleProvider); ok {
			for _, s := range sp.Schedules() {
				if !slices.Contains(own, s.Task) {
					errs = append(errs, fmt.Errorf("module %s: schedule of %q, which is not one of its tasks", id, s.Task))
					continue
				}
				// The parser asynq's scheduler uses.
				if _, err := cron.ParseStandard(s.Cron); err != nil {
					errs = append(errs, fmt.Errorf("module %s: schedule of %s: cron %q: %w", id, s.Task, s.Cron, err))
					continue
				}
				if _, err := json.Marshal(s.Payload); err != nil {
					errs = append(errs, fmt.Errorf("module %s: schedule of %s: payload: %w", id, s.Task, err))
					continue
				}
				scheds[id] = append(scheds[id], s)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, fmt.Errorf("worker: %w", err)
	}
	return tasks, scheds, nil
}

// envelope is the payload of every task in the queues: the tenant the work
// is for, around the module's own payload.
type envelope struct {
	Tenant  uuid.UUID       `json:"tenant"`
	Payload json.RawMessage `json:"payload"`
}

// appendEnvelope writes the envelope of payload, which is JSON already,
// without decoding it.
func appendEnvelope(dst []byte, tenant uuid.UUID, payload []byte) []byte {
	dst = append(dst, `{"tenant":"`...)
	dst = append(dst, tenant.String()...)
	dst = append(dst, `","payload":`...)
	if len(payload) == 0 {
		payload = []byte("null")
	}
	dst = append(dst, payload...)
	return append(dst, '}')
}

// TenantOf returns the tenant a queued task's payload carries.
func TenantOf(payload []byte) (uuid.UUID, error) {
	var env envelope
	if err := json.Unmarshal(payload, &env); err != nil {
		return uuid.Nil, fmt.Errorf("worker: task payload: %w", err)
	}
	if env.Tenant == uuid.Nil {
		return uuid.Nil, errors.New("worker: task payload names no tenant")
	}
	return env.Tenant, nil
}

// handler runs t in a transaction of the tenant its envelope names, on
// behalf of the system subject.
func (w *Worker) handler(t modules.Task) asynq.HandlerFunc {
	return func(ctx context.Context, task *asynq.Task) (err error) {
		start := time.Now()
		defer func() {
			p := recover()
			w.metrics.observe(task.Type(), time.Since(start), err != nil || p != nil)
			if p != nil {
				panic(p) // asynq recovers it and counts a failure
			}
		}()
		var env envelope
		if err := json.Unmarshal(task.Payload(), &env); err != nil || env.Tenant == uuid.Nil {
			// Retrying would not make it readable.
			return fmt.Errorf("worker: %s: payload is not a tenant envelope: %w", task.Type(), asynq.SkipRetry)
		}
		system := tenants.System()
		ctx = tenants.WithSubject(ctx, system)
		if id, ok := asynq.GetTaskID(ctx); ok {
			// What the audit log records as the request of the task's changes.
			ctx = tenants.WithRequestID(ctx, "task:"+id)
		}
		return w.cfg.DB.Tx(ctx, env.Tenant, system.String(), func(tx *tenants.Tx) error {
			return t.Handle(ctx, tx, env.Payload)
		})
	}
}

// failed logs a failed run; the last one, after which the task is dead, as
// an error.
func (w *Worker) failed(ctx context.Context, task *asynq.Task, err error) {
	id, _ := asynq.GetTaskID(ctx)
	retried, _ := asynq.GetRetryCount(ctx)
	max, _ := asynq.GetMaxRetry(ctx)
	tenant, _ := TenantOf(task.Payload())
	args := []any{"type", task.Type(), "id", id, "tenant", tenant, "retried", retried, "max_retry", max, "error", err}
	if retried >= max || errors.Is(err, asynq.SkipRetry) {
		w.log.Error("task is dead", args...)
		return
	}
	w.log.Warn("task failed; will retry", args...)
}

// retryDelay backs off exponentially from first, up to max, with jitter so
// that tasks failing together do not retry together.
func retryDelay(first, max time.Duration) asynq.RetryDelayFunc {
	return func(n int, _ error, _ *asynq.Task) time.Duration {
		d := max
		if n < 32 {
			if e := first << n; e > 0 && e < max {
				d = e
			}
		}
		// ±20%
		return d - d/5 + rand.N(d/5*2+1)
	}
}

// taskOptions returns how a task of taskType goes to asynq: its queue
// (queue, when the outbox row names one), retries and timeout.
func taskOptions(cfg Config, tasks map[string]modules.Task, taskType, queue string) []asynq.Option {
	t, known := tasks[taskType]
	if queue == "" {
		queue = t.Queue
	}
	if queue == "" {
		queue = tenants.QueueDefault
	}
	retry := t.MaxRetry
	if !known {
		retry = unknownMaxRetry
	}
	return []asynq.Option{
		asynq.Queue(QueueName(cfg.Namespace, queue)),
		asynq.MaxRetry(retry),
		asynq.Timeout(orDefault(t.Timeout, cfg.Timeout)),
	}
}
