package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"
	_ "time/tzdata" // the jurisdiction's zone, on hosts without zoneinfo

	"github.com/google/uuid"
	"github.com/hibiken/asynq"

	"yamen/modules"
	"yamen/problem"
	"yamen/tenants"
)

// schedules runs the modules' schedules: one asynq periodic task per
// schedule and active tenant that has the module enabled, kept by asynq's
// PeriodicTaskManager, which asks GetConfigs every second and registers
// or unregisters what changed.
//
// GetConfigs answers from memory. A notification on modulesChannel (a
// trigger on tenant_modules and on tenants' status) marks one tenant to be
// read again, so enabling or disabling a module shows within a second; the
// whole set is read again at start, after a lost connection and every
// reloadEvery, in case a notification was lost.
//
// Only one worker process runs the schedules, the one holding a PostgreSQL
// advisory lock; otherwise every schedule would fire once per process. The
// lock goes with the holder's connection, so when it dies another takes over.
type schedules struct {
	cfg      Config
	byModule map[string][]modules.Schedule
	tasks    map[string]modules.Task
	log      *slog.Logger
	sync     time.Duration
	retry    time.Duration

	mu      sync.Mutex
	configs map[uuid.UUID][]*asynq.PeriodicTaskConfig
	dirty   map[uuid.UUID]bool
	all     bool
	readAll time.Time
}

const reloadEvery = 5 * time.Minute

var _ asynq.PeriodicTaskConfigProvider = (*schedules)(nil)

func newSchedules(cfg Config, byModule map[string][]modules.Schedule, tasks map[string]modules.Task, log *slog.Logger) *schedules {
	return &schedules{
		cfg: cfg, byModule: byModule, tasks: tasks, log: log,
		sync:    orDefault(cfg.Tick, time.Second),
		retry:   orDefault(cfg.Tick, 5*time.Second),
		configs: map[uuid.UUID][]*asynq.PeriodicTaskConfig{},
		dirty:   map[uuid.UUID]bool{},
		all:     true,
	}
}

// changed handles a notification on modulesChannel.
func (s *schedules) changed(payload string) {
	tenant, err := uuid.Parse(payload)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.all = true
		return
	}
	s.dirty[tenant] = true
}

// reloadAll has the next GetConfigs read every tenant again.
func (s *schedules) reloadAll() {
	s.mu.Lock()
	s.all = true
	s.mu.Unlock()
}

