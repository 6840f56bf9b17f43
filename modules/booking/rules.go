package booking

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"yamen/problem"
	"yamen/tenants"
)

// The real-name levels of a citizen identity (metadata_public.real_name_level
// of the Kratos citizen schema), weakest first.
const (
	LevelNone       = "none"
	LevelRealName   = "real_name"
	LevelRealPerson = "real_person"
	LevelInPerson   = "in_person"
)

var levelRank = map[string]int{LevelNone: 0, LevelRealName: 1, LevelRealPerson: 2, LevelInPerson: 3}

var levelNames = map[string]string{
	LevelNone: "未实名 (not verified)", LevelRealName: "实名认证 (real name)",
	LevelRealPerson: "实人认证 (real person)", LevelInPerson: "现场核验 (checked in person)",
}

// Rule is a department's or an item's booking rule (seed 004 预约规则管理):
// each field given overrides the layer below; a field left out (null) takes
// the department's rule, then the tenant's booking settings.
type Rule struct {
	SlotMinutes         *int    `json:"slot_minutes" required:"false" nullable:"true" minimum:"5" maximum:"240" doc:"每个预约时段的分钟数 (minutes per slot)"`
	Capacity            *int    `json:"capacity" required:"false" nullable:"true" minimum:"1" maximum:"10000" doc:"每个时段可预约人数 (places per slot)"`
	DaysAhead           *int    `json:"days_ahead" required:"false" nullable:"true" minimum:"1" maximum:"90" doc:"最多可提前多少天预约 (days ahead a slot can be booked)"`
	MinNoticeMinutes    *int    `json:"min_notice_minutes" required:"false" nullable:"true" minimum:"0" maximum:"10080" doc:"最迟在时段开始前多少分钟预约 (latest booking, in minutes before the slot)"`
	DailyQuota          *int    `json:"daily_quota" required:"false" nullable:"true" minimum:"0" maximum:"1000000" doc:"每天最多预约人数，0 为不限 (bookings per day, 0 = no limit)"`
	CancelMinutesBefore *int    `json:"cancel_minutes_before" required:"false" nullable:"true" minimum:"0" maximum:"2880" doc:"最迟在时段开始前多少分钟可以取消 (latest cancellation, in minutes before the slot)"`
	WorkingDaysOnly     *bool   `json:"working_days_only" required:"false" nullable:"true" doc:"只在工作日开放（含调休） (working days only, 调休 included)"`
	RealNameLevel       *string `json:"real_name_level" required:"false" nullable:"true" enum:"real_name,real_person,in_person" doc:"须实名的事项要求的实名等级 (the real-name level asked for)"`
}

