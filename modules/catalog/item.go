package catalog

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"yamen/problem"
	"yamen/tenants"
)

// Item is a service item (政务服务事项) as a department offers it, with the
// department and hall it is handled in.
type Item struct {
	ID             uuid.UUID  `json:"id"`
	Code           string     `json:"code" doc:"事项编码，与市政务服务事项管理系统一致 (item code of the city's item management system)"`
	Name           string     `json:"name" doc:"事项名称 (name)"`
	DepartmentID   uuid.UUID  `json:"department_id" doc:"业务部门 (department)"`
	DepartmentCode string     `json:"department_code"`
	DepartmentName string     `json:"department_name"`
	HallID         uuid.UUID  `json:"hall_id" doc:"办事网点 (hall)"`
	HallName       string     `json:"hall_name"`
	RegionCode     string     `json:"region_code" doc:"网点所在行政区划 (the hall's region)"`
	Theme          string     `json:"theme" doc:"主题分类 (theme), 如 户籍办理、社会保障"`
	TimeLimitDays  int        `json:"time_limit_days" doc:"法定办结时限（工作日），0 为即办件 (legal time limit in working days; 0 = on the spot)"`
	Materials      []Material `json:"materials" doc:"申报材料 (materials to bring)"`
	Bookable       bool       `json:"bookable" doc:"可网上预约 (can be booked)"`
	Ticketable     bool       `json:"ticketable" doc:"可现场取号 (tickets can be taken on site)"`
	RealName       bool       `json:"real_name" doc:"预约、取号须实名 (booking and tickets need a real-name identity)"`
	TicketPrefix   string     `json:"ticket_prefix" doc:"号票前缀 (ticket prefix)"`
	Active         bool       `json:"active"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
}

// Material is one document an applicant brings (申报材料).
type Material struct {
	Name     string `json:"name" minLength:"1" maxLength:"200" doc:"材料名称 (name)"`
	Copies   int    `json:"copies" minimum:"1" maximum:"99" doc:"份数 (copies)"`
	Required bool   `json:"required" doc:"是否必需 (required, or only in some cases)"`
}

// ItemDetail is an item with the windows that handle it.
type ItemDetail struct {
	Item
	Windows []WindowSummary `json:"windows" doc:"办理窗口 (the windows handling it)"`
}

// ItemInput is what staff save of an item; a PUT replaces every field.
type ItemInput struct {
	DepartmentID  uuid.UUID  `json:"department_id" doc:"业务部门 (department)"`
	Code          string     `json:"code" pattern:"^[A-Za-z0-9_.-]{1,64}$" doc:"事项编码：字母、数字、_ . - (item code)"`
	Name          string     `json:"name" minLength:"1" maxLength:"200" doc:"事项名称 (name)"`
	Theme         string     `json:"theme,omitempty" required:"false" maxLength:"100" doc:"主题分类 (theme)"`
	TimeLimitDays int        `json:"time_limit_days,omitempty" required:"false" minimum:"0" maximum:"3650" doc:"法定办结时限（工作日），0 为即办件 (legal time limit in working days)"`
	Materials     []Material `json:"materials,omitempty" required:"false" maxItems:"100" doc:"申报材料 (materials)"`
	Bookable      bool       `json:"bookable,omitempty" required:"false" doc:"可网上预约，默认否 (can be booked; default false)"`
	Ticketable    *bool      `json:"ticketable,omitempty" required:"false" doc:"可现场取号，默认是 (tickets on site; default true)"`
	RealName      *bool      `json:"real_name,omitempty" required:"false" doc:"须实名，默认是 (needs real name; default true)"`
	TicketPrefix  string     `json:"ticket_prefix,omitempty" required:"false" pattern:"^[A-Z]{1,3}$" doc:"号票前缀，默认 A (ticket prefix; default A)"`
	Active        *bool      `json:"active,omitempty" required:"false" doc:"是否对外服务，默认是 (offered; default true)"`
}

func orTrue(b *bool) bool { return b == nil || *b }

func (in ItemInput) prefix() string {
	if in.TicketPrefix == "" {
		return "A"
	}
	return in.TicketPrefix
}

func (in ItemInput) materials() []Material {
	ms := make([]Material, len(in.Materials))
	for i, m := range in.Materials {
		if m.Copies == 0 {
			m.Copies = 1
		}
		ms[i] = m
	}
	return ms
}

func (in ItemInput) values() map[string]any {
	return map[string]any{"code": in.Code, "department_id": in.DepartmentID, "ticket_prefix": in.TicketPrefix, "time_limit_days": in.TimeLimitDays}
}

const itemSelect = `SELECT i.id, i.code, i.name, i.department_id, d.code, d.name, d.hall_id, h.name, h.region_code, i.theme,
	i.time_limit_days, i.materials, i.bookable, i.ticketable, i.real_name, i.ticket_prefix, i.active, i.created_at, i.updated_at
	FROM catalog_items i
	JOIN catalog_departments d ON d.tenant_id = i.tenant_id AND d.id = i.department_id
	JOIN catalog_halls h ON h.tenant_id = d.tenant_id AND h.id = d.hall_id`

// publicItem is the condition of an item the public sees: it, its
// department and its hall all active.
const publicItem = "(i.active AND d.active AND h.active)"

func scanItem(row pgx.Row) (Item, error) {
	var it Item
	err := row.Scan(&it.ID, &it.Code, &it.Name, &it.DepartmentID, &it.DepartmentCode, &it.DepartmentName, &it.HallID, &it.HallName,
		&it.RegionCode, &it.Theme, &it.TimeLimitDays, &it.Materials, &it.Bookable, &it.Ticketable, &it.RealName, &it.TicketPrefix,
		&it.Active, &it.CreatedAt, &it.UpdatedAt)
	if it.Materials == nil {
		it.Materials = []Material{}
	}
	return it, err
}

var errNoItem = problem.NotFound("服务事项不存在 (no such service item)")

// GetItem returns one item, active or not.
func GetItem(ctx context.Context, q tenants.Querier, id uuid.UUID) (Item, error) {
	it, err := scanItem(q.QueryRow(ctx, itemSelect+" WHERE i.id = $1", id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Item{}, errNoItem
	}
	if err != nil {
		return Item{}, fmt.Errorf("catalog: get item: %w", err)
	}
	return it, nil
}

// GetItemDetail returns an item with its windows; with activeOnly an item
// the public cannot see is not found, and inactive windows are left out.
func GetItemDetail(ctx context.Context, q tenants.Querier, id uuid.UUID, activeOnly bool) (ItemDetail, error) {
	sql := itemSelect + " WHERE i.id = $1"
	if activeOnly {
		sql += " AND " + publicItem
	}
	it, err := scanItem(q.QueryRow(ctx, sql, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return ItemDetail{}, errNoItem
	}
	if err != nil {
		return ItemDetail{}, fmt.Errorf("catalog: get item: %w", err)
	}
	ws, err := WindowsOfItem(ctx, q, id, activeOnly)
	if err != nil {
		return ItemDetail{}, err
	}
	return ItemDetail{Item: it, Windows: ws}, nil
}

// ItemFilter narrows a search of items. Department is an id or a code.
type ItemFilter struct {
	Q          string `query:"q" maxLength:"100" doc:"事项名称包含的文字，或事项编码 (words in the name, or the item code)"`
	Department string `query:"department" maxLength:"64" doc:"业务部门编号或编码 (department id or code)"`
	Hall       string `query:"hall" format:"uuid" doc:"办事网点 (hall id)"`
	Region     string `query:"region" pattern:"^[0-9]{6}([0-9]{3}([0-9]{3})?)?$" doc:"行政区划代码：含下级区划的网点的事项 (region: items of halls in it or under it)"`
	Theme      string `query:"theme" maxLength:"100" doc:"主题分类 (theme)"`
	Bookable   string `query:"bookable" enum:"true,false" doc:"是否可预约 (whether it can be booked)"`
	Ticketable string `query:"ticketable" enum:"true,false" doc:"是否可现场取号 (whether tickets are taken on site)"`
	Limit      int    `query:"limit" minimum:"1" maximum:"500" default:"50" doc:"每页条数 (page size)"`
	Cursor     string `query:"cursor" maxLength:"400" doc:"上一页返回的 next_cursor (the next_cursor of the page before)"`
	Offset     int    `query:"offset" minimum:"0" maximum:"100000" doc:"跳过条数，与 cursor 不同时使用 (rows to skip; not with cursor)"`
	// ActiveOnly is set for the public: only items they may see.
	ActiveOnly bool `json:"-"`
}

// ItemPage is one page of items, by department code, item code and id.
type ItemPage struct {
	Items      []Item `json:"items"`
	NextCursor string `json:"next_cursor" doc:"下一页的 cursor，没有下一页时为空 (cursor of the next page; empty on the last)"`
}

// checkText refuses text PostgreSQL cannot store (a NUL, broken UTF-8),
// which would otherwise fail the query.
func checkText(location, s string) *problem.Field {
	if strings.ContainsRune(s, 0) || !validUTF8(s) {
		return &problem.Field{Location: location, Message: "含有无效字符 (invalid characters)", Value: strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD")}
	}
	return nil
}

// ListItems searches items. The order is stable (department code, item
// code, id), so paging with the cursor neither skips nor repeats an item.
func ListItems(ctx context.Context, q tenants.Querier, f ItemFilter) (ItemPage, error) {
	var fields []problem.Field
	for _, c := range []struct{ loc, v string }{{"query.q", f.Q}, {"query.department", f.Department}, {"query.theme", f.Theme}} {
		if bad := checkText(c.loc, c.v); bad != nil {
			fields = append(fields, *bad)
		}
	}
	var after *cursor
	if f.Cursor != "" {
		c, err := parseCursor(f.Cursor)
		if err != nil {
			fields = append(fields, problem.Field{Location: "query.cursor", Message: "无效的翻页标记 (invalid cursor)", Value: f.Cursor})
		} else {
			after = &c
		}
		if f.Offset != 0 {
			fields = append(fields, problem.Field{Location: "query.offset", Message: "不能与 cursor 同时使用 (not with cursor)", Value: f.Offset})
		}
	}
	var hall *uuid.UUID
	if f.Hall != "" {
		h, err := uuid.Parse(f.Hall)
		if err != nil {
			fields = append(fields, problem.Field{Location: "query.hall", Message: "应为 UUID (expected a uuid)", Value: f.Hall})
		}
		hall = &h
	}
	if len(fields) > 0 {
		return ItemPage{}, problem.Invalid(fields...)
	}
	var where []string
	var args []any
	add := func(cond string, vs ...any) {
		n := make([]any, len(vs))
		for i, v := range vs {
			args = append(args, v)
			n[i] = len(args)
		}
		where = append(where, fmt.Sprintf(cond, n...))
	}
	if f.ActiveOnly {
		where = append(where, publicItem)
	}
	if f.Q != "" {
		add("(strpos(lower(i.name), lower($%d)) > 0 OR i.code = $%d)", f.Q, f.Q)
	}
	if f.Department != "" {
		if id, err := uuid.Parse(f.Department); err == nil {
			add("i.department_id = $%d", id)
		} else {
			add("d.code = $%d", f.Department)
		}
	}
	if hall != nil {
		add("d.hall_id = $%d", *hall)
	}
	if f.Region != "" {
		args = append(args, f.Region)
		where = append(where, "h.region_code IN "+regionSubtree(len(args)))
	}
	if f.Theme != "" {
		add("i.theme = $%d", f.Theme)
	}
	if f.Bookable != "" {
		add("i.bookable = $%d", f.Bookable == "true")
	}
	if f.Ticketable != "" {
		add("i.ticketable = $%d", f.Ticketable == "true")
	}
	if after != nil {
		add(`(d.code COLLATE "C", i.code COLLATE "C", i.id) > ($%d COLLATE "C", $%d COLLATE "C", $%d::uuid)`, after.department, after.item, after.id)
	}
	sql := itemSelect
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	args = append(args, limit+1, f.Offset)
	sql += fmt.Sprintf(` ORDER BY d.code COLLATE "C", i.code COLLATE "C", i.id LIMIT $%d OFFSET $%d`, len(args)-1, len(args))
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return ItemPage{}, fmt.Errorf("catalog: list items: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Item, error) { return scanItem(r) })
	if err != nil {
		return ItemPage{}, fmt.Errorf("catalog: list items: %w", err)
	}
	page := ItemPage{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		last := page.Items[limit-1]
		page.NextCursor = cursor{department: last.DepartmentCode, item: last.Code, id: last.ID}.String()
	}
	return page, nil
}

func (in ItemInput) check() []problem.Field {
	var fields []problem.Field
	for i, m := range in.Materials {
		if strings.TrimSpace(m.Name) == "" {
			fields = append(fields, problem.Field{Location: fmt.Sprintf("body.materials[%d].name", i), Message: "材料名称不能为空 (name required)", Value: m.Name})
		}
		if m.Copies < 0 || m.Copies > 99 {
			fields = append(fields, problem.Field{Location: fmt.Sprintf("body.materials[%d].copies", i), Message: "份数应为 1–99 (copies must be 1–99)", Value: m.Copies})
		}
	}
	return fields
}

// CreateItem adds an item to a department.
func CreateItem(ctx context.Context, tx *tenants.Tx, in ItemInput) (Item, error) {
	if fields := in.check(); len(fields) > 0 {
		return Item{}, problem.Invalid(fields...)
	}
	var id uuid.UUID
	err := tx.QueryRow(ctx, `INSERT INTO catalog_items (tenant_id, department_id, code, name, theme, time_limit_days, materials,
			bookable, ticketable, real_name, ticket_prefix, active)
		VALUES (current_tenant(), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
		in.DepartmentID, in.Code, in.Name, in.Theme, in.TimeLimitDays, in.materials(), in.Bookable, orTrue(in.Ticketable),
		orTrue(in.RealName), in.prefix(), orTrue(in.Active)).Scan(&id)
	if err != nil {
		return Item{}, writeError(err, in.values())
	}
	if err := tenants.Audit(ctx, tx, "catalog.item.create", id.String(), map[string]any{"code": in.Code, "name": in.Name, "department_id": in.DepartmentID}); err != nil {
		return Item{}, err
	}
	return GetItem(ctx, tx, id)
}

