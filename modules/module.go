// Package modules holds the module contract and the registry of modules.
//
// A module is a capability a tenant enables (ratings, booking, clues, …). It
// declares itself through Info: an id, titles, the tenant kinds whose bundle
// includes it, the modules it needs, its permissions and its settings. What
// else it offers it says by implementing the optional interfaces below;
// constructing a module has no side effects, Provision gives it what it needs.
package modules

import (
	"context"
	"log/slog"
	"regexp"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"yamen/tenants"
)

// Text is a user-facing string, Chinese first.
type Text struct {
	ZH string `json:"zh-CN"`
	EN string `json:"en"`
}

// Permission is one operation permission a role can grant, e.g. clues:adopt.
type Permission struct {
	Name  string `json:"name"`
	Title Text   `json:"title"`
}

// EveryKind in Bundles puts a module in the bundle of every tenant kind.
const EveryKind = "*"

// Info is what a module declares about itself.
type Info struct {
	// ID is the module's name in paths (/v1/t/{tenant}/<id>), permissions
	// (<id>:<verb>) and task types (<id>:<task>).
	ID    string
	Title Text
	// Bundles lists the tenant kinds (police_bureau, affairs_hall,
	// credit_center, other) whose default bundle includes the module, or
	// EveryKind.
	Bundles []string
	// Needs lists modules that must be enabled before this one.
	Needs []string
	// Permissions lists the operation permissions roles can grant; each is
	// named <id>:<verb>.
	Permissions []Permission
	// Settings is the zero value of the module's settings struct. Its JSON
	// schema, with defaults and limits from huma's struct tags, validates what
	// tenant admins save. Nil when the module has no settings.
	Settings any
}

// Module is implemented by every module.
type Module interface {
	Module() Info
}

// Env is what a module gets when provisioned.
type Env struct {
	DB     *pgxpool.Pool
	Logger *slog.Logger
	// Setting returns a configuration value (an environment variable such
	// as YAMEN_S3_BUCKET) or its documented default.
	Setting func(name string) string
}

// Provisioner is implemented by modules that set themselves up before use.
type Provisioner interface {
	Provision(ctx context.Context, env Env) error
}

// Validator is implemented by modules that check themselves after provisioning.
type Validator interface {
	Validate() error
}

// CleanerUpper is implemented by modules that hold resources to release.
type CleanerUpper interface {
	Cleanup() error
}

// RouteProvider is implemented by modules that offer operations under
// /v1/t/{tenant}/<id>.
type RouteProvider interface {
	Routes(r *Router)
}

// Task is a kind of work a module hands the worker: written to the outbox
// with tenants.Enqueue in a business transaction, or started by a Schedule.
type Task struct {
	// Type is <id>:<task>, e.g. files:purge.
	Type string
	// Queue is tenants.QueueCritical, QueueDefault (when empty) or QueueLow.
	Queue string
	// MaxRetry is how many times a failed run is retried, each after a
	// longer wait, before the task is dead: kept in the archive for a
	// platform admin to retry or delete.
	MaxRetry int
	// Timeout bounds one run; the worker's default when zero.
	Timeout time.Duration
	// Handle does the work in a transaction of the task's tenant, on behalf
	// of the system subject; the transaction commits when Handle returns nil.
	// A task may run more than once (a retry after a failure that came late,
	// a worker killed mid-run), so Handle must be idempotent. The
	// transaction opens with its first statement: a handler that works
	// elsewhere (S3, SMTP) first and writes after costs no connection
	// meanwhile.
	Handle func(ctx context.Context, tx *tenants.Tx, payload []byte) error
}

// TaskProvider is implemented by modules that hand work to the worker.
type TaskProvider interface {
	Tasks() []Task
}

// Schedule is work a module wants done on a timetable, in every tenant that
// has the module enabled.
type Schedule struct {
	// Task is the type of one of the module's Tasks.
	Task string
	// Cron is when, in the jurisdiction's time zone: five crontab fields
	// ("30 2 * * *") or a descriptor ("@daily", "@every 1h").
	Cron string
	// Payload is what the handler receives, marshalled to JSON.
	Payload any
}

// HandoverProvider is implemented by modules whose records are assigned to
// members (seed 002, 工作移交): when an officer moves, a leader hands what is
// assigned to them over to another member. Handover moves the module's
// records in the caller's transaction, with every other module's, and says
// how many it moved.
type HandoverProvider interface {
	Handover(ctx context.Context, tx *tenants.Tx, from, to uuid.UUID) (int, error)
}

// PolicyProvider is implemented by modules that add rules to the base policy.
// Policy returns rego in package yamen.modules.<id>; what it may declare is
// public_actions, the actions citizens and intermediaries may perform in the
// module (a set per subject kind: {"citizen": {"booking:book"}}), which no
// role grants them. Staff permissions stay with roles.
type PolicyProvider interface {
	Policy() string
}

// ScheduleProvider is implemented by modules with work on a timetable.
type ScheduleProvider interface {
	Schedules() []Schedule
}

var (
	idPattern         = regexp.MustCompile(`^[a-z][a-z0-9]{1,30}$`)
	permissionPattern = regexp.MustCompile(`^[a-z][a-z0-9]{1,30}:[a-z][a-z0-9_]{1,40}$`)
)
