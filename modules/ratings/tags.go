package ratings

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"

	"github.com/jackc/pgx/v5"

	"yamen/problem"
	"yamen/tenants"
)

var (
	casePattern   = regexp.MustCompile(`^[0-9A-Za-z_.:-]{1,64}$`)
	regionPattern = regexp.MustCompile(`^[0-9]{6}([0-9]{3}([0-9]{3})?)?$`)
)

func validChannel(c string) bool {
	return slices.Contains([]string{"window", "online", "mobile", "self_service", "hotline", "other"}, c)
}

// LoadSettings returns the tenant's ratings settings over the defaults.
func LoadSettings(ctx context.Context, q tenants.Querier) (Settings, error) {
	s := defaultSettings()
	var raw []byte
	err := q.QueryRow(ctx, "SELECT settings FROM tenant_modules WHERE module = 'ratings'").Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("ratings: settings: %w", err)
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return s, fmt.Errorf("ratings: settings: %w", err)
	}
	return s, nil
}

// Tag is one tag of the tenant's dictionary.
type Tag struct {
	Code     string `json:"code"`
	Level    int    `json:"level" doc:"所属评价等级 5…1 (the level it belongs to)"`
	Name     string `json:"name"`
	Extended bool   `json:"extended" doc:"扩展评价标签 (one of seed 004's extended tags)"`
	Active   bool   `json:"active"`
	// Default says the tag is the jurisdiction's default, unchanged or
	// edited by the tenant.
	Default bool `json:"default"`
	// SeedCode says the code is seed 004's own (测评内容编号).
	SeedCode bool `json:"seed_code"`
	Sort     int  `json:"sort"`
}

// TagEdit changes or adds a tag of the tenant's dictionary.
type TagEdit struct {
	Level    int    `json:"level" minimum:"1" maximum:"5" doc:"所属评价等级 (level)"`
	Name     string `json:"name" minLength:"1" maxLength:"100" doc:"标签内容 (text)"`
	Extended bool   `json:"extended,omitempty" required:"false"`
	Active   *bool  `json:"active,omitempty" required:"false" doc:"停用后不能再选 (inactive tags cannot be chosen)"`
	Sort     int    `json:"sort,omitempty" required:"false" minimum:"0" maximum:"1000"`
}

// ListTags returns the tenant's dictionary: the defaults with the tenant's
// edits, and the tenant's own tags, by level from 非常满意 down.
func ListTags(ctx context.Context, q tenants.Querier) ([]Tag, error) {
	rows, err := q.Query(ctx, `SELECT coalesce(t.code, d.code), coalesce(t.level, d.level), coalesce(t.name, d.name),
			coalesce(t.extended, d.extended), coalesce(t.active, true), d.code IS NOT NULL, coalesce(d.seed_code, false), coalesce(t.sort, d.sort)
		FROM rating_tag_defaults d FULL JOIN rating_tags t ON t.code = d.code
		ORDER BY 2 DESC, 8, 1`)
	if err != nil {
		return nil, fmt.Errorf("ratings: tags: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Tag, error) {
		var t Tag
		var level int16
		var sort int32
		err := r.Scan(&t.Code, &level, &t.Name, &t.Extended, &t.Active, &t.Default, &t.SeedCode, &sort)
		t.Level, t.Sort = int(level), int(sort)
		return t, err
	})
}

// PutTag edits a default tag or adds or edits one of the tenant's own.
func PutTag(ctx context.Context, tx *tenants.Tx, code string, in TagEdit) (Tag, error) {
	active := true
	if in.Active != nil {
		active = *in.Active
	}
	if _, err := tx.Exec(ctx, `INSERT INTO rating_tags (tenant_id, code, level, name, extended, active, sort)
		VALUES (current_tenant(), $1, $2, $3, $4, $5, $6)
		ON CONFLICT (tenant_id, code) DO UPDATE SET level = $2, name = $3, extended = $4, active = $5, sort = $6, updated_at = now()`,
		code, in.Level, in.Name, in.Extended, active, in.Sort); err != nil {
		return Tag{}, fmt.Errorf("ratings: put tag %s: %w", code, err)
	}
	if err := tenants.Audit(ctx, tx, "ratings.tag.put", code, map[string]any{"level": in.Level, "name": in.Name, "active": active}); err != nil {
		return Tag{}, err
	}
	tags, err := ListTags(ctx, tx)
	if err != nil {
		return Tag{}, err
	}
	for _, t := range tags {
		if t.Code == code {
			return t, nil
		}
	}
	return Tag{}, fmt.Errorf("ratings: tag %s vanished", code)
}

// checkTags names every tag that is not an active tag of level; 不满意 and
// 非常不满意 need at least one (seed 004 评价内容).
func checkTags(ctx context.Context, q tenants.Querier, level int, tags []string, location string) ([]problem.Field, error) {
	var fields []problem.Field
	if level <= 2 && len(tags) == 0 {
		fields = append(fields, problem.Field{Location: location,
			Message: "评价为“不满意”“非常不满意”时须至少勾选一个评价标签 (a bad rating needs at least one tag)"})
	}
	if len(tags) == 0 {
		return fields, nil
	}
	rows, err := q.Query(ctx, `SELECT coalesce(t.code, d.code) FROM rating_tag_defaults d FULL JOIN rating_tags t ON t.code = d.code
		WHERE coalesce(t.code, d.code) = ANY($1) AND coalesce(t.level, d.level) = $2 AND coalesce(t.active, true)`, tags, level)
	if err != nil {
		return nil, fmt.Errorf("ratings: tags: %w", err)
	}
	known, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("ratings: tags: %w", err)
	}
	for i, t := range tags {
		if !slices.Contains(known, t) {
			fields = append(fields, problem.Field{Location: fmt.Sprintf("%s[%d]", location, i),
				Message: fmt.Sprintf("“%s”不是该评价等级可选的标签 (not a tag of level %d)", LevelNames[level], level), Value: t})
		}
	}
	return fields, nil
}
