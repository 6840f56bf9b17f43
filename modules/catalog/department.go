package catalog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"yamen/problem"
	"yamen/tenants"
)

// Department is a 业务部门 working in a hall (公安户政, 人社, 医保 …). OrgID
// links it to the tenant's org tree, whose members are its staff.
type Department struct {
	ID        uuid.UUID  `json:"id"`
	HallID    uuid.UUID  `json:"hall_id" doc:"所在办事网点 (hall)"`
	Code      string     `json:"code" doc:"部门编码，与事项管理系统一致 (department code, as the item management system has it)"`
	Name      string     `json:"name" doc:"部门名称 (name)"`
	OrgID     *uuid.UUID `json:"org_id" doc:"对应的组织 (the org of the tenant it is)"`
	Active    bool       `json:"active"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// DepartmentInput is what staff save of a department; a PUT replaces every
// field.
type DepartmentInput struct {
	HallID uuid.UUID  `json:"hall_id" doc:"所在办事网点 (hall)"`
	Code   string     `json:"code" pattern:"^[A-Za-z0-9_-]{1,40}$" doc:"部门编码：字母、数字、_ - (department code)"`
	Name   string     `json:"name" minLength:"1" maxLength:"200" doc:"部门名称 (name)"`
	OrgID  *uuid.UUID `json:"org_id,omitempty" required:"false" doc:"对应的组织 (the org of the tenant it is)"`
	Active *bool      `json:"active,omitempty" required:"false" doc:"是否对外服务，默认是 (open to the public; default true)"`
}

// DepartmentFilter narrows a list of departments.
type DepartmentFilter struct {
	Hall uuid.UUID `query:"hall" doc:"办事网点 (hall)"`
	// ActiveOnly is set for the public.
	ActiveOnly bool `query:"-" json:"-"`
}

const departmentSelect = `SELECT d.id, d.hall_id, d.code, d.name, d.org_id, d.active, d.created_at, d.updated_at FROM catalog_departments d`

func scanDepartment(row pgx.Row) (Department, error) {
	var d Department
	err := row.Scan(&d.ID, &d.HallID, &d.Code, &d.Name, &d.OrgID, &d.Active, &d.CreatedAt, &d.UpdatedAt)
	return d, err
}

// ListDepartments returns the departments matching f, by code. With
// ActiveOnly, a department of an inactive hall is left out too.
func ListDepartments(ctx context.Context, q tenants.Querier, f DepartmentFilter) ([]Department, error) {
	rows, err := q.Query(ctx, departmentSelect+` JOIN catalog_halls h ON h.tenant_id = d.tenant_id AND h.id = d.hall_id
		WHERE ($1::uuid = '00000000-0000-0000-0000-000000000000' OR d.hall_id = $1) AND (NOT $2 OR (d.active AND h.active))
		ORDER BY d.code`, f.Hall, f.ActiveOnly)
	if err != nil {
		return nil, fmt.Errorf("catalog: list departments: %w", err)
	}
	ds, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Department, error) { return scanDepartment(r) })
	if err != nil {
		return nil, fmt.Errorf("catalog: list departments: %w", err)
	}
	return ds, nil
}

var errNoDepartment = problem.NotFound("业务部门不存在 (no such department)")

// GetDepartment returns one department.
func GetDepartment(ctx context.Context, q tenants.Querier, id uuid.UUID) (Department, error) {
	d, err := scanDepartment(q.QueryRow(ctx, departmentSelect+" WHERE d.id = $1", id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Department{}, errNoDepartment
	}
	if err != nil {
		return Department{}, fmt.Errorf("catalog: get department: %w", err)
	}
	return d, nil
}

func (in DepartmentInput) active() bool { return in.Active == nil || *in.Active }

func (in DepartmentInput) values() map[string]any {
	return map[string]any{"code": in.Code, "hall_id": in.HallID, "org_id": in.OrgID}
}

// CreateDepartment adds a department to a hall.
func CreateDepartment(ctx context.Context, tx *tenants.Tx, in DepartmentInput) (Department, error) {
	var id uuid.UUID
	err := tx.QueryRow(ctx, `INSERT INTO catalog_departments (tenant_id, hall_id, code, name, org_id, active)
		VALUES (current_tenant(), $1, $2, $3, $4, $5) RETURNING id`, in.HallID, in.Code, in.Name, in.OrgID, in.active()).Scan(&id)
	if err != nil {
		return Department{}, writeError(err, in.values())
	}
	if err := tenants.Audit(ctx, tx, "catalog.department.create", id.String(), map[string]any{"code": in.Code, "name": in.Name, "hall_id": in.HallID}); err != nil {
		return Department{}, err
	}
	return GetDepartment(ctx, tx, id)
}

// UpdateDepartment replaces a department's attributes. Moving it to another
// hall is refused while windows of its present hall handle its items: they
// would serve items of a hall they are not in.
func UpdateDepartment(ctx context.Context, tx *tenants.Tx, id uuid.UUID, in DepartmentInput) (Department, error) {
	var moved bool
	err := tx.QueryRow(ctx, "SELECT hall_id <> $2 FROM catalog_departments WHERE id = $1 FOR UPDATE", id, in.HallID).Scan(&moved)
	if errors.Is(err, pgx.ErrNoRows) {
		return Department{}, errNoDepartment
	}
	if err != nil {
		return Department{}, fmt.Errorf("catalog: update department: %w", err)
	}
	if moved {
		var windows bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM catalog_window_items wi JOIN catalog_items i ON i.tenant_id = wi.tenant_id AND i.id = wi.item_id
			WHERE i.department_id = $1) OR EXISTS (SELECT 1 FROM catalog_windows WHERE department_id = $1)`, id).Scan(&windows); err != nil {
			return Department{}, fmt.Errorf("catalog: update department: %w", err)
		}
		if windows {
			return Department{}, problem.New(409, "该部门的事项或窗口仍在原网点，请先调整窗口配置 (windows of the present hall still handle the department's items)",
				problem.Field{Location: "body.hall_id", Message: "不能变更网点 (cannot move to another hall)", Value: in.HallID})
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE catalog_departments SET hall_id = $2, code = $3, name = $4, org_id = $5, active = $6, updated_at = now()
		WHERE id = $1`, id, in.HallID, in.Code, in.Name, in.OrgID, in.active()); err != nil {
		return Department{}, writeError(err, in.values())
	}
	if err := tenants.Audit(ctx, tx, "catalog.department.update", id.String(), map[string]any{"code": in.Code, "name": in.Name, "hall_id": in.HallID, "active": in.active()}); err != nil {
		return Department{}, err
	}
	return GetDepartment(ctx, tx, id)
}

// DeleteDepartment removes a department that has no items or windows.
func DeleteDepartment(ctx context.Context, tx *tenants.Tx, id uuid.UUID) error {
	tag, err := tx.Exec(ctx, "DELETE FROM catalog_departments WHERE id = $1", id)
	if err != nil {
		return deleteError(err, "业务部门 (department)")
	}
	if tag.RowsAffected() == 0 {
		return errNoDepartment
	}
	return tenants.Audit(ctx, tx, "catalog.department.delete", id.String(), nil)
}
