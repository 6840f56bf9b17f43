package tenants

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"yamen/problem"
)

// Kinds of tenant.
const (
	KindPoliceBureau = "police_bureau"
	KindAffairsHall  = "affairs_hall"
	KindCreditCenter = "credit_center"
	KindOther        = "other"
)

// Tenant statuses.
const (
	StatusActive    = "active"
	StatusSuspended = "suspended"
)

// Tenant is one agency hosted by the jurisdiction.
type Tenant struct {
	ID         uuid.UUID `json:"id"`
	Slug       string    `json:"slug" doc:"在路径中使用的短名 (short name used in paths)"`
	Name       string    `json:"name"`
	Kind       string    `json:"kind" enum:"police_bureau,affairs_hall,credit_center,other"`
	RegionCode string    `json:"region_code"`
	Status     string    `json:"status" enum:"active,suspended"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

var slugPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,38}[a-z0-9]$`)

// reservedSlugs would read as something else in a URL.
var reservedSlugs = []string{"admin", "api", "assets", "docs", "me", "platform", "static", "system", "www"}

// CheckSlug reports why s cannot be a tenant slug, or "" when it can.
func CheckSlug(s string) string {
	switch {
	case !slugPattern.MatchString(s) || strings.Contains(s, "--"):
		return "须为 2–40 位小写字母、数字或连字符，以字母开头 (2–40 lowercase letters, digits or single hyphens, starting with a letter)"
	case slices.Contains(reservedSlugs, s):
		return "此短名为系统保留 (this slug is reserved)"
	}
	return ""
}

const tenantColumns = "id, slug, name, kind, region_code, status, created_at, updated_at"

func scanTenant(row pgx.Row) (Tenant, error) {
	var t Tenant
	err := row.Scan(&t.ID, &t.Slug, &t.Name, &t.Kind, &t.RegionCode, &t.Status, &t.CreatedAt, &t.UpdatedAt)
	return t, err
}

// TenantBySlug finds a tenant by slug; unknown slugs are a 404.
func (db *DB) TenantBySlug(ctx context.Context, slug string) (Tenant, error) {
	t, err := scanTenant(db.Pool.QueryRow(ctx, "SELECT "+tenantColumns+" FROM tenants WHERE slug = $1", slug))
	if errors.Is(err, pgx.ErrNoRows) {
		return Tenant{}, problem.NotFound(fmt.Sprintf("租户 %q 不存在 (no such tenant)", slug))
	}
	if err != nil {
		return Tenant{}, fmt.Errorf("tenants: tenant %q: %w", slug, err)
	}
	return t, nil
}

