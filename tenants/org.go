package tenants

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"yamen/problem"
)

// OrgKinds are the kinds of org node.
var OrgKinds = []string{"bureau", "branch", "station", "police_area", "center", "department", "window", "office", "team", "other"}

// Org is a node of a tenant's organisation tree.
type Org struct {
	ID         uuid.UUID  `json:"id"`
	ParentID   *uuid.UUID `json:"parent_id"`
	Code       string     `json:"code"`
	Name       string     `json:"name"`
	Kind       string     `json:"kind"`
	RegionCode *string    `json:"region_code"`
	// Depth is 1 for a root.
	Depth     int       `json:"depth"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

const orgColumns = "id, parent_id, code, name, kind, region_code, nlevel(path), created_at, updated_at"

func scanOrg(row pgx.Row) (Org, error) {
	var o Org
	err := row.Scan(&o.ID, &o.ParentID, &o.Code, &o.Name, &o.Kind, &o.RegionCode, &o.Depth, &o.CreatedAt, &o.UpdatedAt)
	return o, err
}

// label is an org's label in ltree paths.
func label(id uuid.UUID) string { return strings.ReplaceAll(id.String(), "-", "") }

// NewOrg is what creating an org takes.
type NewOrg struct {
	ParentID   *uuid.UUID
	Code       string
	Name       string
	Kind       string
	RegionCode string
}

// CreateOrg adds an org under its parent, or as a root.
func CreateOrg(ctx context.Context, tx *Tx, n NewOrg) (Org, error) {
	if err := lockOrgTree(ctx, tx); err != nil {
		return Org{}, err
	}
	id := uuid.New()
	var region *string
	if n.RegionCode != "" {
		region = &n.RegionCode
	}
	o, err := scanOrg(tx.QueryRow(ctx, `INSERT INTO orgs (tenant_id, id, parent_id, path, code, name, kind, region_code)
		SELECT current_tenant(), $1, $2,
			coalesce((SELECT path FROM orgs WHERE id = $2), ''::ltree) || text2ltree($3),
			$4, $5, $6, $7
		WHERE $2::uuid IS NULL OR EXISTS (SELECT 1 FROM orgs WHERE id = $2)
		RETURNING `+orgColumns, id, n.ParentID, label(id), n.Code, n.Name, n.Kind, region))
	if errors.Is(err, pgx.ErrNoRows) {
		return Org{}, problem.InvalidField("body.parent_id", "上级组织不存在 (no such parent org)", n.ParentID)
	}
	if err != nil {
		return Org{}, orgWriteError(err, n.Code, n.RegionCode)
	}
	return o, Audit(ctx, tx, "org.create", o.ID.String(), map[string]any{"code": o.Code, "name": o.Name, "parent_id": o.ParentID})
}

// GetOrg returns one org.
func GetOrg(ctx context.Context, tx Querier, id uuid.UUID) (Org, error) {
	o, err := scanOrg(tx.QueryRow(ctx, "SELECT "+orgColumns+" FROM orgs WHERE id = $1", id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Org{}, problem.NotFound("组织不存在 (no such org)")
	}
	if err != nil {
		return Org{}, fmt.Errorf("tenants: org %s: %w", id, err)
	}
	return o, nil
}

// lockOrgTree serialises changes to the shape of a tenant's tree: two moves
// could otherwise build a cycle between them, and an org created under a
// parent being moved would keep the parent's old path.
func lockOrgTree(ctx context.Context, tx *Tx) error {
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('yamen.orgs.' || current_tenant()::text))"); err != nil {
		return fmt.Errorf("tenants: lock org tree: %w", err)
	}
	return nil
}

// ListOrgs returns the tenant's orgs in tree order (each parent before its
// children, siblings by code), or only the subtree under root.
func ListOrgs(ctx context.Context, tx Querier, root *uuid.UUID) ([]Org, error) {
	rows, err := tx.Query(ctx, "SELECT "+orgColumns+` FROM orgs o
		WHERE $1::uuid IS NULL OR path <@ (SELECT path FROM orgs WHERE id = $1)
		ORDER BY (SELECT array_agg(a.code ORDER BY nlevel(a.path)) FROM orgs a WHERE a.path @> o.path)`, root)
	return collect("list orgs", rows, err, scanWith(scanOrg))
}

// OrgUpdate changes an org's attributes; nil fields stay.
type OrgUpdate struct {
	Code       *string
	Name       *string
	Kind       *string
	RegionCode *string
}

// UpdateOrg changes an org's attributes (not its place in the tree: MoveOrg).
func UpdateOrg(ctx context.Context, tx *Tx, id uuid.UUID, u OrgUpdate) (Org, error) {
	o, err := scanOrg(tx.QueryRow(ctx, `UPDATE orgs SET code = coalesce($2, code), name = coalesce($3, name),
			kind = coalesce($4::org_kind, kind), region_code = coalesce($5, region_code), updated_at = now()
		WHERE id = $1 RETURNING `+orgColumns, id, u.Code, u.Name, u.Kind, u.RegionCode))
	if errors.Is(err, pgx.ErrNoRows) {
		return Org{}, problem.NotFound("组织不存在 (no such org)")
	}
	if err != nil {
		return Org{}, orgWriteError(err, deref(u.Code), deref(u.RegionCode))
	}
	return o, Audit(ctx, tx, "org.update", id.String(), map[string]any{"code": u.Code, "name": u.Name, "kind": u.Kind, "region_code": u.RegionCode})
}

// MoveOrg puts an org and its whole subtree under a new parent, rewriting
// every path in the subtree in this one transaction. Moving an org under
// itself or its own descendant is refused.
func MoveOrg(ctx context.Context, tx *Tx, id, newParent uuid.UUID) (Org, error) {
	if err := lockOrgTree(ctx, tx); err != nil {
		return Org{}, err
	}
	var oldPath, parentPath string
	err := tx.QueryRow(ctx, `SELECT o.path::text, p.path::text FROM orgs o, orgs p WHERE o.id = $1 AND p.id = $2`, id, newParent).Scan(&oldPath, &parentPath)
	if errors.Is(err, pgx.ErrNoRows) {
		if _, gerr := GetOrg(ctx, tx, id); gerr != nil {
			return Org{}, gerr
		}
		return Org{}, problem.InvalidField("body.parent_id", "上级组织不存在 (no such parent org)", newParent)
	}
	if err != nil {
		return Org{}, fmt.Errorf("tenants: move org: %w", err)
	}
	if parentPath == oldPath || strings.HasPrefix(parentPath, oldPath+".") {
		return Org{}, problem.InvalidField("body.parent_id", "不能移动到自身或其下级组织之下 (cannot move an org under itself or its descendant)", newParent)
	}
	// The subtree keeps its shape: each path loses the old ancestors and
	// gains the new parent's path.
	if _, err := tx.Exec(ctx, `UPDATE orgs SET
			path = $2::ltree || subpath(path, nlevel($1::ltree) - 1),
			parent_id = CASE WHEN id = $3 THEN $4 ELSE parent_id END,
			updated_at = now()
		WHERE path <@ $1::ltree`, oldPath, parentPath, id, newParent); err != nil {
		return Org{}, fmt.Errorf("tenants: move org: %w", err)
	}
	o, err := GetOrg(ctx, tx, id)
	if err != nil {
		return Org{}, err
	}
	return o, Audit(ctx, tx, "org.move", id.String(), map[string]any{"parent_id": newParent})
}

// DeleteOrg removes an org that has neither children nor members.
func DeleteOrg(ctx context.Context, tx *Tx, id uuid.UUID) error {
	if err := lockOrgTree(ctx, tx); err != nil {
		return err
	}
	var children, members, roles int
	err := tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM orgs WHERE parent_id = $1), (SELECT count(*) FROM members WHERE org_id = $1),
			(SELECT count(*) FROM roles WHERE $1 = ANY(scope_org_ids))
		FROM orgs WHERE id = $1`, id).Scan(&children, &members, &roles)
	if errors.Is(err, pgx.ErrNoRows) {
		return problem.NotFound("组织不存在 (no such org)")
	}
	if err != nil {
		return fmt.Errorf("tenants: delete org: %w", err)
	}
	if children > 0 || members > 0 {
		return problem.Conflict(fmt.Sprintf("该组织下还有 %d 个下级组织和 %d 名人员，不能删除 (the org still has %d child orgs and %d members)", children, members, children, members))
	}
	if roles > 0 {
		return problem.Conflict(fmt.Sprintf("有 %d 个角色的数据范围包含该组织，请先修改这些角色 (%d roles have the org in their data scope; change them first)", roles, roles))
	}
	if _, err := tx.Exec(ctx, "DELETE FROM orgs WHERE id = $1", id); err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23503" {
			return problem.Conflict("该组织仍被引用，不能删除 (the org is still referenced)")
		}
		return fmt.Errorf("tenants: delete org: %w", err)
	}
	return Audit(ctx, tx, "org.delete", id.String(), nil)
}

func orgWriteError(err error, code, region string) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "23505" && pgErr.ConstraintName == "orgs_tenant_id_code_key":
			return problem.New(409, fmt.Sprintf("组织编码 %q 已存在 (org code already used)", code),
				problem.Field{Location: "body.code", Message: "已存在 (already used)", Value: code})
		case pgErr.Code == "23503" && strings.Contains(pgErr.ConstraintName, "region"):
			return problem.InvalidField("body.region_code", "行政区划不存在 (unknown region code)", region)
		}
	}
	return fmt.Errorf("tenants: write org: %w", err)
}
