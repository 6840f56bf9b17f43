// Package api is how Yamen is spoken: the huma API on net/http's ServeMux,
// its middleware, its errors, and the platform's own operations (tenants,
// modules, orgs, members, roles, keys, audit). Modules add theirs.
package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"yamen/modules"
	"yamen/policy"
	"yamen/tenants"
)

// Config is what the API needs.
type Config struct {
	DB       *tenants.DB
	Registry *modules.Registry
	Logger   *slog.Logger
	// Checks are what /readyz verifies, by name (PostgreSQL, Redis).
	Checks map[string]func(context.Context) error
	// MaxBodyBytes limits every request body; 1 MiB when zero.
	MaxBodyBytes int64
	Version      string
	// Policy decides every operation; the base policy when nil.
	Policy *policy.Engine
	// Sessions resolves people's Kratos sessions; with nil only keys work.
	Sessions *Sessions
	// Inspector reaches the task queues, for the platform's dead-task
	// operations (platform_task.go); they answer 503 without it.
	Inspector *asynq.Inspector
	// TaskQueues are the queues, as named in Redis, that the dead-task
	// operations look in (worker.QueueNames).
	TaskQueues []string
	// Collectors are more metrics for /metrics, such as the worker's when
	// it runs in the same process.
	Collectors []prometheus.Collector
}

// Server is the HTTP API.
type Server struct {
	api     huma.API
	handler http.Handler
	db      *tenants.DB
	reg     *modules.Registry
	access  *access
	metrics *metrics
}

// New builds the API and registers every operation, the platform's and the
// modules'. It fails when an operation declares no action.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	if cfg.Policy == nil {
		var mods []policy.Module
		if cfg.Registry != nil {
			mods = cfg.Registry.Policies()
		}
		engine, err := policy.New(context.Background(), mods...)
		if err != nil {
			return nil, fmt.Errorf("api: %w", err)
		}
		cfg.Policy = engine
	}
	mux := http.NewServeMux()
	hc := huma.DefaultConfig("Yamen 衙门", cfg.Version)
	hc.Info.Description = "一个辖区的政务平台：租户、模块、组织、人员与角色。 (The platform of one jurisdiction: tenants, modules, orgs, staff and roles.)"
	hc.CreateHooks = nil // no $schema links in every response
	hc.DocsPath = ""     // registerDocs serves /docs without a CDN
	hc.RejectUnknownQueryParameters = true
	hc.Transformers = append(hc.Transformers, problemTransformer)
	hc.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer": {Type: "http", Scheme: "bearer", Description: "接口密钥 (API key): yk_t_… or yk_p_…"},
	}
	// Every module may name a type Problem or Settings: schema names carry
	// their package, except the api's own.
	hc.Components.Schemas = huma.NewMapRegistry("#/components/schemas/", modules.SchemaNamer("api"))
	hapi := humago.New(mux, hc)

	s := &Server{
		api:     hapi,
		db:      cfg.DB,
		reg:     cfg.Registry,
		access:  newAccess(cfg.DB, cfg.Policy, cfg.Sessions),
		metrics: newMetrics(),
	}
	hapi.UseMiddleware(s.metrics.middleware, s.access.middleware(hapi))
	for _, c := range cfg.Collectors {
		if err := s.metrics.registry.Register(c); err != nil {
			return nil, fmt.Errorf("api: metrics: %w", err)
		}
	}

	s.registerHealth(mux, cfg.Checks)
	s.registerDocs(mux)
	s.registerPlatform(modules.NewRouter(hapi, modules.ScopePlatform, "/v1/platform", ""))
	s.registerPlatformTasks(modules.NewRouter(hapi, modules.ScopePlatform, "/v1/platform", ""), cfg.Inspector, cfg.TaskQueues)
	tenant := modules.NewRouter(hapi, modules.ScopeTenant, "/v1/t/{tenant}", "")
	s.registerTenantModules(tenant)
	s.registerOrgs(tenant)
	s.registerMembers(tenant)
	s.registerRoles(tenant)
	s.registerKeys(tenant)
	s.registerAudit(tenant)
	s.registerPolicies(tenant)
	s.registerLinks(tenant)
	s.registerHandover(tenant)
	s.registerMe(modules.NewRouter(hapi, modules.ScopeSignedIn, "/v1", ""))
	s.registerReference(modules.NewRouter(hapi, modules.ScopePublic, "/v1", ""))
	for _, m := range cfg.Registry.All() {
		if rp, ok := m.(modules.RouteProvider); ok {
			id := m.Module().ID
			rp.Routes(modules.NewRouter(hapi, modules.ScopeTenant, "/v1/t/{tenant}/"+id, id))
		}
	}
	if err := modules.CheckActions(hapi); err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	if err := modules.CheckRows(hapi); err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	s.handler = outermost(cfg.Logger, cfg.MaxBodyBytes, problemForUnmatched(mux))
	return s, nil
}

// Handler is the whole HTTP surface.
func (s *Server) Handler() http.Handler { return s.handler }

// OpenAPI is the API's document.
func (s *Server) OpenAPI() *huma.OpenAPI { return s.api.OpenAPI() }

// Gatherer exposes the API's metrics, for tests and for the worker to share.
func (s *Server) Gatherer() prometheus.Gatherer { return s.metrics.registry }

// API is the underlying huma API.
func (s *Server) API() huma.API { return s.api }
