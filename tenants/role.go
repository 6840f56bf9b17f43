package tenants

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"yamen/problem"
)

// Data scopes: which rows a role sees.
const (
	ScopeAll        = "all"
	ScopeOrgSubtree = "org_subtree"
	ScopeOrg        = "org"
	ScopeSelf       = "self"
	ScopeCustom     = "custom"
)

// DataScopes lists them.
var DataScopes = []string{ScopeAll, ScopeOrgSubtree, ScopeOrg, ScopeSelf, ScopeCustom}

// Role is a set of operation permissions and one data scope (seed 003: 角色概况,
// 操作权限, 数据范围).
type Role struct {
	ID          uuid.UUID   `json:"id"`
	Name        string      `json:"name"`
	Description string      `json:"description"`
	Permissions []string    `json:"permissions"`
	DataScope   string      `json:"data_scope" enum:"all,org_subtree,org,self,custom"`
	ScopeOrgIDs []uuid.UUID `json:"scope_org_ids" doc:"data_scope 为 custom 时可见的组织 (the orgs a custom scope sees)"`
	Members     int         `json:"members" doc:"持有此角色的人数 (members holding the role)"`
	CreatedAt   time.Time   `json:"created_at"`
	UpdatedAt   time.Time   `json:"updated_at"`
}

const roleColumns = `id, name, description, permissions, data_scope, scope_org_ids,
	(SELECT count(*)::int FROM member_roles mr WHERE mr.role_id = roles.id), created_at, updated_at`

func scanRole(row pgx.Row) (Role, error) {
	var r Role
	err := row.Scan(&r.ID, &r.Name, &r.Description, &r.Permissions, &r.DataScope, &r.ScopeOrgIDs, &r.Members, &r.CreatedAt, &r.UpdatedAt)
	return r, err
}

// NewRole is what creating a role takes.
type NewRole struct {
	Name        string
	Description string
	Permissions []string
	DataScope   string
	ScopeOrgIDs []uuid.UUID
}

// CreateRole adds a role. Its permissions must have been checked by the
// caller against the known ones.
func CreateRole(ctx context.Context, tx *Tx, n NewRole) (Role, error) {
	if err := checkScopeOrgs(ctx, tx, n.DataScope, n.ScopeOrgIDs); err != nil {
		return Role{}, err
	}
	if n.Permissions == nil {
		n.Permissions = []string{}
	}
	if n.ScopeOrgIDs == nil {
		n.ScopeOrgIDs = []uuid.UUID{}
	}
	r, err := scanRole(tx.QueryRow(ctx, `INSERT INTO roles (tenant_id, name, description, permissions, data_scope, scope_org_ids)
		VALUES (current_tenant(), $1, $2, $3, $4, $5) RETURNING `+roleColumns,
		n.Name, n.Description, n.Permissions, n.DataScope, n.ScopeOrgIDs))
	if err != nil {
		return Role{}, roleWriteError(err, n.Name)
	}
	return r, Audit(ctx, tx, "role.create", r.ID.String(), map[string]any{"name": r.Name, "permissions": r.Permissions, "data_scope": r.DataScope})
}

