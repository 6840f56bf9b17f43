package catalog

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"yamen/problem"
	"yamen/tenants"
)

// Hall is a 办事网点: a government service hall or a service point of a
// town or community, placed in the region tree (新四级).
type Hall struct {
	ID         uuid.UUID `json:"id"`
	Code       string    `json:"code" doc:"网点编码 (hall code)"`
	Name       string    `json:"name" doc:"网点名称 (hall name)"`
	RegionCode string    `json:"region_code" doc:"所在行政区划代码 (region code)"`
	RegionName string    `json:"region_name" doc:"所在行政区划名称 (region name)"`
	Address    string    `json:"address" doc:"地址 (address)"`
	Phone      string    `json:"phone" doc:"咨询电话 (enquiries phone)"`
	Active     bool      `json:"active" doc:"是否对外服务 (open to the public)"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// HallInput is what staff save of a hall; a PUT replaces every field.
type HallInput struct {
	Code       string `json:"code" pattern:"^[A-Za-z0-9_-]{1,40}$" doc:"网点编码：字母、数字、_ - (hall code)"`
	Name       string `json:"name" minLength:"1" maxLength:"200" doc:"网点名称 (hall name)"`
	RegionCode string `json:"region_code" pattern:"^[0-9]{6}([0-9]{3}([0-9]{3})?)?$" doc:"所在行政区划代码，6、9 或 12 位 (region code: 6, 9 or 12 digits)"`
	Address    string `json:"address,omitempty" required:"false" maxLength:"500" doc:"地址 (address)"`
	Phone      string `json:"phone,omitempty" required:"false" maxLength:"40" doc:"咨询电话 (enquiries phone)"`
	Active     *bool  `json:"active,omitempty" required:"false" doc:"是否对外服务，默认是 (open to the public; default true)"`
}

// HallDetail is a hall with its weekly hours and its departments.
type HallDetail struct {
	Hall
	Hours       []Period     `json:"hours" doc:"每周办公时间 (weekly opening hours)"`
	Departments []Department `json:"departments" doc:"进驻的业务部门 (departments working in the hall)"`
}

// HallFilter narrows a list of halls.
type HallFilter struct {
	Region string `query:"region" pattern:"^[0-9]{6}([0-9]{3}([0-9]{3})?)?$" doc:"行政区划代码：含其下级区划的网点 (region code: halls in it or any region under it)"`
	// ActiveOnly is set for the public, who see only halls open to them.
	ActiveOnly bool `query:"-" json:"-"`
}

const hallSelect = `SELECT h.id, h.code, h.name, h.region_code, coalesce(r.name, ''), h.address, h.phone, h.active, h.created_at, h.updated_at
	FROM catalog_halls h LEFT JOIN regions r ON r.code = h.region_code`

func scanHall(row pgx.Row) (Hall, error) {
	var h Hall
	err := row.Scan(&h.ID, &h.Code, &h.Name, &h.RegionCode, &h.RegionName, &h.Address, &h.Phone, &h.Active, &h.CreatedAt, &h.UpdatedAt)
	return h, err
}

// regionSubtree is the SQL set of the region codes at and under $n: a
// district matches its streets and communities. It follows parent_code, so
// it holds for codes whose digits do not nest.
func regionSubtree(n int) string {
	return fmt.Sprintf(`(WITH RECURSIVE sub(code) AS (
		SELECT code FROM regions WHERE code = $%d
		UNION ALL SELECT r.code FROM regions r JOIN sub ON r.parent_code = sub.code)
		SELECT code FROM sub)`, n)
}

// ListHalls returns the halls matching f, by code.
func ListHalls(ctx context.Context, q tenants.Querier, f HallFilter) ([]Hall, error) {
	sql := hallSelect + " WHERE ($1 = '' OR h.region_code IN " + regionSubtree(1) + ") AND (NOT $2 OR h.active) ORDER BY h.code"
	rows, err := q.Query(ctx, sql, f.Region, f.ActiveOnly)
	if err != nil {
		return nil, fmt.Errorf("catalog: list halls: %w", err)
	}
	hs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Hall, error) { return scanHall(r) })
	if err != nil {
		return nil, fmt.Errorf("catalog: list halls: %w", err)
	}
	return hs, nil
}

var errNoHall = problem.NotFound("办事网点不存在 (no such hall)")

// GetHall returns one hall, inactive or not.
func GetHall(ctx context.Context, q tenants.Querier, id uuid.UUID) (Hall, error) {
	h, err := scanHall(q.QueryRow(ctx, hallSelect+" WHERE h.id = $1", id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Hall{}, errNoHall
	}
	if err != nil {
		return Hall{}, fmt.Errorf("catalog: get hall: %w", err)
	}
	return h, nil
}

// GetHallDetail returns a hall with its hours and departments; with
// activeOnly, an inactive hall is not found and inactive departments are
// left out.
func GetHallDetail(ctx context.Context, q tenants.Querier, id uuid.UUID, activeOnly bool) (HallDetail, error) {
	h, err := GetHall(ctx, q, id)
	if err != nil {
		return HallDetail{}, err
	}
	if activeOnly && !h.Active {
		return HallDetail{}, errNoHall
	}
	d := HallDetail{Hall: h}
	if d.Hours, err = HallHours(ctx, q, id); err != nil {
		return HallDetail{}, err
	}
	if d.Departments, err = ListDepartments(ctx, q, DepartmentFilter{Hall: id, ActiveOnly: activeOnly}); err != nil {
		return HallDetail{}, err
	}
	return d, nil
}

func (in HallInput) active() bool { return in.Active == nil || *in.Active }

// CreateHall adds a hall.
func CreateHall(ctx context.Context, tx *tenants.Tx, in HallInput) (Hall, error) {
	var id uuid.UUID
	err := tx.QueryRow(ctx, `INSERT INTO catalog_halls (tenant_id, code, name, region_code, address, phone, active)
		VALUES (current_tenant(), $1, $2, $3, $4, $5, $6) RETURNING id`,
		in.Code, in.Name, in.RegionCode, in.Address, in.Phone, in.active()).Scan(&id)
	if err != nil {
		return Hall{}, writeError(err, map[string]any{"code": in.Code, "region_code": in.RegionCode})
	}
	if err := tenants.Audit(ctx, tx, "catalog.hall.create", id.String(), map[string]any{"code": in.Code, "name": in.Name}); err != nil {
		return Hall{}, err
	}
	return GetHall(ctx, tx, id)
}

// UpdateHall replaces a hall's attributes.
func UpdateHall(ctx context.Context, tx *tenants.Tx, id uuid.UUID, in HallInput) (Hall, error) {
	tag, err := tx.Exec(ctx, `UPDATE catalog_halls SET code = $2, name = $3, region_code = $4, address = $5, phone = $6,
		active = $7, updated_at = now() WHERE id = $1`, id, in.Code, in.Name, in.RegionCode, in.Address, in.Phone, in.active())
	if err != nil {
		return Hall{}, writeError(err, map[string]any{"code": in.Code, "region_code": in.RegionCode})
	}
	if tag.RowsAffected() == 0 {
		return Hall{}, errNoHall
	}
	if err := tenants.Audit(ctx, tx, "catalog.hall.update", id.String(), map[string]any{"code": in.Code, "name": in.Name, "active": in.active()}); err != nil {
		return Hall{}, err
	}
	return GetHall(ctx, tx, id)
}

// DeleteHall removes a hall that has no departments, windows or bookings;
// otherwise it is a 409 and the hall can be made inactive instead.
func DeleteHall(ctx context.Context, tx *tenants.Tx, id uuid.UUID) error {
	tag, err := tx.Exec(ctx, "DELETE FROM catalog_halls WHERE id = $1", id)
	if err != nil {
		return deleteError(err, "办事网点 (hall)")
	}
	if tag.RowsAffected() == 0 {
		return errNoHall
	}
	return tenants.Audit(ctx, tx, "catalog.hall.delete", id.String(), nil)
}

// Period is one stretch of a weekday a hall is open: 09:00–12:00.
type Period struct {
	Weekday int    `json:"weekday" minimum:"1" maximum:"7" doc:"星期：1 周一 … 7 周日 (ISO weekday: 1 Monday … 7 Sunday)"`
	Opens   string `json:"opens" pattern:"^([01][0-9]|2[0-3]):[0-5][0-9]$" doc:"开始时间 HH:MM (opens at)"`
	Closes  string `json:"closes" pattern:"^([01][0-9]|2[0-3]):[0-5][0-9]$" doc:"结束时间 HH:MM (closes at)"`
}

// Hours is a hall's whole weekly schedule, as a PUT replaces it.
type Hours struct {
	Hours []Period `json:"hours" maxItems:"70" doc:"每周办公时段；未列出的星期不办公 (the weekly periods; a weekday not listed is closed)"`
}

// checkHours names every period that closes before it opens or overlaps
// another of its weekday. The times are HH:MM, so they compare as strings.
func checkHours(ps []Period) []problem.Field {
	var fields []problem.Field
	idx := make([]int, len(ps))
	for i := range idx {
		idx[i] = i
		p := ps[i]
		if p.Weekday < 1 || p.Weekday > 7 {
			fields = append(fields, problem.Field{Location: fmt.Sprintf("body.hours[%d].weekday", i), Message: "星期应为 1–7 (weekday must be 1–7)", Value: p.Weekday})
		}
		if !validClock(p.Opens) {
			fields = append(fields, problem.Field{Location: fmt.Sprintf("body.hours[%d].opens", i), Message: "时间应为 HH:MM (expected HH:MM)", Value: p.Opens})
		}
		if !validClock(p.Closes) {
			fields = append(fields, problem.Field{Location: fmt.Sprintf("body.hours[%d].closes", i), Message: "时间应为 HH:MM (expected HH:MM)", Value: p.Closes})
		} else if validClock(p.Opens) && p.Closes <= p.Opens {
			fields = append(fields, problem.Field{Location: fmt.Sprintf("body.hours[%d].closes", i),
				Message: "结束时间应晚于开始时间 (closes must be after opens)", Value: p.Closes})
		}
	}
	sort.SliceStable(idx, func(a, b int) bool {
		pa, pb := ps[idx[a]], ps[idx[b]]
		if pa.Weekday != pb.Weekday {
			return pa.Weekday < pb.Weekday
		}
		return pa.Opens < pb.Opens
	})
	// Each period is checked against the latest-closing one before it on
	// its day, so a long period covering several short ones is caught.
	for k := 1; k < len(idx); k++ {
		cur := ps[idx[k]]
		var latest *Period
		for j := k - 1; j >= 0 && ps[idx[j]].Weekday == cur.Weekday; j-- {
			if p := ps[idx[j]]; latest == nil || p.Closes > latest.Closes {
				latest = &p
			}
		}
		if latest != nil && cur.Opens < latest.Closes {
			fields = append(fields, problem.Field{Location: fmt.Sprintf("body.hours[%d].opens", idx[k]),
				Message: fmt.Sprintf("与同日 %s–%s 的时段重叠 (overlaps the period %s–%s of the same day)", latest.Opens, latest.Closes, latest.Opens, latest.Closes), Value: cur.Opens})
		}
	}
	return fields
}

func validClock(s string) bool {
	_, err := time.Parse("15:04", s)
	return err == nil && len(s) == 5
}

// SetHours replaces a hall's weekly schedule.
func SetHours(ctx context.Context, tx *tenants.Tx, hall uuid.UUID, ps []Period) ([]Period, error) {
	if fields := checkHours(ps); len(fields) > 0 {
		return nil, problem.Invalid(fields...)
	}
	var locked bool
	if err := tx.QueryRow(ctx, "SELECT true FROM catalog_halls WHERE id = $1 FOR UPDATE", hall).Scan(&locked); errors.Is(err, pgx.ErrNoRows) {
		return nil, errNoHall
	} else if err != nil {
		return nil, fmt.Errorf("catalog: set hours: %w", err)
	}
	if _, err := tx.Exec(ctx, "DELETE FROM catalog_hall_hours WHERE hall_id = $1", hall); err != nil {
		return nil, fmt.Errorf("catalog: set hours: %w", err)
	}
	weekdays, opens, closes := make([]int, len(ps)), make([]string, len(ps)), make([]string, len(ps))
	for i, p := range ps {
		weekdays[i], opens[i], closes[i] = p.Weekday, p.Opens, p.Closes
	}
	if _, err := tx.Exec(ctx, `INSERT INTO catalog_hall_hours (tenant_id, hall_id, weekday, opens, closes)
		SELECT current_tenant(), $1, w, o::time, c::time FROM unnest($2::int[], $3::text[], $4::text[]) AS p(w, o, c)`,
		hall, weekdays, opens, closes); err != nil {
		return nil, fmt.Errorf("catalog: set hours: %w", err)
	}
	if err := tenants.Audit(ctx, tx, "catalog.hall.hours", hall.String(), map[string]any{"hours": ps}); err != nil {
		return nil, err
	}
	return HallHours(ctx, tx, hall)
}

// HallHours returns a hall's weekly schedule, by weekday and time.
func HallHours(ctx context.Context, q tenants.Querier, hall uuid.UUID) ([]Period, error) {
	rows, err := q.Query(ctx, `SELECT weekday, to_char(opens, 'HH24:MI'), to_char(closes, 'HH24:MI')
		FROM catalog_hall_hours WHERE hall_id = $1 ORDER BY weekday, opens`, hall)
	if err != nil {
		return nil, fmt.Errorf("catalog: hours: %w", err)
	}
	ps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Period, error) {
		var p Period
		err := r.Scan(&p.Weekday, &p.Opens, &p.Closes)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: hours: %w", err)
	}
	return ps, nil
}
