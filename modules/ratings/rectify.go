package ratings

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"yamen/modules/messages"
	"yamen/problem"
	"yamen/tenants"
)

// Outcomes of a rectification.
const (
	OutcomeAtOnce     = "rectified_at_once"
	OutcomeByDeadline = "rectified_by_deadline"
	OutcomeExplained  = "explained"
	OutcomeAppealed   = "appealed"
)

// Rectification is a bad rating's 差评整改.
type Rectification struct {
	ID             uuid.UUID  `json:"id"`
	CaseNo         string     `json:"case_no"`
	ItemName       string     `json:"item_name"`
	DepartmentID   *uuid.UUID `json:"department_id,omitempty"`
	DepartmentName string     `json:"department_name"`
	OrgID          *uuid.UUID `json:"org_id,omitempty"`
	Level          int        `json:"level"`
	Tags           []string   `json:"tags"`
	Deadline       time.Time  `json:"deadline" doc:"整改反馈期限（按工作日计） (due, counted in working days)"`
	Status         string     `json:"status" doc:"open 待整改, fed_back 已反馈, appealed 申诉中, closed 已办结"`
	Outcome        *string    `json:"outcome,omitempty"`
	Feedback       string     `json:"feedback"`
	FedBackAt      *time.Time `json:"fed_back_at,omitempty"`
	InTime         *bool      `json:"in_time,omitempty" doc:"按期反馈 (fed back by the deadline)"`
	AppealUpheld   *bool      `json:"appeal_upheld,omitempty"`
	AppealNote     string     `json:"appeal_note"`
	SecondRating   *string    `json:"second_rating,omitempty" doc:"二次评价：satisfied 满意, basic 基本满意, dissatisfied 不满意"`
	SecondRatedAt  *time.Time `json:"second_rated_at,omitempty"`
	Notified       int        `json:"notified" doc:"收到差评通知的人数 (managers notified)"`
	CreatedAt      time.Time  `json:"created_at"`
}

// Feedback is a department's answer to a bad rating.
type Feedback struct {
	Outcome  string `json:"outcome" enum:"rectified_at_once,rectified_by_deadline,explained,appealed" doc:"rectified_at_once 立行立改, rectified_by_deadline 限期整改, explained 解释说明, appealed 申诉（恶意或误评）"`
	Feedback string `json:"feedback" minLength:"1" maxLength:"2000" doc:"整改情况或申诉理由 (what was done, or why the rating is appealed)"`
}

// AppealDecision decides an appeal.
type AppealDecision struct {
	Upheld bool   `json:"upheld" doc:"申诉成立：该评价不计入统计 (upheld: the rating leaves the statistics)"`
	Note   string `json:"note" minLength:"1" maxLength:"2000" doc:"审核意见 (the reasons)"`
}

// SecondRatingInput is the citizen's 二次评价 of a rectification.
type SecondRatingInput struct {
	Rating string `json:"rating" enum:"satisfied,basic,dissatisfied" doc:"satisfied 满意, basic 基本满意, dissatisfied 不满意"`
}

const rectColumns = `r.id, c.case_no, c.item_name, r.department_id, r.department_name, r.org_id, c.level, c.tags, r.deadline, r.status, r.outcome,
	r.feedback, r.fed_back_at, r.in_time, r.appeal_upheld, r.appeal_note, r.second_rating, r.second_rated_at, r.notified, r.created_at`

func scanRect(row pgx.Row) (Rectification, error) {
	var r Rectification
	var level int16
	err := row.Scan(&r.ID, &r.CaseNo, &r.ItemName, &r.DepartmentID, &r.DepartmentName, &r.OrgID, &level, &r.Tags, &r.Deadline, &r.Status, &r.Outcome,
		&r.Feedback, &r.FedBackAt, &r.InTime, &r.AppealUpheld, &r.AppealNote, &r.SecondRating, &r.SecondRatedAt, &r.Notified, &r.CreatedAt)
	r.Level = int(level)
	return r, err
}

func isNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

// GetRectification returns the rectification of a case.
func GetRectification(ctx context.Context, q tenants.Querier, caseNo string) (Rectification, error) {
	r, err := scanRect(q.QueryRow(ctx, "SELECT "+rectColumns+" FROM rating_rectifications r JOIN rating_cases c ON c.id = r.case_id WHERE c.case_no = $1", caseNo))
	if isNoRows(err) {
		return Rectification{}, problem.NotFound("该办件没有差评整改 (the case has no rectification)")
	}
	if err != nil {
		return Rectification{}, fmt.Errorf("ratings: rectification %s: %w", caseNo, err)
	}
	return r, nil
}