// StoredRule is a rule as kept, with what it applies to.
type StoredRule struct {
	ID           uuid.UUID  `json:"id"`
	DepartmentID uuid.UUID  `json:"department_id"`
	ItemID       *uuid.UUID `json:"item_id,omitempty" doc:"缺省为业务部门的规则 (absent for a department's rule)"`
	Rule
	UpdatedBy string    `json:"updated_by"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Rules are the rules in force for one item: settings, then its
// department's rule, then its own.
type Rules struct {
	SlotMinutes         int  `json:"slot_minutes"`
	Capacity            int  `json:"capacity"`
	DaysAhead           int  `json:"days_ahead"`
	MinNoticeMinutes    int  `json:"min_notice_minutes"`
	DailyQuota          int  `json:"daily_quota"`
	CancelMinutesBefore int  `json:"cancel_minutes_before"`
	WorkingDaysOnly     bool `json:"working_days_only"`
	// RealNameLevel is what the citizen must have reached; "none" when the
	// item does not require real names.
	RealNameLevel string `json:"real_name_level"`
}

func resolve(s Settings, realName bool, layers ...Rule) Rules {
	r := Rules{
		SlotMinutes: s.SlotMinutes, Capacity: s.CapacityPerSlot, DaysAhead: s.DaysAhead, MinNoticeMinutes: s.MinNoticeMinutes,
		DailyQuota: s.DailyQuota, CancelMinutesBefore: s.CancelMinutesBefore, WorkingDaysOnly: s.WorkingDaysOnly, RealNameLevel: s.RealNameLevel,
	}
	set := func(dst *int, v *int) {
		if v != nil {
			*dst = *v
		}
	}
	for _, l := range layers {
		set(&r.SlotMinutes, l.SlotMinutes)
		set(&r.Capacity, l.Capacity)
		set(&r.DaysAhead, l.DaysAhead)
		set(&r.MinNoticeMinutes, l.MinNoticeMinutes)
		set(&r.DailyQuota, l.DailyQuota)
		set(&r.CancelMinutesBefore, l.CancelMinutesBefore)
		if l.WorkingDaysOnly != nil {
			r.WorkingDaysOnly = *l.WorkingDaysOnly
		}
		if l.RealNameLevel != nil {
			r.RealNameLevel = *l.RealNameLevel
		}
	}
	if !realName || r.RealNameLevel == "" {
		r.RealNameLevel = LevelNone
	}
	return r
}

// LoadSettings returns the tenant's booking settings over the defaults.
func LoadSettings(ctx context.Context, q tenants.Querier) (Settings, error) {
	var raw []byte
	err := q.QueryRow(ctx, "SELECT settings FROM tenant_modules WHERE module = 'booking'").Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return defaultSettings(), nil
	}
	if err != nil {
		return Settings{}, fmt.Errorf("booking: settings: %w", err)
	}
	return parseSettings(raw)
}

func parseSettings(raw []byte) (Settings, error) {
	s := defaultSettings()
	if len(raw) == 0 {
		return s, nil
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return s, fmt.Errorf("booking: settings: %w", err)
	}
	return s, nil
}

const ruleColumns = `r.id, r.department_id, r.item_id, r.slot_minutes, r.capacity, r.days_ahead, r.min_notice_minutes,
	r.daily_quota, r.cancel_minutes_before, r.working_days_only, r.real_name_level, r.updated_by, r.updated_at`

func scanRule(row pgx.Row) (StoredRule, error) {
	var r StoredRule
	err := row.Scan(&r.ID, &r.DepartmentID, &r.ItemID, &r.SlotMinutes, &r.Capacity, &r.DaysAhead, &r.MinNoticeMinutes,
		&r.DailyQuota, &r.CancelMinutesBefore, &r.WorkingDaysOnly, &r.RealNameLevel, &r.UpdatedBy, &r.UpdatedAt)
	return r, err
}

// ListRules returns the tenant's department and item rules.
func ListRules(ctx context.Context, q tenants.Querier) ([]StoredRule, error) {
	rows, err := q.Query(ctx, "SELECT "+ruleColumns+" FROM booking_rules r ORDER BY r.department_id, r.item_id NULLS FIRST")
	if err != nil {
		return nil, fmt.Errorf("booking: rules: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (StoredRule, error) { return scanRule(row) })
	if err != nil {
		return nil, fmt.Errorf("booking: rules: %w", err)
	}
	return out, nil
}

// RuleTarget is what a rule applies to: a department or an item.
type RuleTarget string

// The targets of a rule.
const (
	TargetDepartment RuleTarget = "department"
	TargetItem       RuleTarget = "item"
)

// PutRule sets the rule of a department or an item, replacing the one it
// had (绑定). The department or item must be the tenant's.
func PutRule(ctx context.Context, tx *tenants.Tx, target RuleTarget, id uuid.UUID, r Rule) (StoredRule, error) {
	var department uuid.UUID
	var item *uuid.UUID
	var err error
	if target == TargetItem {
		item = &id
		err = tx.QueryRow(ctx, "SELECT department_id FROM catalog_items WHERE id = $1", id).Scan(&department)
	} else {
		err = tx.QueryRow(ctx, "SELECT id FROM catalog_departments WHERE id = $1", id).Scan(&department)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		if target == TargetItem {
			return StoredRule{}, problem.NotFound("没有这个事项 (no such item)")
		}
		return StoredRule{}, problem.NotFound("没有这个业务部门 (no such department)")
	}
	if err != nil {
		return StoredRule{}, fmt.Errorf("booking: rule: %w", err)
	}
	conflict := "(tenant_id, department_id) WHERE item_id IS NULL"
	if item != nil {
		conflict = "(tenant_id, item_id) WHERE item_id IS NOT NULL"
	}
	row := tx.QueryRow(ctx, `INSERT INTO booking_rules AS r (tenant_id, department_id, item_id, slot_minutes, capacity, days_ahead, min_notice_minutes,
			daily_quota, cancel_minutes_before, working_days_only, real_name_level, updated_by)
		VALUES (current_tenant(), $1, $11, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT `+conflict+` DO UPDATE SET department_id = $1,
			slot_minutes = $2, capacity = $3, days_ahead = $4, min_notice_minutes = $5, daily_quota = $6,
			cancel_minutes_before = $7, working_days_only = $8, real_name_level = $9, updated_by = $10, updated_at = now()
		RETURNING `+ruleColumns,
		department, r.SlotMinutes, r.Capacity, r.DaysAhead, r.MinNoticeMinutes, r.DailyQuota, r.CancelMinutesBefore, r.WorkingDaysOnly, r.RealNameLevel, tx.Subject(), item)
	out, err := scanRule(row)
	if err != nil {
		return StoredRule{}, fmt.Errorf("booking: rule: %w", err)
	}
	if err := tenants.Audit(ctx, tx, "booking.rule.put", id.String(), map[string]any{"target": string(target), "rule": r}); err != nil {
		return StoredRule{}, err
	}
	return out, nil
}

// DeleteRule removes the rule of a department or an item (撤销绑定): it
// then follows the layer below.
func DeleteRule(ctx context.Context, tx *tenants.Tx, target RuleTarget, id uuid.UUID) error {
	where := "department_id = $1 AND item_id IS NULL"
	if target == TargetItem {
		where = "item_id = $1"
	}
	tag, err := tx.Exec(ctx, "DELETE FROM booking_rules WHERE "+where, id)
	if err != nil {
		return fmt.Errorf("booking: delete rule: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return problem.NotFound("没有为其设置预约规则 (no rule is set for it)")
	}
	return tenants.Audit(ctx, tx, "booking.rule.delete", id.String(), map[string]any{"target": string(target)})
}
