package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"

	"yamen/api"
	"yamen/modules"
	"yamen/modules/builtin"
	"yamen/portal"
	"yamen/tenants"
	"yamen/worker"
)

// service is what serve, worker and dev share.
type service struct {
	cfg   config
	log   *slog.Logger
	db    *tenants.DB
	reg   *modules.Registry
	redis *redis.Client
}

func openService(ctx context.Context) (*service, error) {
	cfg, err := loadConfig()
	if err != nil {
		return nil, err
	}
	log := cfg.logger(os.Stderr)
	reg, err := builtin.Registry()
	if err != nil {
		return nil, err
	}
	db, err := tenants.Open(ctx, cfg.databaseURL)
	if err != nil {
		return nil, err
	}
	db.AuditKey = cfg.auditKey
	if env("YAMEN_AUDIT_KEY") == tenants.DevAuditKey {
		log.Warn("YAMEN_AUDIT_KEY is the public development key: audit chains sealed with it prove nothing")
	}
	ropt, err := redis.ParseURL(cfg.redisURL)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("YAMEN_REDIS_URL: %w", err)
	}
	if err := reg.Provision(ctx, modules.Env{DB: db.Pool, Logger: log, Setting: env}); err != nil {
		db.Close()
		return nil, err
	}
	return &service{cfg: cfg, log: log, db: db, reg: reg, redis: redis.NewClient(ropt)}, nil
}

func (s *service) close() {
	if err := s.reg.Cleanup(); err != nil {
		s.log.Error("cleanup", "error", err)
	}
	s.db.Close()
	_ = s.redis.Close()
}

// api builds the API; collectors are more metrics for its /metrics (the
// worker's, when both run in one process).
func (s *service) api(collectors ...prometheus.Collector) (*api.Server, error) {
	return api.New(api.Config{
		DB:       s.db,
		Registry: s.reg,
		Logger:   s.log,
		Checks: map[string]func(context.Context) error{
			"postgres": s.db.Pool.Ping,
			"redis":    func(ctx context.Context) error { return s.redis.Ping(ctx).Err() },
		},
		MaxBodyBytes: s.cfg.maxBodyBytes,
		Sessions:     api.NewSessions(env("YAMEN_KRATOS_PUBLIC_URL"), env("YAMEN_KRATOS_ADMIN_URL"), 0, nil),
		Inspector:    asynq.NewInspectorFromRedisClient(s.redis),
		TaskQueues:   worker.QueueNames(""),
		Collectors:   collectors,
	})
}

func (s *service) worker() (*worker.Worker, error) {
	ropt, err := asynq.ParseRedisURI(s.cfg.redisURL)
	if err != nil {
		return nil, fmt.Errorf("YAMEN_REDIS_URL: %w", err)
	}
	return worker.New(worker.Config{DB: s.db, Registry: s.reg, Redis: ropt, Logger: s.log})
}

func runServe(ctx context.Context, _ io.Writer, _ []string) error {
	s, err := openService(ctx)
	if err != nil {
		return err
	}
	defer s.close()
	srv, err := s.api()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", s.cfg.httpAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.httpAddr, err)
	}
	h, err := s.withPortal(srv)
	if err != nil {
		return err
	}
	s.log.Info("serving", "addr", "http://"+ln.Addr().String())
	return serveHTTP(ctx, ln, h, s.cfg.shutdownTimeout)
}

// withPortal serves the portal's pages at / beside the API, which keeps
// /v1/, /openapi*, /docs, /healthz, /readyz and /metrics.
func (s *service) withPortal(srv *api.Server) (http.Handler, error) {
	p, err := portal.New(portal.Config{DB: s.db, Registry: s.reg, API: srv, Logger: s.log,
		KratosPublicURL: env("YAMEN_KRATOS_PUBLIC_URL"), Secret: []byte(env("YAMEN_PORTAL_SECRET"))})
	if err != nil {
		return nil, err
	}
	return portal.Beside(srv.Handler(), p.Handler()), nil
}

// serveHTTP serves until ctx ends, then stops taking connections and waits
// up to grace for the requests in flight to finish.
func serveHTTP(ctx context.Context, ln net.Listener, h http.Handler, grace time.Duration) error {
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("http: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("http: drain: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http: %w", err)
	}
	return nil
}

func runWorker(ctx context.Context, _ io.Writer, _ []string) error {
	s, err := openService(ctx)
	if err != nil {
		return err
	}
	defer s.close()
	w, err := s.worker()
	if err != nil {
		return err
	}
	// The worker has no API; it serves its metrics and liveness on an
	// address of its own.
	reg := prometheus.NewRegistry()
	reg.MustRegister(w.Metrics(), collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(rw http.ResponseWriter, _ *http.Request) {
		rw.Header().Set("Content-Type", "application/json")
		_, _ = rw.Write([]byte(`{"status":"ok"}` + "\n"))
	})
	addr := env("YAMEN_WORKER_ADDR")
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	s.log.Info("worker running", "metrics", "http://"+ln.Addr().String()+"/metrics")
	return runBoth(ctx, w, ln, mux, s.cfg.shutdownTimeout)
}

// runBoth runs the worker and an HTTP server until ctx ends or either
// stops, which stops the other.
func runBoth(ctx context.Context, w *worker.Worker, ln net.Listener, h http.Handler, grace time.Duration) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	werr := make(chan error, 1)
	go func() { werr <- w.Run(ctx); cancel() }()
	herr := serveHTTP(ctx, ln, h, grace)
	cancel()
	return errors.Join(herr, <-werr)
}

func runDev(ctx context.Context, stdout io.Writer, _ []string) error {
	s, err := openService(ctx)
	if err != nil {
		return err
	}
	defer s.close()
	w, err := s.worker()
	if err != nil {
		return err
	}
	srv, err := s.api(w.Metrics())
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", s.cfg.httpAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.httpAddr, err)
	}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "\nYamen 衙门 is running (API and worker in one process; Ctrl-C stops it)\n\n")
	fmt.Fprintf(stdout, "  API docs      %s/docs\n  OpenAPI       %s/openapi.json\n  Health        %s/readyz\n  Metrics       %s/metrics\n", base, base, base, base)
	fmt.Fprintf(stdout, "  Try           curl -H 'Authorization: Bearer <tenant key>' %s/v1/t/demo-hall/modules\n\n", base)
	if s.cfg.demoKeysFile != "" {
		if keys, err := os.ReadFile(s.cfg.demoKeysFile); err == nil {
			fmt.Fprintf(stdout, "Demo keys (from %s):\n%s\n", s.cfg.demoKeysFile, keys)
		}
	}
	h, err := s.withPortal(srv)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "  Portal        %s/\n\n", base)
	// Whichever half stops first stops the other.
	return runBoth(ctx, w, ln, h, s.cfg.shutdownTimeout)
}
