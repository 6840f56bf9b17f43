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

// Window is a 办事窗口 of a hall: its number (序号) is what the display board
// calls citizens to, and it handles the items listed (seed 004 窗口配置: one
// window many items, many windows one item).
type Window struct {
	ID           uuid.UUID   `json:"id"`
	HallID       uuid.UUID   `json:"hall_id" doc:"办事网点 (hall)"`
	Number       int         `json:"number" doc:"窗口序号 (window number)"`
	Name         string      `json:"name" doc:"窗口名称 (name)"`
	DepartmentID uuid.UUID   `json:"department_id" doc:"所属部门 (department)"`
	Location     string      `json:"location" doc:"位置，如 一楼东侧 (where it is)"`
	Active       bool        `json:"active"`
	ItemIDs      []uuid.UUID `json:"item_ids" doc:"能够办理的事项 (the items it handles)"`
	CreatedAt    time.Time   `json:"created_at"`
	UpdatedAt    time.Time   `json:"updated_at"`
}

// WindowSummary is a window as an item's page shows it.
type WindowSummary struct {
	ID       uuid.UUID `json:"id"`
	Number   int       `json:"number" doc:"窗口序号 (window number)"`
	Name     string    `json:"name"`
	Location string    `json:"location"`
}

// WindowInput is what staff save of a window. A PUT replaces its
// attributes, and its items when item_ids is given.
type WindowInput struct {
	HallID       uuid.UUID   `json:"hall_id" doc:"办事网点 (hall)"`
	Number       int         `json:"number" minimum:"1" maximum:"9999" doc:"窗口序号，网点内唯一 (window number, unique in the hall)"`
	Name         string      `json:"name,omitempty" required:"false" maxLength:"100" doc:"窗口名称 (name)"`
	DepartmentID uuid.UUID   `json:"department_id" doc:"所属部门，须在同一网点 (department, of the same hall)"`
	Location     string      `json:"location,omitempty" required:"false" maxLength:"200" doc:"位置 (where it is)"`
	Active       *bool       `json:"active,omitempty" required:"false" doc:"是否启用，默认是 (in use; default true)"`
	ItemIDs      []uuid.UUID `json:"item_ids,omitempty" required:"false" maxItems:"1000" uniqueItems:"true" doc:"能够办理的事项，须属于同一网点 (items it handles, of the same hall)"`
}

// WindowItems is a window's whole set of items, as a PUT replaces it.
type WindowItems struct {
	ItemIDs []uuid.UUID `json:"item_ids" maxItems:"1000" uniqueItems:"true" doc:"能够办理的事项，须属于同一网点 (items it handles, of the same hall)"`
}

// WindowFilter narrows a list of windows.
type WindowFilter struct {
	Hall string `query:"hall" format:"uuid" doc:"办事网点 (hall id)"`
	Item string `query:"item" format:"uuid" doc:"能办理该事项的窗口 (windows handling this item)"`
	// ActiveOnly leaves out windows not in use.
	ActiveOnly bool `json:"-"`
}

const windowSelect = `SELECT w.id, w.hall_id, w.number, w.name, w.department_id, w.location, w.active,
	coalesce((SELECT array_agg(wi.item_id ORDER BY wi.item_id) FROM catalog_window_items wi WHERE wi.tenant_id = w.tenant_id AND wi.window_id = w.id), '{}'),
	w.created_at, w.updated_at FROM catalog_windows w`

func scanWindow(row pgx.Row) (Window, error) {
	var w Window
	err := row.Scan(&w.ID, &w.HallID, &w.Number, &w.Name, &w.DepartmentID, &w.Location, &w.Active, &w.ItemIDs, &w.CreatedAt, &w.UpdatedAt)
	return w, err
}

var errNoWindow = problem.NotFound("办事窗口不存在 (no such window)")

func optionalUUID(location, s string) (*uuid.UUID, *problem.Field) {
	if s == "" {
		return nil, nil
	}
	id, err := uuid.Parse(s)
	if err != nil {
		return nil, &problem.Field{Location: location, Message: "应为 UUID (expected a uuid)", Value: s}
	}
	return &id, nil
}

// ListWindows returns the windows matching f, by hall and number.
func ListWindows(ctx context.Context, q tenants.Querier, f WindowFilter) ([]Window, error) {
	hall, bad := optionalUUID("query.hall", f.Hall)
	item, bad2 := optionalUUID("query.item", f.Item)
	if bad != nil || bad2 != nil {
		var fields []problem.Field
		for _, b := range []*problem.Field{bad, bad2} {
			if b != nil {
				fields = append(fields, *b)
			}
		}
		return nil, problem.Invalid(fields...)
	}
	rows, err := q.Query(ctx, windowSelect+` WHERE ($1::uuid IS NULL OR w.hall_id = $1)
		AND ($2::uuid IS NULL OR EXISTS (SELECT 1 FROM catalog_window_items wi WHERE wi.window_id = w.id AND wi.item_id = $2))
		AND (NOT $3 OR w.active) ORDER BY w.hall_id, w.number`, hall, item, f.ActiveOnly)
	if err != nil {
		return nil, fmt.Errorf("catalog: list windows: %w", err)
	}
	ws, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Window, error) { return scanWindow(r) })
	if err != nil {
		return nil, fmt.Errorf("catalog: list windows: %w", err)
	}
	return ws, nil
}

