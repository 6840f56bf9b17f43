// Package demo loads the fictional demo jurisdiction 示范市 (`yamen seed
// demo`): its region tree, the 2026–2027 working-day calendar, three tenants
// (a police bureau, a government affairs hall, a credit centre) with their
// org trees, roles and a few members, the hall's catalogue (示范市政务服务中心:
// departments, service items, windows, hours; catalog.go), and admin keys to
// try them with.
//
// Everything is fictional: region codes use the 98 prefix, which no real
// province has; names, badge numbers and e-mail addresses (.example) are
// made up.
package demo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"yamen/modules"
	"yamen/problem"
	"yamen/tenants"
)

// Key is a key created by this run, with the only copy of its secret.
type Key struct {
	// Label says what the key is for: 平台管理员 or 租户管理员.
	Label string
	// Tenant is the tenant's slug, or "" for a platform key.
	Tenant string
	Secret string
}

// Result says what a person needs to try the demo: the tenants and the keys
// created in this run. On a re-run that created nothing Keys is empty: a
// secret can only be shown when it is made.
type Result struct {
	Tenants []tenants.Tenant
	Keys    []Key
}

// The names the demo keys are stored under, and their labels in Result.
const (
	TenantKeyName    = "demo admin"
	PlatformKeyName  = "demo platform admin"
	TenantKeyLabel   = "租户管理员"
	PlatformKeyLabel = "平台管理员"
)

// Jurisdiction is the demo jurisdiction.
var Jurisdiction = tenants.Jurisdiction{Name: "示范市", RegionCode: CityCode, TimeZone: "Asia/Shanghai"}

// seedLock serialises concurrent seeds, so check-then-create cannot race.
const seedLock = "SELECT pg_advisory_lock(hashtext('yamen.seed.demo'))"
const seedUnlock = "SELECT pg_advisory_unlock(hashtext('yamen.seed.demo'))"

// Seed loads the demo jurisdiction idempotently: running it again changes
// nothing and creates no duplicates.
//
// Regions and the calendar are upserted. The jurisdiction is set unless a
// different one is already set up, which it leaves alone. A tenant is created
// only when its slug is free; its orgs (by code), roles (by name) and members
// (by org and name) only when missing, so a run cut short is completed by the
// next. A tenant gets a key named "demo admin" (scope "*") and the platform
// one named "demo platform admin" only when none by that name exists.
func Seed(ctx context.Context, db *tenants.DB, reg *modules.Registry) (Result, error) {
	specs := Specs()
	if err := CheckPermissions(reg, specs); err != nil {
		return Result{}, err
	}
	unlock, err := lock(ctx, db)
	if err != nil {
		return Result{}, err
	}
	defer unlock()

	if err := db.UpsertRegions(ctx, Regions()); err != nil {
		return Result{}, fmt.Errorf("demo: %w", err)
	}
	if err := seedJurisdiction(ctx, db); err != nil {
		return Result{}, err
	}
	if err := db.UpsertCalendar(ctx, CalendarDays()); err != nil {
		return Result{}, fmt.Errorf("demo: %w", err)
	}

	var res Result
	for _, spec := range specs {
		t, err := ensureTenant(ctx, db, reg, spec)
		if err != nil {
			return Result{}, err
		}
		secret, err := fill(ctx, db, t, spec)
		if err != nil {
			return Result{}, err
		}
		res.Tenants = append(res.Tenants, t)
		if secret != "" {
			res.Keys = append(res.Keys, Key{Label: TenantKeyLabel, Tenant: t.Slug, Secret: secret})
		}
	}

	var exists bool
	if err := db.Pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM platform_keys WHERE name = $1)", PlatformKeyName).Scan(&exists); err != nil {
		return Result{}, fmt.Errorf("demo: look up platform key: %w", err)
	}
	if !exists {
		_, secret, err := db.CreatePlatformKey(ctx, tenants.NewKey{Name: PlatformKeyName})
		if err != nil {
			return Result{}, fmt.Errorf("demo: %w", err)
		}
		// Platform first: it is the key that reaches everything else.
		res.Keys = append([]Key{{Label: PlatformKeyLabel, Secret: secret}}, res.Keys...)
	}
	return res, nil
}