// GetConfigs implements asynq.PeriodicTaskConfigProvider.
func (s *schedules) GetConfigs() ([]*asynq.PeriodicTaskConfig, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s.mu.Lock()
	all := s.all || time.Since(s.readAll) > reloadEvery
	dirty := s.dirty
	s.all, s.dirty = false, map[uuid.UUID]bool{}
	s.mu.Unlock()

	if err := s.read(ctx, all, dirty); err != nil {
		// Asked again on the next tick; asynq keeps what it has meanwhile.
		s.mu.Lock()
		s.all = s.all || all
		for t := range dirty {
			s.dirty[t] = true
		}
		s.mu.Unlock()
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*asynq.PeriodicTaskConfig
	for _, cs := range s.configs {
		out = append(out, cs...)
	}
	return out, nil
}

// read refreshes the configs of every tenant, or of the dirty ones.
func (s *schedules) read(ctx context.Context, all bool, dirty map[uuid.UUID]bool) error {
	if all {
		ids, err := activeTenants(ctx, s.cfg.DB, s.cfg.Tenants)
		if err != nil {
			return fmt.Errorf("schedules: %w", err)
		}
		configs := make(map[uuid.UUID][]*asynq.PeriodicTaskConfig, len(ids))
		for _, t := range ids {
			cs, err := s.tenantConfigs(ctx, t)
			if err != nil {
				return err
			}
			if len(cs) > 0 {
				configs[t] = cs
			}
		}
		s.mu.Lock()
		s.configs, s.readAll = configs, time.Now()
		s.mu.Unlock()
		return nil
	}
	for t := range dirty {
		var cs []*asynq.PeriodicTaskConfig
		if s.cfg.Tenants(t) {
			tn, err := s.cfg.DB.TenantByID(ctx, t)
			if pe, ok := problem.As(err); ok && pe.Status == http.StatusNotFound {
				err, tn.Status = nil, ""
			}
			if err != nil {
				return fmt.Errorf("schedules: %w", err)
			}
			if tn.Status == tenants.StatusActive {
				if cs, err = s.tenantConfigs(ctx, t); err != nil {
					return err
				}
			}
		}
		s.mu.Lock()
		if len(cs) > 0 {
			s.configs[t] = cs
		} else {
			delete(s.configs, t)
		}
		s.mu.Unlock()
	}
	return nil
}

// tenantConfigs returns the periodic tasks of one tenant: every schedule of
// every module it has enabled, its payload in the tenant's envelope.
func (s *schedules) tenantConfigs(ctx context.Context, tenant uuid.UUID) ([]*asynq.PeriodicTaskConfig, error) {
	rd, err := s.cfg.DB.Reader(tenant, tenants.System().String())
	if err != nil {
		return nil, err
	}
	states, err := tenants.ModuleStates(ctx, rd)
	if err != nil {
		return nil, fmt.Errorf("schedules: tenant %s: %w", tenant, err)
	}
	var out []*asynq.PeriodicTaskConfig
	for _, id := range slices.Sorted(maps.Keys(s.byModule)) {
		if !states[id].Enabled {
			continue
		}
		for _, sc := range s.byModule[id] {
			payload, err := json.Marshal(sc.Payload) // checked by declarations
			if err != nil {
				return nil, err
			}
			out = append(out, &asynq.PeriodicTaskConfig{
				Cronspec: sc.Cron,
				Task:     asynq.NewTask(sc.Task, appendEnvelope(nil, tenant, payload)),
				Opts:     taskOptions(s.cfg, s.tasks, sc.Task, ""),
			})
		}
	}
	return out, nil
}

// run takes the lead when no other worker has it, and runs the schedules
// while it does, until ctx ends.
func (s *schedules) run(ctx context.Context) {
	if len(s.byModule) == 0 {
		return
	}
	for {
		if err := s.lead(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("schedules stopped", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(s.retry):
		}
	}
}

// lead runs the schedules for as long as this process holds the lock;
// without it, it returns at once.
func (s *schedules) lead(ctx context.Context) error {
	pc, err := s.cfg.DB.Pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("schedules: acquire: %w", err)
	}
	// The lock lives as long as this session: out of the pool with it.
	conn := pc.Hijack()
	defer conn.Close(context.WithoutCancel(ctx))
	var leader bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock(hashtext($1))", "yamen.schedules."+s.cfg.Namespace).Scan(&leader); err != nil {
		return fmt.Errorf("schedules: lock: %w", err)
	}
	if !leader {
		return nil
	}
	loc := s.location(ctx)
	s.reloadAll()
	mgr, err := asynq.NewPeriodicTaskManager(asynq.PeriodicTaskManagerOpts{
		PeriodicTaskConfigProvider: s,
		RedisConnOpt:               s.cfg.Redis,
		SyncInterval:               s.sync,
		SchedulerOpts: &asynq.SchedulerOpts{
			Location: loc,
			Logger:   slogAdapter{s.cfg.Logger},
			LogLevel: asynq.WarnLevel,
			EnqueueErrorHandler: func(task *asynq.Task, _ []asynq.Option, err error) {
				tenant, _ := TenantOf(task.Payload())
				s.log.Warn("scheduled task not enqueued", "type", task.Type(), "tenant", tenant, "error", err)
			},
		},
	})
	if err != nil {
		return fmt.Errorf("schedules: %w", err)
	}
	if err := mgr.Start(); err != nil {
		return fmt.Errorf("schedules: start: %w", err)
	}
	defer mgr.Shutdown()
	s.log.Info("this worker runs the schedules", "time_zone", loc.String())
	tick := time.NewTicker(s.retry)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			// A broken session has lost the lock, and someone else may hold it.
			if err := conn.Ping(ctx); err != nil {
				return fmt.Errorf("schedules: lost the lock: %w", err)
			}
		}
	}
}

// location is the zone the cron specs are read in.
func (s *schedules) location(ctx context.Context) *time.Location {
	if s.cfg.Location != nil {
		return s.cfg.Location
	}
	const fallback = "Asia/Shanghai"
	zone := fallback
	if j, err := s.cfg.DB.GetJurisdiction(ctx); err == nil {
		zone = j.TimeZone
	} else {
		s.log.Warn("no jurisdiction; schedules run in "+fallback, "error", err)
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		s.log.Warn("unknown time zone; schedules run in "+fallback, "zone", zone, "error", err)
		loc, _ = time.LoadLocation(fallback)
	}
	return loc
}
