package ratings

import (
	"context"
	"crypto/subtle"
	"fmt"
	"time"

	"github.com/google/uuid"

	"yamen/problem"
	"yamen/tenants"
)

// RateInput is a rating.
type RateInput struct {
	Level     int      `json:"level" minimum:"1" maximum:"5" doc:"5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意"`
	Tags      []string `json:"tags,omitempty" required:"false" maxItems:"20" uniqueItems:"true" doc:"评价标签编码；不满意、非常不满意须至少一个 (tag codes; at least one for 不满意 and 非常不满意)"`
	Comment   string   `json:"comment,omitempty" required:"false" maxLength:"1000" doc:"评价理由 (comment)"`
	Channel   string   `json:"channel" enum:"pc,app,mini_program,qr_code,sms,hotline,window_device,kiosk" doc:"评价渠道 (where the rating was given)"`
	Anonymous bool     `json:"anonymous,omitempty" required:"false" doc:"匿名评价 (anonymous)"`
}

// FollowUpInput is a 追加评价.
type FollowUpInput struct {
	Level   *int     `json:"level,omitempty" required:"false" minimum:"1" maximum:"5" doc:"追加的评价等级，可不填 (a level, optional)"`
	Tags    []string `json:"tags,omitempty" required:"false" maxItems:"20" uniqueItems:"true"`
	Comment string   `json:"comment" minLength:"1" maxLength:"1000" doc:"追加评价内容 (the follow-up)"`
}

// Rater is who rates: a citizen (their identity), staff or an integrator on
// a citizen's behalf, or the holder of a case's rating token.
type Rater struct {
	Subject string
	// Citizen is the identity of a citizen rating through their session;
	// uuid.Nil for staff, keys and tokens.
	Citizen uuid.UUID
	// Token is the case's rating token when rating anonymously by QR code or SMS link.
	Token string
}

// Tasks and events.
const (
	TaskCase      = "ratings:case"
	TaskDefault   = "ratings:default"
	TaskSweep     = "ratings:sweep"
	TaskUpload    = "ratings:upload"
	TaskPush      = "ratings:push"
	TaskReconcile = "ratings:reconcile"
)

type defaultPayload struct {
	CaseNo string `json:"case_no"`
}

// may checks that the rater may act on the case; a citizen who is not the
// case's gets 404, as for a case that does not exist.
func (r Rater) may(c Case) error {
	switch {
	case r.Token != "":
		if subtle.ConstantTimeCompare([]byte(r.Token), []byte(c.RateToken)) != 1 {
			return problem.NotFound("没有这个办件 (no such case)")
		}
	case r.Citizen != uuid.Nil:
		if c.CitizenID == nil || *c.CitizenID != r.Citizen {
			return problem.NotFound("没有这个办件 (no such case)")
		}
	}
	return nil
}

// Rate records the case's one rating. A bad rating opens a rectification
// and notifies the department's managers; every rating is uploaded.
func (m *Module) Rate(ctx context.Context, tx *tenants.Tx, caseNo string, in RateInput, who Rater, now time.Time) (Case, error) {
	if in.Level >= 3 {
		c, ok, err := rateAtOnce(ctx, tx, caseNo, in, who, now)
		if err != nil || ok {
			return c, err
		}
		// Not rated: no such case, not the rater's, rated already or a
		// tag that is not the level's; the checks below say which.
	}
	c, err := lockCase(ctx, tx, caseNo)
	if err != nil {
		return Case{}, err
	}
	if err := who.may(c); err != nil {
		return Case{}, err
	}
	fields, err := checkTags(ctx, tx, in.Level, in.Tags, "body.tags")
	if err != nil {
		return Case{}, err
	}
	if len(fields) > 0 {
		return Case{}, problem.Invalid(fields...)
	}
	if c.Rating != nil {
		return Case{}, problem.Conflict("该办件已评价，每个办件只能评价一次；可在期限内追加评价 (the case is rated already: one rating per case; a follow-up may be added)")
	}
	if in.Tags == nil {
		in.Tags = []string{}
	}
	c, err = scanCase(tx.QueryRow(ctx, `UPDATE rating_cases SET level = $2, tags = $3, comment = $4, rating_channel = $5, anonymous = $6,
			rated_by = $7, rated_at = $8, is_default = false
		WHERE id = $1 RETURNING `+caseColumns, c.ID, in.Level, in.Tags, in.Comment, in.Channel, in.Anonymous, who.Subject, now))
	if err != nil {
		return Case{}, fmt.Errorf("ratings: rate %s: %w", caseNo, err)
	}
	// The default rating stays scheduled: it finds the case rated and does
	// nothing.
	if err := adjustRollup(ctx, tx, caseNo, 1); err != nil {
		return Case{}, err
	}
	if in.Level <= 2 {
		if err := m.openRectification(ctx, tx, &c, now); err != nil {
			return Case{}, err
		}
	}
	if err := queueUpload(ctx, tx, c, EventRating, ratingEvent(c)); err != nil {
		return Case{}, err
	}
	return c, nil
}