// GetWindow returns one window with its items.
func GetWindow(ctx context.Context, q tenants.Querier, id uuid.UUID) (Window, error) {
	w, err := scanWindow(q.QueryRow(ctx, windowSelect+" WHERE w.id = $1", id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Window{}, errNoWindow
	}
	if err != nil {
		return Window{}, fmt.Errorf("catalog: get window: %w", err)
	}
	return w, nil
}

// WindowsOfItem returns the windows that handle an item, by number; with
// activeOnly only those in use.
func WindowsOfItem(ctx context.Context, q tenants.Querier, item uuid.UUID, activeOnly bool) ([]WindowSummary, error) {
	rows, err := q.Query(ctx, `SELECT w.id, w.number, w.name, w.location FROM catalog_windows w
		JOIN catalog_window_items wi ON wi.tenant_id = w.tenant_id AND wi.window_id = w.id
		WHERE wi.item_id = $1 AND (NOT $2 OR w.active) ORDER BY w.number`, item, activeOnly)
	if err != nil {
		return nil, fmt.Errorf("catalog: windows of item: %w", err)
	}
	ws, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (WindowSummary, error) {
		var w WindowSummary
		err := r.Scan(&w.ID, &w.Number, &w.Name, &w.Location)
		return w, err
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: windows of item: %w", err)
	}
	return ws, nil
}

// ItemsOfWindow returns the items a window handles, by department and item
// code; with activeOnly only those the public sees.
func ItemsOfWindow(ctx context.Context, q tenants.Querier, window uuid.UUID, activeOnly bool) ([]Item, error) {
	rows, err := q.Query(ctx, itemSelect+` JOIN catalog_window_items wi ON wi.tenant_id = i.tenant_id AND wi.item_id = i.id
		WHERE wi.window_id = $1 AND (NOT $2 OR `+publicItem+`) ORDER BY d.code COLLATE "C", i.code COLLATE "C", i.id`, window, activeOnly)
	if err != nil {
		return nil, fmt.Errorf("catalog: items of window: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Item, error) { return scanItem(r) })
	if err != nil {
		return nil, fmt.Errorf("catalog: items of window: %w", err)
	}
	return items, nil
}

// checkWindow names what of a window does not belong to its hall: its
// department, and each item not of a department of the hall. itemsAt is
// where the items came from (body.item_ids, or body.hall_id when the
// window keeps items it had).
func checkWindow(ctx context.Context, q tenants.Querier, hall, department uuid.UUID, items []uuid.UUID, itemsAt string) error {
	var fields []problem.Field
	var hallExists bool
	var depHall *uuid.UUID
	if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM catalog_halls WHERE id = $1), (SELECT hall_id FROM catalog_departments WHERE id = $2)`,
		hall, department).Scan(&hallExists, &depHall); err != nil {
		return fmt.Errorf("catalog: check window: %w", err)
	}
	if !hallExists {
		return problem.InvalidField("body.hall_id", "办事网点不存在 (no such hall)", hall)
	}
	switch {
	case depHall == nil:
		fields = append(fields, problem.Field{Location: "body.department_id", Message: "业务部门不存在 (no such department)", Value: department})
	case *depHall != hall:
		fields = append(fields, problem.Field{Location: "body.department_id", Message: "该部门属于其他办事网点 (a department of another hall)", Value: department})
	}
	if len(items) > 0 {
		rows, err := q.Query(ctx, `SELECT i.id, d.hall_id FROM catalog_items i JOIN catalog_departments d ON d.tenant_id = i.tenant_id AND d.id = i.department_id
			WHERE i.id = ANY($1)`, items)
		if err != nil {
			return fmt.Errorf("catalog: check window: %w", err)
		}
		halls := map[uuid.UUID]uuid.UUID{}
		var id, h uuid.UUID
		if _, err := pgx.ForEachRow(rows, []any{&id, &h}, func() error { halls[id] = h; return nil }); err != nil {
			return fmt.Errorf("catalog: check window: %w", err)
		}
		for i, it := range items {
			loc := itemsAt
			if itemsAt == "body.item_ids" {
				loc = fmt.Sprintf("body.item_ids[%d]", i)
			}
			switch h, ok := halls[it]; {
			case !ok:
				fields = append(fields, problem.Field{Location: loc, Message: "服务事项不存在 (no such service item)", Value: it})
			case h != hall:
				fields = append(fields, problem.Field{Location: loc, Message: "该事项属于其他办事网点 (an item of another hall)", Value: it})
			}
		}
	}
	if len(fields) > 0 {
		return problem.Invalid(fields...)
	}
	return nil
}

func (in WindowInput) values() map[string]any {
	return map[string]any{"number": in.Number, "hall_id": in.HallID, "department_id": in.DepartmentID}
}

// CreateWindow adds a window to a hall with the items it handles.
func CreateWindow(ctx context.Context, tx *tenants.Tx, in WindowInput) (Window, error) {
	if err := checkWindow(ctx, tx, in.HallID, in.DepartmentID, in.ItemIDs, "body.item_ids"); err != nil {
		return Window{}, err
	}
	var id uuid.UUID
	err := tx.QueryRow(ctx, `INSERT INTO catalog_windows (tenant_id, hall_id, number, name, department_id, location, active)
		VALUES (current_tenant(), $1, $2, $3, $4, $5, $6) RETURNING id`,
		in.HallID, in.Number, in.Name, in.DepartmentID, in.Location, orTrue(in.Active)).Scan(&id)
	if err != nil {
		return Window{}, writeError(err, in.values())
	}
	if err := replaceWindowItems(ctx, tx, id, in.ItemIDs); err != nil {
		return Window{}, err
	}
	if err := tenants.Audit(ctx, tx, "catalog.window.create", id.String(), map[string]any{"hall_id": in.HallID, "number": in.Number, "item_ids": in.ItemIDs}); err != nil {
		return Window{}, err
	}
	return GetWindow(ctx, tx, id)
}

// UpdateWindow replaces a window's attributes, and its items when
// in.ItemIDs is not nil.
func UpdateWindow(ctx context.Context, tx *tenants.Tx, id uuid.UUID, in WindowInput) (Window, error) {
	current, err := scanWindow(tx.QueryRow(ctx, windowSelect+" WHERE w.id = $1 FOR UPDATE OF w", id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Window{}, errNoWindow
	}
	if err != nil {
		return Window{}, fmt.Errorf("catalog: update window: %w", err)
	}
	items, at := in.ItemIDs, "body.item_ids"
	if items == nil {
		items, at = current.ItemIDs, "body.hall_id"
	}
	if err := checkWindow(ctx, tx, in.HallID, in.DepartmentID, items, at); err != nil {
		return Window{}, err
	}
	if _, err := tx.Exec(ctx, `UPDATE catalog_windows SET hall_id = $2, number = $3, name = $4, department_id = $5, location = $6,
		active = $7, updated_at = now() WHERE id = $1`, id, in.HallID, in.Number, in.Name, in.DepartmentID, in.Location, orTrue(in.Active)); err != nil {
		return Window{}, writeError(err, in.values())
	}
	if in.ItemIDs != nil {
		if err := replaceWindowItems(ctx, tx, id, in.ItemIDs); err != nil {
			return Window{}, err
		}
	}
	if err := tenants.Audit(ctx, tx, "catalog.window.update", id.String(), map[string]any{"hall_id": in.HallID, "number": in.Number,
		"active": orTrue(in.Active), "item_ids": in.ItemIDs}); err != nil {
		return Window{}, err
	}
	return GetWindow(ctx, tx, id)
}

// SetWindowItems replaces the items a window handles.
func SetWindowItems(ctx context.Context, tx *tenants.Tx, id uuid.UUID, items []uuid.UUID) (Window, error) {
	current, err := scanWindow(tx.QueryRow(ctx, windowSelect+" WHERE w.id = $1 FOR UPDATE OF w", id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Window{}, errNoWindow
	}
	if err != nil {
		return Window{}, fmt.Errorf("catalog: window items: %w", err)
	}
	if err := checkWindow(ctx, tx, current.HallID, current.DepartmentID, items, "body.item_ids"); err != nil {
		return Window{}, err
	}
	if err := replaceWindowItems(ctx, tx, id, items); err != nil {
		return Window{}, err
	}
	if _, err := tx.Exec(ctx, "UPDATE catalog_windows SET updated_at = now() WHERE id = $1", id); err != nil {
		return Window{}, fmt.Errorf("catalog: window items: %w", err)
	}
	if err := tenants.Audit(ctx, tx, "catalog.window.items", id.String(), map[string]any{"item_ids": items}); err != nil {
		return Window{}, err
	}
	return GetWindow(ctx, tx, id)
}

func replaceWindowItems(ctx context.Context, tx *tenants.Tx, window uuid.UUID, items []uuid.UUID) error {
	if items == nil {
		items = []uuid.UUID{}
	}
	if _, err := tx.Exec(ctx, `WITH gone AS (DELETE FROM catalog_window_items WHERE window_id = $1 AND NOT item_id = ANY($2))
		INSERT INTO catalog_window_items (tenant_id, window_id, item_id)
		SELECT current_tenant(), $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING`, window, items); err != nil {
		return fmt.Errorf("catalog: window items: %w", err)
	}
	return nil
}

// DeleteWindow removes a window and its item set.
func DeleteWindow(ctx context.Context, tx *tenants.Tx, id uuid.UUID) error {
	tag, err := tx.Exec(ctx, "DELETE FROM catalog_windows WHERE id = $1", id)
	if err != nil {
		return deleteError(err, "办事窗口 (window)")
	}
	if tag.RowsAffected() == 0 {
		return errNoWindow
	}
	return tenants.Audit(ctx, tx, "catalog.window.delete", id.String(), nil)
}
