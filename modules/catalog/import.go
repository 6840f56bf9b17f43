package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"yamen/problem"
	"yamen/tenants"
)

// ImportItem is an item as the city's item management system (市政务服务事项
// 管理系统) sends it: known by its department's code and its own. The
// hall's own settings — bookable, ticketable, real name, ticket prefix,
// active — are kept on an item already here unless given.
type ImportItem struct {
	DepartmentCode string     `json:"department_code" pattern:"^[A-Za-z0-9_-]{1,40}$" doc:"业务部门编码 (department code)"`
	Code           string     `json:"code" pattern:"^[A-Za-z0-9_.-]{1,64}$" doc:"事项编码 (item code)"`
	Name           string     `json:"name" minLength:"1" maxLength:"200" doc:"事项名称 (name)"`
	Theme          string     `json:"theme,omitempty" required:"false" maxLength:"100" doc:"主题分类 (theme)"`
	TimeLimitDays  int        `json:"time_limit_days,omitempty" required:"false" minimum:"0" maximum:"3650" doc:"法定办结时限（工作日） (legal time limit, working days)"`
	Materials      []Material `json:"materials,omitempty" required:"false" maxItems:"100" doc:"申报材料 (materials)"`
	Bookable       *bool      `json:"bookable,omitempty" required:"false" doc:"可网上预约；不给则新事项为否，已有事项不变 (can be booked; kept when not given)"`
	Ticketable     *bool      `json:"ticketable,omitempty" required:"false" doc:"可现场取号；不给则新事项为是，已有事项不变 (tickets on site; kept when not given)"`
	RealName       *bool      `json:"real_name,omitempty" required:"false" doc:"须实名；不给则新事项为是，已有事项不变 (needs real name; kept when not given)"`
	TicketPrefix   string     `json:"ticket_prefix,omitempty" required:"false" pattern:"^[A-Z]{1,3}$" doc:"号票前缀；不给则新事项为 A，已有事项不变 (ticket prefix; kept when not given)"`
	Active         *bool      `json:"active,omitempty" required:"false" doc:"是否对外服务；不给则新事项为是，已有事项不变 (offered; kept when not given)"`
}

// Import is one synchronisation: every item is written, or none.
type Import struct {
	Items []ImportItem `json:"items" minItems:"1" maxItems:"5000" doc:"事项清单 (the items)"`
}

// ImportResult counts what an import did.
type ImportResult struct {
	Created int `json:"created" doc:"新增事项数 (items added)"`
	Updated int `json:"updated" doc:"更新事项数 (items updated)"`
}

// row is an item as the import writes it, every field resolved.
type importRow struct {
	DepartmentID  uuid.UUID  `json:"department_id"`
	Code          string     `json:"code"`
	Name          string     `json:"name"`
	Theme         string     `json:"theme"`
	TimeLimitDays int        `json:"time_limit_days"`
	Materials     []Material `json:"materials"`
	Bookable      bool       `json:"bookable"`
	Ticketable    bool       `json:"ticketable"`
	RealName      bool       `json:"real_name"`
	TicketPrefix  string     `json:"ticket_prefix"`
	Active        bool       `json:"active"`
}

var (
	prefixPattern = regexp.MustCompile(`^[A-Z]{1,3}$`)
)

// check names what of it the JSON schema would refuse, and what it lets
// through that PostgreSQL cannot store, at (body.items[3]): items come from
// the Excel import and Go callers too.
func (it ImportItem) check(at string) []problem.Field {
	var fields []problem.Field
	bad := func(field, msg string, v any) {
		fields = append(fields, problem.Field{Location: at + "." + field, Message: msg, Value: v})
	}
	if !departmentCode.MatchString(it.DepartmentCode) {
		bad("department_code", "须为1至40位字母、数字或 _- (1–40 letters, digits, _ or -)", it.DepartmentCode)
	}
	if !itemCode.MatchString(it.Code) {
		bad("code", "须为1至64位字母、数字或 _.- (1–64 letters, digits, _ . or -)", it.Code)
	}
	if n := utf8.RuneCountInString(it.Name); n < 1 || n > 200 || strings.TrimSpace(it.Name) == "" || checkText("", it.Name) != nil {
		bad("name", "事项名称须为1至200字 (a name of 1–200 characters)", it.Name)
	}
	if utf8.RuneCountInString(it.Theme) > 100 || checkText("", it.Theme) != nil {
		bad("theme", "主题分类至多100字 (at most 100 characters)", it.Theme)
	}
	if it.TimeLimitDays < 0 || it.TimeLimitDays > 3650 {
		bad("time_limit_days", "须在0至3650之间 (0 to 3650 working days)", it.TimeLimitDays)
	}
	if it.TicketPrefix != "" && !prefixPattern.MatchString(it.TicketPrefix) {
		bad("ticket_prefix", "须为1至3个大写字母 (1–3 capital letters)", it.TicketPrefix)
	}
	if len(it.Materials) > 100 {
		bad("materials", "至多100项 (at most 100)", len(it.Materials))
	}
	for j, m := range it.Materials {
		if n := utf8.RuneCountInString(m.Name); n < 1 || n > 200 || strings.TrimSpace(m.Name) == "" || checkText("", m.Name) != nil {
			bad(fmt.Sprintf("materials[%d].name", j), "材料名称须为1至200字 (a name of 1–200 characters)", m.Name)
		}
		if m.Copies < 0 || m.Copies > 99 {
			bad(fmt.Sprintf("materials[%d].copies", j), "份数须在1至99之间 (1 to 99 copies)", m.Copies)
		}
	}
	return fields
}

