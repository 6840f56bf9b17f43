// Package worker is later: the asynq server that runs the work modules hand
// it. The outbox relay, schedules and notification channels arrive with the
// worker issue; this is the process they run in.
package worker

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/hibiken/asynq"
)

// Worker runs queued tasks.
type Worker struct {
	server *asynq.Server
	mux    *asynq.ServeMux
}

// New returns a worker reading from the Redis at redisURL.
func New(redisURL string, log *slog.Logger) (*Worker, error) {
	opt, err := asynq.ParseRedisURI(redisURL)
	if err != nil {
		return nil, fmt.Errorf("worker: YAMEN_REDIS_URL: %w", err)
	}
	srv := asynq.NewServer(opt, asynq.Config{
		// Weighted, not strict: low work still moves under load.
		Queues:   map[string]int{"critical": 6, "default": 3, "low": 1},
		Logger:   slogAdapter{log},
		LogLevel: asynq.WarnLevel,
	})
	return &Worker{server: srv, mux: asynq.NewServeMux()}, nil
}

// Handle registers the handler of a task type (<module>:<task>).
func (w *Worker) Handle(taskType string, h asynq.Handler) { w.mux.Handle(taskType, h) }

// Run processes tasks until ctx ends, then lets running tasks finish.
func (w *Worker) Run(ctx context.Context) error {
	if err := w.server.Start(w.mux); err != nil {
		return fmt.Errorf("worker: start: %w", err)
	}
	<-ctx.Done()
	w.server.Shutdown()
	return nil
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