// TenantByID finds a tenant by id.
func (db *DB) TenantByID(ctx context.Context, id uuid.UUID) (Tenant, error) {
	t, err := scanTenant(db.Pool.QueryRow(ctx, "SELECT "+tenantColumns+" FROM tenants WHERE id = $1", id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Tenant{}, problem.NotFound("租户不存在 (no such tenant)")
	}
	if err != nil {
		return Tenant{}, fmt.Errorf("tenants: tenant %s: %w", id, err)
	}
	return t, nil
}

// TenantFilter narrows ListTenants.
type TenantFilter struct {
	Kind   string
	Status string
	// After is the slug to continue after (keyset paging by slug).
	After string
	Limit int
}

// ListTenants lists tenants ordered by slug.
func (db *DB) ListTenants(ctx context.Context, f TenantFilter) ([]Tenant, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	rows, err := db.Pool.Query(ctx, "SELECT "+tenantColumns+` FROM tenants
		WHERE ($1 = '' OR kind::text = $1) AND ($2 = '' OR status::text = $2) AND slug > $3
		ORDER BY slug LIMIT $4`, f.Kind, f.Status, f.After, f.Limit)
	return collect("list", rows, err, scanWith(scanTenant))
}

// TenantsOfIdentity returns the active tenants a Kratos staff identity is
// active staff of, by slug, in one query (identity_tenants, migration 012).
func (db *DB) TenantsOfIdentity(ctx context.Context, identity uuid.UUID) ([]Tenant, error) {
	rows, err := db.Pool.Query(ctx, "SELECT "+tenantColumns+` FROM tenants
		WHERE status = 'active' AND id IN (SELECT identity_tenants($1)) ORDER BY slug`, identity)
	return collect("of identity", rows, err, scanWith(scanTenant))
}

// NewTenant is what creating a tenant takes.
type NewTenant struct {
	Slug       string
	Name       string
	Kind       string
	RegionCode string
	// Modules are entitled and enabled from the start: the bundle of the kind.
	Modules []string
}

// CreateTenant creates a tenant with its root org, its tenant admin role and
// its modules, in one transaction.
func (db *DB) CreateTenant(ctx context.Context, subject Subject, nt NewTenant) (Tenant, error) {
	if msg := CheckSlug(nt.Slug); msg != "" {
		return Tenant{}, problem.InvalidField("body.slug", msg, nt.Slug)
	}
	id := uuid.New()
	var t Tenant
	err := db.Tx(ctx, id, subject.String(), func(tx *Tx) error {
		var err error
		t, err = scanTenant(tx.QueryRow(ctx, `INSERT INTO tenants (id, slug, name, kind, region_code)
			VALUES ($1, $2, $3, $4, $5) RETURNING `+tenantColumns, id, nt.Slug, nt.Name, nt.Kind, nt.RegionCode))
		if err != nil {
			return tenantWriteError(err, nt.Slug, nt.RegionCode)
		}
		for _, m := range nt.Modules {
			if _, err := tx.Exec(ctx, `INSERT INTO tenant_modules (tenant_id, module, entitled, enabled, updated_by)
				VALUES ($1, $2, true, true, $3)`, id, m, subject.String()); err != nil {
				return fmt.Errorf("tenants: entitle %s: %w", m, err)
			}
		}
		if _, err := CreateOrg(ctx, tx, NewOrg{Code: "root", Name: nt.Name, Kind: rootOrgKind(nt.Kind), RegionCode: nt.RegionCode}); err != nil {
			return err
		}
		if _, err := CreateRole(ctx, tx, NewRole{Name: AdminRoleName, Description: "管理本租户的模块、组织、人员与角色 (manages this tenant's modules, orgs, staff and roles)",
			Permissions: AdminPermissions, DataScope: ScopeAll}); err != nil {
			return err
		}
		return Audit(ctx, tx, "tenant.create", t.Slug, map[string]any{"name": t.Name, "kind": t.Kind, "modules": nt.Modules})
	})
	return t, err
}

// AdminRoleName is the role every tenant starts with.
const AdminRoleName = "租户管理员"

func rootOrgKind(tenantKind string) string {
	switch tenantKind {
	case KindPoliceBureau:
		return "bureau"
	case KindAffairsHall:
		return "center"
	}
	return "office"
}

// TenantUpdate changes a tenant's name or region; nil fields stay.
type TenantUpdate struct {
	Name       *string
	RegionCode *string
	Status     *string
}

// UpdateTenant changes a tenant and audits the change.
func (db *DB) UpdateTenant(ctx context.Context, subject Subject, id uuid.UUID, u TenantUpdate) (Tenant, error) {
	var t Tenant
	err := db.Tx(ctx, id, subject.String(), func(tx *Tx) error {
		var err error
		t, err = scanTenant(tx.QueryRow(ctx, `UPDATE tenants SET
				name = coalesce($2, name), region_code = coalesce($3, region_code),
				status = coalesce($4::tenant_status, status), updated_at = now()
			WHERE id = $1 RETURNING `+tenantColumns, id, u.Name, u.RegionCode, u.Status))
		if errors.Is(err, pgx.ErrNoRows) {
			return problem.NotFound("租户不存在 (no such tenant)")
		}
		if err != nil {
			return tenantWriteError(err, "", deref(u.RegionCode))
		}
		action := "tenant.update"
		if u.Status != nil {
			action = "tenant." + map[string]string{StatusActive: "activate", StatusSuspended: "suspend"}[*u.Status]
		}
		return Audit(ctx, tx, action, t.Slug, map[string]any{"name": u.Name, "region_code": u.RegionCode, "status": u.Status})
	})
	return t, err
}

func tenantWriteError(err error, slug, region string) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "23505" && pgErr.ConstraintName == "tenants_slug_key":
			return problem.New(409, fmt.Sprintf("短名 %q 已被使用 (slug already taken)", slug),
				problem.Field{Location: "body.slug", Message: "已被使用 (already taken)", Value: slug})
		case pgErr.Code == "23503" && strings.Contains(pgErr.ConstraintName, "region"):
			return problem.InvalidField("body.region_code", "行政区划不存在 (unknown region code)", region)
		case pgErr.Code == "23514":
			return problem.Invalid(problem.Field{Location: "body", Message: "取值不符合约束 (a value breaks a rule): " + pgErr.ConstraintName})
		}
	}
	return fmt.Errorf("tenants: write tenant: %w", err)
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