// lock takes the seed lock on a connection of its own and returns its release.
func lock(ctx context.Context, db *tenants.DB) (func(), error) {
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("demo: acquire connection: %w", err)
	}
	if _, err := conn.Exec(ctx, seedLock); err != nil {
		conn.Release()
		return nil, fmt.Errorf("demo: take seed lock: %w", err)
	}
	return func() {
		if _, err := conn.Exec(context.Background(), seedUnlock); err != nil {
			// A closed connection drops its session locks; the pool
			// discards it on release.
			_ = conn.Conn().Close(context.Background())
		}
		conn.Release()
	}, nil
}

func seedJurisdiction(ctx context.Context, db *tenants.DB) error {
	var code string
	err := db.Pool.QueryRow(ctx, "SELECT region_code FROM jurisdiction").Scan(&code)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return fmt.Errorf("demo: jurisdiction: %w", err)
	case code != Jurisdiction.RegionCode:
		return nil // a real (or test) jurisdiction: not the demo's to replace
	}
	if err := db.SetJurisdiction(ctx, Jurisdiction); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return nil
}

// CheckPermissions insists that every permission of every demo role is a
// core permission or one of a module in the bundle of the tenant's kind.
func CheckPermissions(reg *modules.Registry, specs []TenantSpec) error {
	known := map[string]bool{}
	for _, p := range tenants.CorePermissions {
		known[p.Name] = true
	}
	var errs []error
	for _, spec := range specs {
		bundle := reg.Bundle(spec.Kind)
		for _, r := range spec.Roles {
			for _, p := range r.Permissions {
				if known[p] {
					continue
				}
				mod, _, _ := strings.Cut(p, ":")
				info, ok := reg.Info(mod)
				switch {
				case !ok || !slices.ContainsFunc(info.Permissions, func(mp modules.Permission) bool { return mp.Name == p }):
					errs = append(errs, fmt.Errorf("%s role %s: unknown permission %q", spec.Slug, r.Name, p))
				case !slices.Contains(bundle, mod):
					errs = append(errs, fmt.Errorf("%s role %s: permission %q of module %s, not in the %s bundle", spec.Slug, r.Name, p, mod, spec.Kind))
				}
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return nil
}

// ensureTenant returns the tenant of spec.Slug, creating it with its kind's
// bundle when the slug is free.
func ensureTenant(ctx context.Context, db *tenants.DB, reg *modules.Registry, spec TenantSpec) (tenants.Tenant, error) {
	t, err := db.TenantBySlug(ctx, spec.Slug)
	if err == nil {
		if t.Kind != spec.Kind {
			return tenants.Tenant{}, fmt.Errorf("demo: tenant %s exists as a %s, not a %s", spec.Slug, t.Kind, spec.Kind)
		}
		return t, nil
	}
	if p, ok := problem.As(err); !ok || p.Status != http.StatusNotFound {
		return tenants.Tenant{}, fmt.Errorf("demo: %w", err)
	}
	t, err = db.CreateTenant(ctx, tenants.System(), tenants.NewTenant{
		Slug: spec.Slug, Name: spec.Name, Kind: spec.Kind, RegionCode: CityCode, Modules: reg.Bundle(spec.Kind),
	})
	if err != nil {
		return tenants.Tenant{}, fmt.Errorf("demo: create tenant %s: %w", spec.Slug, err)
	}
	return t, nil
}

// fill adds what the tenant is missing of spec, and its admin key when it has
// none; it returns the key's secret, or "" when no key was made.
func fill(ctx context.Context, db *tenants.DB, t tenants.Tenant, spec TenantSpec) (string, error) {
	var secret string
	err := db.Tx(ctx, t.ID, tenants.System().String(), func(tx *tenants.Tx) error {
		secret = ""
		orgs, err := idsBy(ctx, tx, "SELECT code, id FROM orgs")
		if err != nil {
			return err
		}
		for _, o := range spec.Orgs {
			if _, ok := orgs[o.Code]; ok {
				continue
			}
			parent, ok := orgs[o.Parent]
			if !ok {
				return fmt.Errorf("org %s: no parent %s", o.Code, o.Parent)
			}
			org, err := tenants.CreateOrg(ctx, tx, tenants.NewOrg{ParentID: &parent, Code: o.Code, Name: o.Name, Kind: o.Kind, RegionCode: o.Region})
			if err != nil {
				return fmt.Errorf("org %s: %w", o.Code, err)
			}
			orgs[o.Code] = org.ID
		}

		roles, err := idsBy(ctx, tx, "SELECT name, id FROM roles")
		if err != nil {
			return err
		}
		for _, r := range spec.Roles {
			if _, ok := roles[r.Name]; ok {
				continue
			}
			role, err := tenants.CreateRole(ctx, tx, tenants.NewRole{Name: r.Name, Description: r.Description, Permissions: r.Permissions, DataScope: r.Scope})
			if err != nil {
				return fmt.Errorf("role %s: %w", r.Name, err)
			}
			roles[r.Name] = role.ID
		}

		byBadge := map[string]uuid.UUID{}
		for _, m := range spec.Members {
			org, ok := orgs[m.Org]
			if !ok {
				return fmt.Errorf("member %s: no org %s", m.Name, m.Org)
			}
			var id uuid.UUID
			err := tx.QueryRow(ctx, "SELECT id FROM members WHERE org_id = $1 AND name = $2 ORDER BY created_at LIMIT 1", org, m.Name).Scan(&id)
			switch {
			case err == nil:
			case errors.Is(err, pgx.ErrNoRows):
				nm := tenants.NewMember{OrgID: org, Name: m.Name, Email: opt(m.Email), BadgeNo: opt(m.Badge)}
				if m.Sponsor != "" {
					s, ok := byBadge[m.Sponsor]
					if !ok {
						return fmt.Errorf("member %s: sponsor %s is not listed before", m.Name, m.Sponsor)
					}
					nm.SponsorID = &s
				}
				for _, rn := range m.Roles {
					rid, ok := roles[rn]
					if !ok {
						return fmt.Errorf("member %s: no role %s", m.Name, rn)
					}
					nm.RoleIDs = append(nm.RoleIDs, rid)
				}
				mem, err := tenants.CreateMember(ctx, tx, nm)
				if err != nil {
					return fmt.Errorf("member %s: %w", m.Name, err)
				}
				id = mem.ID
			default:
				return fmt.Errorf("member %s: %w", m.Name, err)
			}
			if m.Badge != "" {
				byBadge[m.Badge] = id
			}
		}

		if spec.Catalog != nil {
			if err := fillCatalog(ctx, tx, spec.Catalog, orgs); err != nil {
				return fmt.Errorf("catalog: %w", err)
			}
		}

		var hasKey bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM api_keys WHERE name = $1)", TenantKeyName).Scan(&hasKey); err != nil {
			return fmt.Errorf("look up key: %w", err)
		}
		if !hasKey {
			_, s, err := tenants.CreateTenantKey(ctx, tx, tenants.NewKey{Name: TenantKeyName, Scopes: []string{tenants.AllPermissions}})
			if err != nil {
				return err
			}
			secret = s
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("demo: tenant %s: %w", spec.Slug, err)
	}
	return secret, nil
}

// idsBy maps the first column of a two-column query to the second.
func idsBy(ctx context.Context, tx *tenants.Tx, sql string) (map[string]uuid.UUID, error) {
	rows, err := tx.Query(ctx, sql)
	if err != nil {
		return nil, err
	}
	m := map[string]uuid.UUID{}
	var k string
	var id uuid.UUID
	if _, err := pgx.ForEachRow(rows, []any{&k, &id}, func() error {
		m[k] = id
		return nil
	}); err != nil {
		return nil, err
	}
	return m, nil
}

func opt(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