// DefaultRating rates the case 基本满意 by default when it is still unrated
// and its time is up (seed 004 超期系统默认评价), and says whether it did.
func (m *Module) DefaultRating(ctx context.Context, tx *tenants.Tx, caseNo string, now time.Time) (bool, error) {
	s, err := LoadSettings(ctx, tx)
	if err != nil {
		return false, err
	}
	c, err := scanCase(tx.QueryRow(ctx, `UPDATE rating_cases SET level = 3, rating_channel = 'system', is_default = true, rated_by = 'system', rated_at = $2
		WHERE case_no = $1 AND level IS NULL AND handled_at <= $2::timestamptz - make_interval(days => $3)
		RETURNING `+caseColumns, caseNo, now, s.DefaultAfterDays))
	if err != nil {
		if isNoRows(err) {
			return false, nil
		}
		return false, fmt.Errorf("ratings: default %s: %w", caseNo, err)
	}
	if err := adjustRollup(ctx, tx, caseNo, 1); err != nil {
		return false, err
	}
	return true, queueUpload(ctx, tx, c, EventRating, ratingEvent(c))
}

// Sweep rates by default every case whose time is up that the scheduled
// task missed (the daily safety net), up to limit, and says how many.
func (m *Module) Sweep(ctx context.Context, tx *tenants.Tx, now time.Time, limit int) (int, error) {
	s, err := LoadSettings(ctx, tx)
	if err != nil {
		return 0, err
	}
	rows, err := tx.Query(ctx, `SELECT case_no FROM rating_cases WHERE level IS NULL AND handled_at <= $1::timestamptz - make_interval(days => $2)
		ORDER BY handled_at LIMIT $3`, now, s.DefaultAfterDays, limit)
	if err != nil {
		return 0, fmt.Errorf("ratings: sweep: %w", err)
	}
	var due []string
	for rows.Next() {
		var no string
		if err := rows.Scan(&no); err != nil {
			rows.Close()
			return 0, fmt.Errorf("ratings: sweep: %w", err)
		}
		due = append(due, no)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("ratings: sweep: %w", err)
	}
	n := 0
	for _, no := range due {
		ok, err := m.DefaultRating(ctx, tx, no, now)
		if err != nil {
			return n, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// AddFollowUp records the case's 追加评价, accepted within
// FollowUpWorkingDays working days after the rating or the default.
func (m *Module) AddFollowUp(ctx context.Context, tx *tenants.Tx, caseNo string, in FollowUpInput, who Rater, now time.Time) (Case, error) {
	c, err := lockCase(ctx, tx, caseNo)
	if err != nil {
		return Case{}, err
	}
	if err := who.may(c); err != nil {
		return Case{}, err
	}
	if in.Level != nil {
		fields, err := checkTags(ctx, tx, *in.Level, in.Tags, "body.tags")
		if err != nil {
			return Case{}, err
		}
		if len(fields) > 0 {
			return Case{}, problem.Invalid(fields...)
		}
	} else if len(in.Tags) > 0 {
		return Case{}, problem.InvalidField("body.tags", "追加标签须同时给出评价等级 (tags need a level)", in.Tags)
	}
	if c.Rating == nil {
		return Case{}, problem.Conflict("该办件尚未评价，请先评价 (the case is not rated yet: rate it first)")
	}
	if c.FollowUp != nil {
		return Case{}, problem.Conflict("该办件已追加评价 (the case has its follow-up already)")
	}
	s, err := LoadSettings(ctx, tx)
	if err != nil {
		return Case{}, err
	}
	cal, err := m.calendar(ctx)
	if err != nil {
		return Case{}, err
	}
	n, err := cal.WorkingDaysBetween(ctx, c.Rating.RatedAt, now)
	if err != nil {
		return Case{}, err
	}
	if n > s.FollowUpWorkingDays {
		last, err := cal.AddWorkingDays(ctx, c.Rating.RatedAt, s.FollowUpWorkingDays)
		if err != nil {
			return Case{}, err
		}
		return Case{}, problem.Conflict(fmt.Sprintf("追加评价须在评价后%d个工作日内提出，截止%s (a follow-up is accepted within %d working days of the rating, until %s)",
			s.FollowUpWorkingDays, last.In(cal.Location()).Format("2006-01-02"), s.FollowUpWorkingDays, last.In(cal.Location()).Format("2006-01-02")))
	}
	if in.Tags == nil {
		in.Tags = []string{}
	}
	c, err = scanCase(tx.QueryRow(ctx, `UPDATE rating_cases SET follow_up_level = $2, follow_up_tags = $3, follow_up_comment = $4, follow_up_at = $5
		WHERE id = $1 RETURNING `+caseColumns, c.ID, in.Level, in.Tags, in.Comment, now))
	if err != nil {
		return Case{}, fmt.Errorf("ratings: follow up %s: %w", caseNo, err)
	}
	return c, queueUpload(ctx, tx, c, EventFollowUp, map[string]any{"level": in.Level, "tags": in.Tags, "comment": in.Comment, "at": now})
}

func ratingEvent(c Case) map[string]any {
	r := c.Rating
	return map[string]any{"level": r.Level, "level_name": r.LevelName, "tags": r.Tags, "comment": r.Comment, "channel": r.Channel,
		"default": r.Default, "anonymous": r.Anonymous, "rated_at": r.RatedAt}
}

// rateAtOnceSQL rates case $1 when it is unrated, the rater's ($9 its
// token, $10 its citizen) and every tag is one of the level's, and in the
// same statement records the upload to the province (the next push sends
// it) and, for a rating dated in a day already rolled up, counts it in the
// rollup: one round trip. Its upload is what queueUpload and ratingEvent make.
var rateAtOnceSQL = func() string {
	var rolls string
	for i, t := range rollupTables {
		rolls += fmt.Sprintf(", roll%d AS (%s)", i, t.upsert("upd c, s", "(c.rated_at AT TIME ZONE s.tz)::date <= s.through", "1"))
	}
	return `WITH upd AS (
		UPDATE rating_cases SET level = $2, tags = $3, comment = $4, rating_channel = $5, anonymous = $6, rated_by = $7, rated_at = $8, is_default = false
		WHERE case_no = $1 AND level IS NULL
			AND ($9 = '' OR rate_token = $9) AND ($10::uuid IS NULL OR citizen_id = $10)
			AND (cardinality($3::text[]) = 0 OR cardinality($3::text[]) = (SELECT count(DISTINCT coalesce(t.code, d.code))
				FROM rating_tag_defaults d FULL JOIN rating_tags t ON t.code = d.code
				WHERE coalesce(t.code, d.code) = ANY($3) AND coalesce(t.level, d.level) = $2 AND coalesce(t.active, true)))
		RETURNING *),
	up AS (
		INSERT INTO rating_uploads (tenant_id, case_no, event, payload)
		SELECT current_tenant(), case_no, 'rating', jsonb_build_object('tenant', current_tenant()::text, 'case_no', case_no, 'event', 'rating',
			'item_code', item_code, 'item_name', item_name, 'department_code', department_code, 'department_name', department_name,
			'region_code', region_code, 'channel', channel::text, 'handled_at', handled_at,
			'data', jsonb_build_object('level', level, 'level_name', $11::text, 'tags', to_jsonb(tags), 'comment', comment, 'channel', rating_channel,
				'default', is_default, 'anonymous', anonymous, 'rated_at', rated_at))
		FROM upd
		ON CONFLICT DO NOTHING
		RETURNING case_no),
	s AS (SELECT through, tz FROM rating_rollup_state)` + rolls + `
	SELECT ` + caseColumns + ` FROM upd`
}()

// rateAtOnce is the rating that opens no rectification (基本满意 and
// better), in one statement; ok is false when it rated nothing.
func rateAtOnce(ctx context.Context, tx *tenants.Tx, caseNo string, in RateInput, who Rater, now time.Time) (Case, bool, error) {
	tags := in.Tags
	if tags == nil {
		tags = []string{}
	}
	var citizen *uuid.UUID
	if who.Token == "" && who.Citizen != uuid.Nil {
		citizen = &who.Citizen
	}
	c, err := scanCase(tx.QueryRow(ctx, rateAtOnceSQL, caseNo, in.Level, tags, in.Comment, in.Channel, in.Anonymous, who.Subject, now,
		who.Token, citizen, LevelNames[in.Level]))
	if isNoRows(err) {
		return Case{}, false, nil
	}
	if err != nil {
		return Case{}, false, fmt.Errorf("ratings: rate %s: %w", caseNo, err)
	}
	return c, true, nil
}