type itemKey struct {
	department uuid.UUID
	code       string
}

// ImportItems upserts items by (department code, item code) in one
// statement. Every bad element is named (body.items[3].department_code) and
// nothing is written when any is bad.
func ImportItems(ctx context.Context, tx *tenants.Tx, in Import) (ImportResult, error) {
	departments := map[string]uuid.UUID{}
	rows, err := tx.Query(ctx, "SELECT code, id FROM catalog_departments")
	if err != nil {
		return ImportResult{}, fmt.Errorf("catalog: import: %w", err)
	}
	var code string
	var id uuid.UUID
	if _, err := pgx.ForEachRow(rows, []any{&code, &id}, func() error { departments[code] = id; return nil }); err != nil {
		return ImportResult{}, fmt.Errorf("catalog: import: %w", err)
	}

	if len(in.Items) == 0 {
		return ImportResult{}, problem.InvalidField("body.items", "没有事项 (no items)", nil)
	}
	var fields []problem.Field
	seen := map[itemKey]int{}
	keys := make([]itemKey, len(in.Items))
	for i, it := range in.Items {
		at := fmt.Sprintf("body.items[%d]", i)
		dep, ok := departments[it.DepartmentCode]
		if !ok && departmentCode.MatchString(it.DepartmentCode) {
			fields = append(fields, problem.Field{Location: at + ".department_code", Message: "业务部门不存在 (no such department)", Value: it.DepartmentCode})
		}
		k := itemKey{dep, it.Code}
		keys[i] = k
		if first, dup := seen[k]; ok && dup {
			fields = append(fields, problem.Field{Location: at + ".code", Message: fmt.Sprintf("与第 %d 项重复 (repeats items[%d])", first, first), Value: it.Code})
		} else if ok {
			seen[k] = i
		}
		fields = append(fields, it.check(at)...)
	}
	if len(fields) > 0 {
		return ImportResult{}, problem.Invalid(fields...)
	}

	// The hall's own settings of the items already here.
	type settings struct {
		bookable, ticketable, realName, active bool
		prefix                                 string
	}
	existing := map[itemKey]settings{}
	rows, err = tx.Query(ctx, "SELECT department_id, code, bookable, ticketable, real_name, ticket_prefix, active FROM catalog_items")
	if err != nil {
		return ImportResult{}, fmt.Errorf("catalog: import: %w", err)
	}
	var s settings
	if _, err := pgx.ForEachRow(rows, []any{&id, &code, &s.bookable, &s.ticketable, &s.realName, &s.prefix, &s.active}, func() error {
		existing[itemKey{id, code}] = s
		return nil
	}); err != nil {
		return ImportResult{}, fmt.Errorf("catalog: import: %w", err)
	}

	out := make([]importRow, len(in.Items))
	for i, it := range in.Items {
		cur, ok := existing[keys[i]]
		if !ok {
			cur = settings{ticketable: true, realName: true, active: true, prefix: "A"}
		}
		pick := func(b *bool, keep bool) bool {
			if b != nil {
				return *b
			}
			return keep
		}
		prefix := it.TicketPrefix
		if prefix == "" {
			prefix = cur.prefix
		}
		out[i] = importRow{DepartmentID: keys[i].department, Code: it.Code, Name: it.Name, Theme: it.Theme, TimeLimitDays: it.TimeLimitDays,
			Materials: ItemInput{Materials: it.Materials}.materials(), Bookable: pick(it.Bookable, cur.bookable),
			Ticketable: pick(it.Ticketable, cur.ticketable), RealName: pick(it.RealName, cur.realName), TicketPrefix: prefix, Active: pick(it.Active, cur.active)}
	}
	doc, err := json.Marshal(out)
	if err != nil {
		return ImportResult{}, fmt.Errorf("catalog: import: %w", err)
	}
	var res ImportResult
	err = tx.QueryRow(ctx, `WITH up AS (
			INSERT INTO catalog_items (tenant_id, department_id, code, name, theme, time_limit_days, materials, bookable, ticketable, real_name, ticket_prefix, active)
			SELECT current_tenant(), s.department_id, s.code, s.name, s.theme, s.time_limit_days, s.materials, s.bookable, s.ticketable, s.real_name, s.ticket_prefix, s.active
			FROM jsonb_to_recordset($1::jsonb) AS s(department_id uuid, code text, name text, theme text, time_limit_days int, materials jsonb,
				bookable boolean, ticketable boolean, real_name boolean, ticket_prefix text, active boolean)
			ON CONFLICT (tenant_id, department_id, code) DO UPDATE SET name = excluded.name, theme = excluded.theme,
				time_limit_days = excluded.time_limit_days, materials = excluded.materials, bookable = excluded.bookable,
				ticketable = excluded.ticketable, real_name = excluded.real_name, ticket_prefix = excluded.ticket_prefix,
				active = excluded.active, updated_at = now()
			RETURNING xmax = 0 AS inserted)
		SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up`, doc).Scan(&res.Created, &res.Updated)
	if err != nil {
		return ImportResult{}, writeError(err, nil)
	}
	if err := tenants.Audit(ctx, tx, "catalog.item.import", "catalog_items", map[string]any{"created": res.Created, "updated": res.Updated}); err != nil {
		return ImportResult{}, err
	}
	return res, nil
}
