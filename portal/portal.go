// Package portal is Yamen in the browser: server-rendered pages
// (html/template, assets embedded, net/http's ServeMux) for citizens,
// tenant admins and staff, served by `yamen serve` beside the API.
//
// Pages call Go directly (tenants, the module registry, and the API's access
// decisions through *api.Server), never the HTTP API. People sign in through
// Ory Kratos: the portal renders Kratos's self-service flows from their UI
// nodes and submits them to Kratos server-side, so the browser only ever
// talks to the portal's own origin (see kratos.go).
//
// Adding a page (the hall, ratings, window staff will): one file with the
// handler (a method of *Portal), one line in routes, one template in
// templates/, and a NavItem (nav.go) so it shows to whom it concerns.
package portal

import (
	"context"
	"crypto/rand"
	"embed"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	kratos "github.com/ory/kratos-client-go"

	"yamen/api"
	"yamen/modules"
	"yamen/modules/booking"
	"yamen/modules/queue"
	"yamen/tenants"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config is what the portal needs.
type Config struct {
	DB       *tenants.DB
	Registry *modules.Registry
	// API decides access exactly as the API does, with the same caches.
	API    *api.Server
	Logger *slog.Logger
	// KratosPublicURL is Kratos's public API; the portal calls it on the
	// browser's behalf, forwarding its cookies.
	KratosPublicURL string
	// HTTPClient reaches Kratos; http.DefaultClient when nil.
	HTTPClient *http.Client
	// Secret keys the CSRF tokens; random for each process when empty
	// (forms then do not survive a restart, nor work across instances).
	Secret []byte
}

// Portal is the web portal.
type Portal struct {
	db      *tenants.DB
	reg     *modules.Registry
	api     *api.Server
	log     *slog.Logger
	kratos  *kratos.APIClient
	kpublic string
	client  *http.Client
	secret  []byte
	pages   pageSet
	mux     *http.ServeMux
	handler http.Handler
}

// New builds the portal.
func New(cfg Config) (*Portal, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	if len(cfg.Secret) == 0 {
		cfg.Secret = make([]byte, 32)
		_, _ = rand.Read(cfg.Secret)
	}
	kc := kratos.NewConfiguration()
	kc.Servers = kratos.ServerConfigurations{{URL: strings.TrimRight(cfg.KratosPublicURL, "/")}}
	kc.HTTPClient = cfg.HTTPClient
	pages, err := parsePages()
	if err != nil {
		return nil, fmt.Errorf("portal: %w", err)
	}
	p := &Portal{
		db: cfg.DB, reg: cfg.Registry, api: cfg.API, log: cfg.Logger,
		kratos: kratos.NewAPIClient(kc), kpublic: strings.TrimRight(cfg.KratosPublicURL, "/"), client: cfg.HTTPClient,
		secret: cfg.Secret, pages: pages, mux: http.NewServeMux(),
	}
	p.routes()
	p.handler = p.secure(p.mux)
	return p, nil
}

// Handler serves every page.
func (p *Portal) Handler() http.Handler { return p.handler }

// routes lists every page. Each handler lives in a file of its own.
func (p *Portal) routes() {
	m := p.mux
	m.Handle("GET /static/", p.static())
	m.HandleFunc("GET /{$}", p.page(p.home))
	m.HandleFunc("POST /prefs", p.form(p.savePrefs))

	for _, kind := range flowKinds {
		m.HandleFunc("GET /auth/"+kind, p.page(p.showFlow(kind)))
		m.HandleFunc("POST /auth/"+kind, p.form(p.submitFlow(kind)))
	}
	m.HandleFunc("GET /auth/error", p.page(p.flowError))
	m.HandleFunc("POST /auth/logout", p.form(p.logout))

	m.HandleFunc("GET /t/{tenant}/admin", p.staff("modules:read", p.adminHome))
	m.HandleFunc("GET /t/{tenant}/admin/modules", p.staff("modules:read", p.listModules))
	m.HandleFunc("POST /t/{tenant}/admin/modules/{module}/{verb}", p.staffForm("modules:manage", p.switchModule))
	m.HandleFunc("GET /t/{tenant}/admin/modules/{module}/settings", p.staff("modules:read", p.showSettings))
	m.HandleFunc("POST /t/{tenant}/admin/modules/{module}/settings", p.staffForm("modules:manage", p.saveSettings))
	m.HandleFunc("GET /t/{tenant}/admin/orgs", p.staff("orgs:read", p.listOrgs))
	m.HandleFunc("POST /t/{tenant}/admin/orgs", p.staffForm("orgs:write", p.createOrg))
	m.HandleFunc("POST /t/{tenant}/admin/orgs/{org}", p.staffForm("orgs:write", p.updateOrg))
	m.HandleFunc("POST /t/{tenant}/admin/orgs/{org}/move", p.staffForm("orgs:write", p.moveOrg))
	m.HandleFunc("POST /t/{tenant}/admin/orgs/{org}/delete", p.staffForm("orgs:write", p.deleteOrg))
	m.HandleFunc("GET /t/{tenant}/admin/staff", p.staff("members:read", p.listStaff))
	m.HandleFunc("POST /t/{tenant}/admin/staff/{member}/link", p.staffForm("members:write", p.linkStaff))
	m.HandleFunc("GET /t/{tenant}/admin/roles", p.staff("roles:read", p.listRoles))
	m.HandleFunc("GET /t/{tenant}/admin/roles/new", p.staff("roles:write", p.newRole))
	m.HandleFunc("POST /t/{tenant}/admin/roles/new", p.staffForm("roles:write", p.newRoleStep))
	m.HandleFunc("GET /t/{tenant}/admin/policies", p.staff("policies:read", p.listPolicies))
	m.HandleFunc("POST /t/{tenant}/admin/policies", p.staffForm("policies:manage", p.uploadPolicy))
	m.HandleFunc("POST /t/{tenant}/admin/policies/{version}/activate", p.staffForm("policies:manage", p.activatePolicy))
	m.HandleFunc("GET /t/{tenant}/admin/audit", p.staff("audit:read", p.listAudit))

	m.HandleFunc("GET /t/{tenant}/window", p.staff("queue:call", p.pickWindow))
	m.HandleFunc("GET /t/{tenant}/window/{window}", p.staff("queue:call", p.showWindow))
	m.HandleFunc("POST /t/{tenant}/window/{window}/call", p.staffForm("queue:call", p.callNext))
	m.HandleFunc("POST /t/{tenant}/window/{window}/tickets/{ticket}/{verb}", p.staffForm("queue:call", p.ticketAction))
	m.HandleFunc("POST /t/{tenant}/window/{window}/checkin", p.staffForm("queue:issue", p.checkIn))
	m.HandleFunc("GET /t/{tenant}/hall", p.public("catalog", p.listHalls))
	m.HandleFunc("GET /t/{tenant}/hall/{hall}", p.public("catalog", p.showHall))
	m.HandleFunc("GET /t/{tenant}/hall/items/{item}/slots", p.public("booking", p.itemSlots))
	m.HandleFunc("POST /t/{tenant}/hall/items/{item}/book", p.citizenForm("booking", booking.ActionBook, p.book))
	m.HandleFunc("GET /t/{tenant}/me/appointments", p.citizen("booking", booking.ActionOwn, p.myAppointments))
	m.HandleFunc("GET /t/{tenant}/me/appointments/{appointment}", p.citizen("booking", booking.ActionOwn, p.showAppointment))
	m.HandleFunc("GET /t/{tenant}/me/appointments/{appointment}/qr.svg", p.citizen("booking", booking.ActionOwn, p.appointmentQR))
	m.HandleFunc("POST /t/{tenant}/me/appointments/{appointment}/cancel", p.citizenForm("booking", booking.ActionCancel, p.cancelAppointment))
	m.HandleFunc("POST /t/{tenant}/me/appeals", p.citizenForm("booking", booking.ActionAppeal, p.appealBar))
	m.HandleFunc("GET /t/{tenant}/me/cases", p.citizen("ratings", actionRate, p.myCases))
	m.HandleFunc("GET /t/{tenant}/me/cases/{case}", p.citizen("ratings", actionRate, p.showCase))
	m.HandleFunc("POST /t/{tenant}/me/cases/{case}/rating", p.citizenForm("ratings", actionRate, p.rateCase))
	m.HandleFunc("POST /t/{tenant}/me/cases/{case}/follow-up", p.citizenForm("ratings", actionRate, p.followUpCase))
	m.HandleFunc("POST /t/{tenant}/me/cases/{case}/second-rating", p.citizenForm("ratings", actionRate, p.secondRateCase))
	m.HandleFunc("GET /t/{tenant}/ratings/public", p.public("ratings", p.ratingsSummary))
	m.HandleFunc("GET /t/{tenant}/ratings/rectifications", p.staff("ratings:read", p.listRectifications))
	m.HandleFunc("GET /t/{tenant}/ratings/rectifications/{case}", p.staff("ratings:read", p.showRectification))
	m.HandleFunc("POST /t/{tenant}/ratings/rectifications/{case}", p.staffForm("ratings:rectify", p.answerRectification))
	m.HandleFunc("GET /t/{tenant}/ratings/dashboard", p.staff("ratings:read", p.ratingsDashboard))
	m.HandleFunc("GET /t/{tenant}/ratings/export", p.staff("ratings:export", p.exportRatings))
	m.HandleFunc("GET /t/{tenant}/ratings/province", p.staff("ratings:read", p.provinceUploads))
	m.HandleFunc("POST /t/{tenant}/ratings/province/resend", p.staffForm("ratings:configure", p.resendUploads))
	m.HandleFunc("GET /t/{tenant}/me/tickets", p.citizen("queue", queue.ActionTake, p.myTickets))
	m.HandleFunc("POST /t/{tenant}/me/tickets", p.citizenForm("queue", queue.ActionTake, p.takeTicket))
	m.HandleFunc("GET /t/{tenant}/me/tickets/{ticket}", p.citizen("queue", queue.ActionTake, p.showTicket))
	m.HandleFunc("GET /t/{tenant}/me/tickets/{ticket}/position", p.citizen("queue", queue.ActionTake, p.ticketPosition))
	m.HandleFunc("GET /t/{tenant}/board", p.public("queue", p.boardHalls))
	m.HandleFunc("GET /t/{tenant}/board/{hall}", p.public("queue", p.showBoard))
}

// detach keeps a request's values but not its cancellation, for writes that
// must finish once begun.
func detach(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }

// Beside serves the API's paths (/v1/, /openapi*, /docs, /healthz, /readyz,
// /metrics) with api and everything else with the portal.
func Beside(api, portal http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isAPIPath(r.URL.Path) {
			api.ServeHTTP(w, r)
			return
		}
		portal.ServeHTTP(w, r)
	})
}

func isAPIPath(p string) bool {
	switch p {
	case "/v1", "/docs", "/healthz", "/readyz", "/metrics":
		return true
	}
	return strings.HasPrefix(p, "/v1/") || strings.HasPrefix(p, "/openapi") || strings.HasPrefix(p, "/docs/")
}