// UpdateItem replaces an item's attributes. Moving it to a department of
// another hall is refused while windows of its present hall handle it.
func UpdateItem(ctx context.Context, tx *tenants.Tx, id uuid.UUID, in ItemInput) (Item, error) {
	if fields := in.check(); len(fields) > 0 {
		return Item{}, problem.Invalid(fields...)
	}
	var stranded bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM catalog_window_items wi JOIN catalog_windows w ON w.tenant_id = wi.tenant_id AND w.id = wi.window_id
		WHERE wi.item_id = $1 AND w.hall_id IS DISTINCT FROM (SELECT hall_id FROM catalog_departments WHERE id = $2))`, id, in.DepartmentID).Scan(&stranded)
	if err != nil {
		return Item{}, fmt.Errorf("catalog: update item: %w", err)
	}
	if stranded {
		return Item{}, problem.New(409, "原网点的窗口仍在办理该事项，请先调整窗口配置 (windows of the present hall still handle the item)",
			problem.Field{Location: "body.department_id", Message: "不能移到其他网点的部门 (cannot move to a department of another hall)", Value: in.DepartmentID})
	}
	tag, err := tx.Exec(ctx, `UPDATE catalog_items SET department_id = $2, code = $3, name = $4, theme = $5, time_limit_days = $6,
		materials = $7, bookable = $8, ticketable = $9, real_name = $10, ticket_prefix = $11, active = $12, updated_at = now() WHERE id = $1`,
		id, in.DepartmentID, in.Code, in.Name, in.Theme, in.TimeLimitDays, in.materials(), in.Bookable, orTrue(in.Ticketable),
		orTrue(in.RealName), in.prefix(), orTrue(in.Active))
	if err != nil {
		return Item{}, writeError(err, in.values())
	}
	if tag.RowsAffected() == 0 {
		return Item{}, errNoItem
	}
	if err := tenants.Audit(ctx, tx, "catalog.item.update", id.String(), map[string]any{"code": in.Code, "name": in.Name,
		"bookable": in.Bookable, "ticketable": orTrue(in.Ticketable), "active": orTrue(in.Active)}); err != nil {
		return Item{}, err
	}
	return GetItem(ctx, tx, id)
}

// DeleteItem removes an item from every window and then itself; an item
// with appointments or tickets is a 409 and can be made inactive instead.
func DeleteItem(ctx context.Context, tx *tenants.Tx, id uuid.UUID) error {
	if _, err := tx.Exec(ctx, "DELETE FROM catalog_window_items WHERE item_id = $1", id); err != nil {
		return fmt.Errorf("catalog: delete item: %w", err)
	}
	tag, err := tx.Exec(ctx, "DELETE FROM catalog_items WHERE id = $1", id)
	if err != nil {
		return deleteError(err, "服务事项 (service item)")
	}
	if tag.RowsAffected() == 0 {
		return errNoItem
	}
	return tenants.Audit(ctx, tx, "catalog.item.delete", id.String(), nil)
}

// BatchConfig sets whether items can be booked, ticketed, or need a real
// name, for every item of a department, of a hall, or of the halls of a
// region and those under it (seed 004: 可对事项进行批量配置，比如按照业务部门配置、
// 按照行政区划配置). The selectors combine; at least one and one setting.
type BatchConfig struct {
	DepartmentID *uuid.UUID `json:"department_id,omitempty" required:"false" doc:"按业务部门 (every item of this department)"`
	HallID       *uuid.UUID `json:"hall_id,omitempty" required:"false" doc:"按办事网点 (every item of this hall)"`
	RegionCode   string     `json:"region_code,omitempty" required:"false" pattern:"^[0-9]{6}([0-9]{3}([0-9]{3})?)?$" doc:"按行政区划，含下级区划 (every item of the halls in this region or under it)"`
	Theme        string     `json:"theme,omitempty" required:"false" maxLength:"100" doc:"按主题分类 (every item of this theme)"`
	Bookable     *bool      `json:"bookable,omitempty" required:"false" doc:"可网上预约 (can be booked)"`
	Ticketable   *bool      `json:"ticketable,omitempty" required:"false" doc:"可现场取号 (tickets on site)"`
	RealName     *bool      `json:"real_name,omitempty" required:"false" doc:"须实名 (needs real name)"`
}

// BatchResult says how many items a batch configuration changed.
type BatchResult struct {
	Matched int `json:"matched" doc:"符合条件的事项数 (items selected)"`
}

// ConfigureItems applies a batch configuration.
func ConfigureItems(ctx context.Context, tx *tenants.Tx, b BatchConfig) (BatchResult, error) {
	var fields []problem.Field
	if b.DepartmentID == nil && b.HallID == nil && b.RegionCode == "" && b.Theme == "" {
		for _, loc := range []string{"body.department_id", "body.hall_id", "body.region_code", "body.theme"} {
			fields = append(fields, problem.Field{Location: loc, Message: "至少指定一个范围：部门、网点、行政区划或主题 (select by department, hall, region or theme)"})
		}
	}
	if b.Bookable == nil && b.Ticketable == nil && b.RealName == nil {
		for _, loc := range []string{"body.bookable", "body.ticketable", "body.real_name"} {
			fields = append(fields, problem.Field{Location: loc, Message: "至少设置一项 (set at least one)"})
		}
	}
	if bad := checkText("body.theme", b.Theme); bad != nil {
		fields = append(fields, *bad)
	}
	var depOK, hallOK, regionOK bool
	if err := tx.QueryRow(ctx, `SELECT $1::uuid IS NULL OR EXISTS (SELECT 1 FROM catalog_departments WHERE id = $1),
			$2::uuid IS NULL OR EXISTS (SELECT 1 FROM catalog_halls WHERE id = $2),
			$3 = '' OR EXISTS (SELECT 1 FROM regions WHERE code = $3)`, b.DepartmentID, b.HallID, b.RegionCode).Scan(&depOK, &hallOK, &regionOK); err != nil {
		return BatchResult{}, fmt.Errorf("catalog: batch: %w", err)
	}
	if !depOK {
		fields = append(fields, problem.Field{Location: "body.department_id", Message: "业务部门不存在 (no such department)", Value: b.DepartmentID})
	}
	if !hallOK {
		fields = append(fields, problem.Field{Location: "body.hall_id", Message: "办事网点不存在 (no such hall)", Value: b.HallID})
	}
	if !regionOK {
		fields = append(fields, problem.Field{Location: "body.region_code", Message: "行政区划不存在 (unknown region code)", Value: b.RegionCode})
	}
	if len(fields) > 0 {
		return BatchResult{}, problem.Invalid(fields...)
	}
	tag, err := tx.Exec(ctx, `UPDATE catalog_items i SET bookable = coalesce($5, i.bookable), ticketable = coalesce($6, i.ticketable),
			real_name = coalesce($7, i.real_name), updated_at = now()
		FROM catalog_departments d JOIN catalog_halls h ON h.tenant_id = d.tenant_id AND h.id = d.hall_id
		WHERE d.tenant_id = i.tenant_id AND d.id = i.department_id
			AND ($1::uuid IS NULL OR d.id = $1) AND ($2::uuid IS NULL OR h.id = $2)
			AND ($3 = '' OR h.region_code IN `+regionSubtree(3)+`) AND ($4 = '' OR i.theme = $4)`,
		b.DepartmentID, b.HallID, b.RegionCode, b.Theme, b.Bookable, b.Ticketable, b.RealName)
	if err != nil {
		return BatchResult{}, fmt.Errorf("catalog: batch: %w", err)
	}
	res := BatchResult{Matched: int(tag.RowsAffected())}
	if err := tenants.Audit(ctx, tx, "catalog.item.batch", "catalog_items", map[string]any{"department_id": b.DepartmentID, "hall_id": b.HallID,
		"region_code": b.RegionCode, "theme": b.Theme, "bookable": b.Bookable, "ticketable": b.Ticketable, "real_name": b.RealName, "matched": res.Matched}); err != nil {
		return BatchResult{}, err
	}
	return res, nil
}

// Theme is a theme (主题分类) with how many items have it.
type Theme struct {
	Theme string `json:"theme"`
	Items int    `json:"items" doc:"事项数 (items)"`
}

// ThemeFilter narrows the themes to a hall's or a region's.
type ThemeFilter struct {
	Hall   string `query:"hall" format:"uuid" doc:"办事网点 (hall id)"`
	Region string `query:"region" pattern:"^[0-9]{6}([0-9]{3}([0-9]{3})?)?$" doc:"行政区划代码，含下级 (region, with those under it)"`
}

// ListThemes returns the themes of the items the public sees, the most
// used first.
func ListThemes(ctx context.Context, q tenants.Querier, f ThemeFilter) ([]Theme, error) {
	var hall *uuid.UUID
	if f.Hall != "" {
		h, err := uuid.Parse(f.Hall)
		if err != nil {
			return nil, problem.InvalidField("query.hall", "应为 UUID (expected a uuid)", f.Hall)
		}
		hall = &h
	}
	rows, err := q.Query(ctx, `SELECT i.theme, count(*) FROM catalog_items i
		JOIN catalog_departments d ON d.tenant_id = i.tenant_id AND d.id = i.department_id
		JOIN catalog_halls h ON h.tenant_id = d.tenant_id AND h.id = d.hall_id
		WHERE `+publicItem+` AND i.theme <> '' AND ($1::uuid IS NULL OR h.id = $1) AND ($2 = '' OR h.region_code IN `+regionSubtree(2)+`)
		GROUP BY i.theme ORDER BY count(*) DESC, i.theme COLLATE "C"`, hall, f.Region)
	if err != nil {
		return nil, fmt.Errorf("catalog: themes: %w", err)
	}
	ts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Theme, error) {
		var t Theme
		err := r.Scan(&t.Theme, &t.Items)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: themes: %w", err)
	}
	return ts, nil
}