// RectificationFilter selects rectifications.
type RectificationFilter struct {
	Status  string `query:"status" required:"false" enum:"open,fed_back,appealed,closed" doc:"状态 (status)"`
	Overdue bool   `query:"overdue" required:"false" doc:"只看已超期未反馈的 (only those past their deadline and not fed back)"`
	Limit   int    `query:"limit" minimum:"1" maximum:"500" default:"100"`
}

// ListRectifications tracks the bad ratings (差评整改信息跟踪), newest first.
func ListRectifications(ctx context.Context, q tenants.Querier, f RectificationFilter, now time.Time) ([]Rectification, error) {
	if f.Limit == 0 {
		f.Limit = 100
	}
	rows, err := q.Query(ctx, "SELECT "+rectColumns+` FROM rating_rectifications r JOIN rating_cases c ON c.id = r.case_id
		WHERE ($1 = '' OR r.status = $1) AND (NOT $2 OR (r.status = 'open' AND r.deadline < $3))
		ORDER BY r.created_at DESC LIMIT $4`, f.Status, f.Overdue, now, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("ratings: rectifications: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Rectification, error) { return scanRect(r) })
}

// openRectification opens the rectification of a bad rating with its
// deadline in working days and notifies the department's managers.
func (m *Module) openRectification(ctx context.Context, tx *tenants.Tx, c *Case, now time.Time) error {
	s, err := LoadSettings(ctx, tx)
	if err != nil {
		return err
	}
	cal, err := m.calendar(ctx)
	if err != nil {
		return err
	}
	deadline, err := cal.AddWorkingDays(ctx, now, s.RectifyWorkingDays)
	if err != nil {
		return err
	}
	var orgID *uuid.UUID
	if c.DepartmentID != nil {
		err := tx.QueryRow(ctx, "SELECT org_id FROM catalog_departments WHERE id = $1", *c.DepartmentID).Scan(&orgID)
		if err != nil && !isNoRows(err) {
			return fmt.Errorf("ratings: department of %s: %w", c.CaseNo, err)
		}
	}
	managers, err := managersOf(ctx, tx, orgID, s.Managers)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO rating_rectifications (tenant_id, case_id, department_id, department_name, org_id, deadline, notified)
		VALUES (current_tenant(), $1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, case_id) DO NOTHING`,
		c.ID, c.DepartmentID, c.DepartmentName, orgID, deadline, len(managers)); err != nil {
		return fmt.Errorf("ratings: open rectification of %s: %w", c.CaseNo, err)
	}
	if _, err := tx.Exec(ctx, "UPDATE rating_cases SET rectify_status = 'open' WHERE id = $1", c.ID); err != nil {
		return fmt.Errorf("ratings: open rectification of %s: %w", c.CaseNo, err)
	}
	open := "open"
	c.RectifyStatus = &open
	if len(managers) == 0 {
		m.log.Warn("bad rating with nobody to notify: no member holds ratings:rectify in the department and no manager is configured", "case", c.CaseNo)
		return nil
	}
	ms, err := messages.LoadSettings(ctx, tx)
	if err != nil {
		return err
	}
	var channels []string
	for _, ch := range s.BadRatingChannels {
		if slices.Contains(ms.Channels, ch) {
			channels = append(channels, ch)
		}
	}
	if len(channels) == 0 {
		m.log.Warn("bad rating notice: none of its channels is enabled in the messages settings", "case", c.CaseNo)
		return nil
	}
	loc := cal.Location()
	text := fmt.Sprintf("差评提醒：%s部门办件%s（%s）获评“%s”，标签：%s。请于%s前完成整改反馈。(A bad rating of case %s: rectify and report back by %s.)",
		c.DepartmentName, c.CaseNo, c.ItemName, LevelNames[c.Rating.Level], strings.Join(c.Rating.Tags, "、"),
		deadline.In(loc).Format("2006-01-02"), c.CaseNo, deadline.In(loc).Format("2006-01-02"))
	text = strings.NewReplacer("{", "（", "}", "）").Replace(text)
	if _, err := m.sender.SendIn(ctx, tx, messages.Send{Text: text, Channels: channels, Recipients: messages.Recipients{Members: managers}, SenderOrg: orgID},
		"ratings:bad:"+c.CaseNo); err != nil {
		return fmt.Errorf("ratings: notify managers of %s: %w", c.CaseNo, err)
	}
	return nil
}

// managersOf returns the active members who hold ratings:rectify in org's
// subtree, and the configured managers who are active members.
func managersOf(ctx context.Context, tx *tenants.Tx, org *uuid.UUID, configured []string) ([]uuid.UUID, error) {
	if org == nil {
		return holders(ctx, tx, "ratings:rectify", nil, false, configured)
	}
	return holders(ctx, tx, "ratings:rectify", org, true, configured)
}

// configurersOf returns the members who hold ratings:configure and the
// configured managers, all active.
func configurersOf(ctx context.Context, tx *tenants.Tx, configured []string) ([]uuid.UUID, error) {
	return holders(ctx, tx, "ratings:configure", nil, true, configured)
}

// holders returns the active members among configured and, when byRole,
// those whose roles grant permission (itself, ratings:* or *): in org's
// subtree, or anywhere when org is nil.
func holders(ctx context.Context, tx *tenants.Tx, permission string, org *uuid.UUID, byRole bool, configured []string) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	for _, s := range configured {
		if id, err := uuid.Parse(s); err == nil {
			ids = append(ids, id)
		}
	}
	rows, err := tx.Query(ctx, `SELECT DISTINCT m.id FROM members m
		WHERE m.status = 'active' AND (
			m.id = ANY($2::uuid[])
			OR ($3
				AND ($1::uuid IS NULL OR m.org_id IN (SELECT o.id FROM orgs o JOIN orgs top ON o.path <@ top.path WHERE top.id = $1))
				AND EXISTS (SELECT 1 FROM member_roles mr JOIN roles r ON r.id = mr.role_id
					WHERE mr.member_id = m.id AND r.permissions && ARRAY[$4, 'ratings:*', '*'])))
		ORDER BY m.id`, org, ids, byRole, permission)
	if err != nil {
		return nil, fmt.Errorf("ratings: holders of %s: %w", permission, err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
}

// GiveFeedback records the department's answer to a bad rating.
func (m *Module) GiveFeedback(ctx context.Context, tx *tenants.Tx, caseNo string, in Feedback, now time.Time) (Rectification, error) {
	r, err := lockRect(ctx, tx, caseNo)
	if err != nil {
		return Rectification{}, err
	}
	if r.Status != "open" {
		return Rectification{}, problem.Conflict("该差评已反馈 (the rectification was fed back already)")
	}
	status, inTime := "fed_back", !now.After(r.Deadline)
	if in.Outcome == OutcomeAppealed {
		status = "appealed"
	}
	if _, err := tx.Exec(ctx, `UPDATE rating_rectifications SET status = $2, outcome = $3, feedback = $4, fed_back_by = $5, fed_back_at = $6, in_time = $7
		WHERE id = $1`, r.ID, status, in.Outcome, in.Feedback, tx.Subject(), now, inTime); err != nil {
		return Rectification{}, fmt.Errorf("ratings: feedback %s: %w", caseNo, err)
	}
	// what the case counts changes: out of the rollup as it was, in as it is
	if err := adjustRollup(ctx, tx, caseNo, -1); err != nil {
		return Rectification{}, err
	}
	if _, err := tx.Exec(ctx, "UPDATE rating_cases SET rectify_status = $2, rectified_in_time = $3 WHERE case_no = $1", caseNo, status, inTime); err != nil {
		return Rectification{}, fmt.Errorf("ratings: feedback %s: %w", caseNo, err)
	}
	if err := adjustRollup(ctx, tx, caseNo, 1); err != nil {
		return Rectification{}, err
	}
	if err := tenants.Audit(ctx, tx, "ratings.rectification.feedback", caseNo, map[string]any{"outcome": in.Outcome, "in_time": inTime}); err != nil {
		return Rectification{}, err
	}
	c, err := GetCase(ctx, tx, caseNo)
	if err != nil {
		return Rectification{}, err
	}
	if err := queueUpload(ctx, tx, c, EventRectification, map[string]any{"outcome": in.Outcome, "feedback": in.Feedback, "fed_back_at": now, "in_time": inTime}); err != nil {
		return Rectification{}, err
	}
	return GetRectification(ctx, tx, caseNo)
}

// DecideAppeal decides an appealed bad rating: upheld, the rating leaves
// the statistics (audited); refused, the department must rectify.
func (m *Module) DecideAppeal(ctx context.Context, tx *tenants.Tx, caseNo string, in AppealDecision, now time.Time) (Rectification, error) {
	r, err := lockRect(ctx, tx, caseNo)
	if err != nil {
		return Rectification{}, err
	}
	if r.Status != "appealed" {
		return Rectification{}, problem.Conflict("该差评没有待审核的申诉 (no appeal to decide)")
	}
	status := "closed"
	if !in.Upheld {
		status = "open"
	}
	if _, err := tx.Exec(ctx, `UPDATE rating_rectifications SET status = $2, appeal_upheld = $3, appeal_note = $4, appeal_decided_by = $5, appeal_decided_at = $6,
			outcome = CASE WHEN $3 THEN outcome END, in_time = CASE WHEN $3 THEN in_time END
		WHERE id = $1`, r.ID, status, in.Upheld, in.Note, tx.Subject(), now); err != nil {
		return Rectification{}, fmt.Errorf("ratings: appeal %s: %w", caseNo, err)
	}
	if err := adjustRollup(ctx, tx, caseNo, -1); err != nil {
		return Rectification{}, err
	}
	if _, err := tx.Exec(ctx, `UPDATE rating_cases SET rectify_status = $2, excluded = $3, rectified_in_time = CASE WHEN $3 THEN rectified_in_time END
		WHERE case_no = $1`, caseNo, status, in.Upheld); err != nil {
		return Rectification{}, fmt.Errorf("ratings: appeal %s: %w", caseNo, err)
	}
	if err := adjustRollup(ctx, tx, caseNo, 1); err != nil {
		return Rectification{}, err
	}
	if err := tenants.Audit(ctx, tx, "ratings.appeal.decide", caseNo, map[string]any{"upheld": in.Upheld, "note": in.Note}); err != nil {
		return Rectification{}, err
	}
	return GetRectification(ctx, tx, caseNo)
}

// RateSecond records the citizen's 二次评价 of the rectification, which
// closes it and is published with it.
func (m *Module) RateSecond(ctx context.Context, tx *tenants.Tx, caseNo string, in SecondRatingInput, who Rater, now time.Time) (Rectification, error) {
	c, err := GetCase(ctx, tx, caseNo)
	if err != nil {
		return Rectification{}, err
	}
	if err := who.may(c); err != nil {
		return Rectification{}, err
	}
	r, err := lockRect(ctx, tx, caseNo)
	if err != nil {
		return Rectification{}, err
	}
	if r.Status != "fed_back" {
		return Rectification{}, problem.Conflict("整改反馈后才能二次评价，且只能评价一次 (a second rating follows the department's feedback, once)")
	}
	if _, err := tx.Exec(ctx, "UPDATE rating_rectifications SET status = 'closed', second_rating = $2, second_rated_at = $3 WHERE id = $1", r.ID, in.Rating, now); err != nil {
		return Rectification{}, fmt.Errorf("ratings: second rating %s: %w", caseNo, err)
	}
	if _, err := tx.Exec(ctx, "UPDATE rating_cases SET rectify_status = 'closed' WHERE id = $1", c.ID); err != nil {
		return Rectification{}, fmt.Errorf("ratings: second rating %s: %w", caseNo, err)
	}
	if err := queueUpload(ctx, tx, c, EventSecondRating, map[string]any{"rating": in.Rating, "at": now}); err != nil {
		return Rectification{}, err
	}
	return GetRectification(ctx, tx, caseNo)
}

func lockRect(ctx context.Context, tx *tenants.Tx, caseNo string) (Rectification, error) {
	var id uuid.UUID
	err := tx.QueryRow(ctx, `SELECT r.id FROM rating_rectifications r JOIN rating_cases c ON c.id = r.case_id WHERE c.case_no = $1 FOR UPDATE OF r`, caseNo).Scan(&id)
	if isNoRows(err) {
		return Rectification{}, problem.NotFound("该办件没有差评整改 (the case has no rectification)")
	}
	if err != nil {
		return Rectification{}, fmt.Errorf("ratings: rectification %s: %w", caseNo, err)
	}
	return GetRectification(ctx, tx, caseNo)
}