// GetRole returns one role.
func GetRole(ctx context.Context, tx Querier, id uuid.UUID) (Role, error) {
	r, err := scanRole(tx.QueryRow(ctx, "SELECT "+roleColumns+" FROM roles WHERE id = $1", id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Role{}, problem.NotFound("角色不存在 (no such role)")
	}
	if err != nil {
		return Role{}, fmt.Errorf("tenants: role %s: %w", id, err)
	}
	return r, nil
}

// ListRoles returns the tenant's roles by name.
func ListRoles(ctx context.Context, tx Querier) ([]Role, error) {
	rows, err := tx.Query(ctx, "SELECT "+roleColumns+" FROM roles ORDER BY name")
	return collect("list roles", rows, err, scanWith(scanRole))
}

// RoleUpdate changes a role; nil fields stay.
type RoleUpdate struct {
	Name        *string
	Description *string
	Permissions *[]string
	DataScope   *string
	ScopeOrgIDs *[]uuid.UUID
}

// UpdateRole changes a role.
func UpdateRole(ctx context.Context, tx *Tx, id uuid.UUID, u RoleUpdate) (Role, error) {
	cur, err := GetRole(ctx, tx, id)
	if err != nil {
		return Role{}, err
	}
	scope, orgs := cur.DataScope, cur.ScopeOrgIDs
	if u.DataScope != nil {
		scope = *u.DataScope
		if scope != ScopeCustom {
			orgs = []uuid.UUID{}
		}
	}
	if u.ScopeOrgIDs != nil {
		orgs = *u.ScopeOrgIDs
	}
	if err := checkScopeOrgs(ctx, tx, scope, orgs); err != nil {
		return Role{}, err
	}
	r, err := scanRole(tx.QueryRow(ctx, `UPDATE roles SET name = coalesce($2, name), description = coalesce($3, description),
			permissions = coalesce($4, permissions), data_scope = $5, scope_org_ids = $6, updated_at = now()
		WHERE id = $1 RETURNING `+roleColumns, id, u.Name, u.Description, u.Permissions, scope, orgs))
	if err != nil {
		return Role{}, roleWriteError(err, deref(u.Name))
	}
	return r, Audit(ctx, tx, "role.update", id.String(), map[string]any{"name": u.Name, "permissions": u.Permissions, "data_scope": u.DataScope, "scope_org_ids": u.ScopeOrgIDs})
}

// DeleteRole removes a role nobody holds.
func DeleteRole(ctx context.Context, tx *Tx, id uuid.UUID) error {
	r, err := GetRole(ctx, tx, id)
	if err != nil {
		return err
	}
	if r.Members > 0 {
		return problem.Conflict(fmt.Sprintf("仍有 %d 名人员持有该角色，不能删除 (%d members still hold the role)", r.Members, r.Members))
	}
	if _, err := tx.Exec(ctx, "DELETE FROM roles WHERE id = $1", id); err != nil {
		return fmt.Errorf("tenants: delete role: %w", err)
	}
	return Audit(ctx, tx, "role.delete", id.String(), map[string]any{"name": r.Name})
}

// checkScopeOrgs insists that a custom scope names orgs, that they exist,
// and that other scopes name none.
func checkScopeOrgs(ctx context.Context, tx *Tx, scope string, orgs []uuid.UUID) error {
	if scope != ScopeCustom {
		if len(orgs) > 0 {
			return problem.InvalidField("body.scope_org_ids", "仅自定义数据范围可指定组织 (only a custom scope names orgs)", orgs)
		}
		return nil
	}
	if len(orgs) == 0 {
		return problem.InvalidField("body.scope_org_ids", "自定义数据范围须至少指定一个组织 (a custom scope names at least one org)", orgs)
	}
	var found int
	if err := tx.QueryRow(ctx, "SELECT count(*) FROM orgs WHERE id = ANY($1)", orgs).Scan(&found); err != nil {
		return fmt.Errorf("tenants: check scope orgs: %w", err)
	}
	if found != len(uniq(orgs)) {
		return problem.InvalidField("body.scope_org_ids", "包含不存在的组织 (names an org that does not exist)", orgs)
	}
	return nil
}

func uniq[T comparable](xs []T) map[T]struct{} {
	m := make(map[T]struct{}, len(xs))
	for _, x := range xs {
		m[x] = struct{}{}
	}
	return m
}

func roleWriteError(err error, name string) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return problem.New(409, fmt.Sprintf("角色名称 %q 已存在 (role name already used)", name),
			problem.Field{Location: "body.name", Message: "已存在 (already used)", Value: name})
	}
	return fmt.Errorf("tenants: write role: %w", err)
}
