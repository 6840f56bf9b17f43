package ratings

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"yamen/problem"
	"yamen/tenants"
)

// Sources of a case.
const (
	SourceQueue  = "queue"
	SourcePush   = "push"
	SourceImport = "import"
)

// NewCase is a handled case as the queue, an integrator or an import gives
// it: the payload of ratings:case and the body of POST /cases.
type NewCase struct {
	CaseNo         string     `json:"case_no" pattern:"^[0-9A-Za-z_.:-]{1,64}$" doc:"办件编号，租户内唯一 (case number, unique in the tenant)"`
	Source         string     `json:"source,omitempty" required:"false" enum:"queue,push,import" doc:"来源；接口推送缺省为 push (where the case comes from)"`
	TicketID       *uuid.UUID `json:"ticket_id,omitempty" required:"false" doc:"排队号票编号 (queue ticket id)"`
	ItemID         *uuid.UUID `json:"item_id,omitempty" required:"false" doc:"事项编号 (catalogue item id, when there is one)"`
	ItemCode       string     `json:"item_code,omitempty" required:"false" maxLength:"64" doc:"事项编码 (item code)"`
	ItemName       string     `json:"item_name" minLength:"1" maxLength:"200" doc:"事项名称 (item name)"`
	DepartmentID   *uuid.UUID `json:"department_id,omitempty" required:"false" doc:"部门编号 (catalogue department id, when there is one)"`
	DepartmentCode string     `json:"department_code,omitempty" required:"false" maxLength:"40" doc:"部门编码 (department code)"`
	DepartmentName string     `json:"department_name" minLength:"1" maxLength:"200" doc:"部门名称 (department name)"`
	WindowID       *uuid.UUID `json:"window_id,omitempty" required:"false" doc:"窗口编号 (window id)"`
	WindowNumber   *int       `json:"window_number,omitempty" required:"false" minimum:"1" maximum:"9999" doc:"窗口号 (window number)"`
	StaffMemberID  *uuid.UUID `json:"staff_member_id,omitempty" required:"false" doc:"办理人员编号 (the staff member who handled it)"`
	StaffName      string     `json:"staff_name,omitempty" required:"false" maxLength:"100" doc:"办理人员姓名 (staff name)"`
	RegionCode     string     `json:"region_code" pattern:"^[0-9]{6}([0-9]{3}([0-9]{3})?)?$" doc:"区划代码，可到社区 (region code, down to the community)"`
	Channel        string     `json:"channel" enum:"window,online,mobile,self_service,hotline,other" doc:"办理渠道 (how it was handled)"`
	CitizenID      *uuid.UUID `json:"citizen_id,omitempty" required:"false" nullable:"true" doc:"办事人的统一身份认证账号 (the citizen's identity, when known)"`
	CitizenName    string     `json:"citizen_name,omitempty" required:"false" maxLength:"100" doc:"办事人姓名 (citizen name)"`
	CitizenPhone   string     `json:"citizen_phone,omitempty" required:"false" maxLength:"40" doc:"办事人手机号，用于短信评价 (citizen phone, for the SMS rating link)"`
	HandledAt      time.Time  `json:"handled_at" doc:"办结时间 (when the case was handled)"`
}

// Case is a case with its rating.
type Case struct {
	ID             uuid.UUID  `json:"id"`
	CaseNo         string     `json:"case_no"`
	Source         string     `json:"source"`
	TicketID       *uuid.UUID `json:"ticket_id,omitempty"`
	ItemID         *uuid.UUID `json:"item_id,omitempty"`
	ItemCode       string     `json:"item_code"`
	ItemName       string     `json:"item_name"`
	DepartmentID   *uuid.UUID `json:"department_id,omitempty"`
	DepartmentCode string     `json:"department_code"`
	DepartmentName string     `json:"department_name"`
	WindowID       *uuid.UUID `json:"window_id,omitempty"`
	WindowNumber   *int       `json:"window_number,omitempty"`
	StaffMemberID  *uuid.UUID `json:"staff_member_id,omitempty"`
	StaffName      string     `json:"staff_name"`
	RegionCode     string     `json:"region_code"`
	Channel        string     `json:"channel"`
	CitizenID      *uuid.UUID `json:"citizen_id,omitempty"`
	CitizenName    string     `json:"citizen_name" doc:"办事人姓名，公开输出中脱敏 (masked in public output)"`
	CitizenPhone   string     `json:"citizen_phone"`
	RateToken      string     `json:"rate_token,omitempty" doc:"匿名评价凭证，用于二维码和短信链接 (the anonymous rating secret for the QR code and SMS link)"`
	HandledAt      time.Time  `json:"handled_at"`
	CreatedAt      time.Time  `json:"created_at"`
	Rating         *Rating    `json:"rating,omitempty"`
	FollowUp       *FollowUp  `json:"follow_up,omitempty"`
	RectifyStatus  *string    `json:"rectify_status,omitempty"`
	Excluded       bool       `json:"excluded" doc:"申诉成立，不计入统计 (an upheld appeal took it out of the statistics)"`
	// Created is false when the case number was known: nothing changed.
	Created bool `json:"created"`
}

// Rating is a case's one rating.
type Rating struct {
	Level     int       `json:"level" doc:"5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意"`
	LevelName string    `json:"level_name"`
	Tags      []string  `json:"tags"`
	Comment   string    `json:"comment"`
	Channel   string    `json:"channel"`
	Default   bool      `json:"default" doc:"超期系统默认评价 (rated by the system after the deadline)"`
	Anonymous bool      `json:"anonymous"`
	RatedAt   time.Time `json:"rated_at"`
}

// FollowUp is a case's 追加评价.
type FollowUp struct {
	Level   *int      `json:"level,omitempty"`
	Tags    []string  `json:"tags"`
	Comment string    `json:"comment"`
	At      time.Time `json:"at"`
}

// LevelNames are the five levels of seed 004 1.1.1.4.
var LevelNames = map[int]string{5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}

const caseColumns = `id, case_no, source::text, ticket_id, item_id, item_code, item_name, department_id, department_code, department_name,
	window_id, window_number, staff_member_id, staff_name, region_code, channel::text, citizen_id, citizen_name, citizen_phone, rate_token,
	handled_at, created_at, level, tags, comment, rating_channel, is_default, anonymous, rated_at,
	follow_up_level, follow_up_tags, follow_up_comment, follow_up_at, rectify_status, excluded`

func scanCase(row pgx.Row) (Case, error) {
	var (
		c                    Case
		level, fuLevel       *int16
		tags, fuTags         []string
		comment, fuComment   string
		ratingChannel        *string
		isDefault, anonymous bool
		ratedAt, fuAt        *time.Time
		windowNumber         *int32
	)
	err := row.Scan(&c.ID, &c.CaseNo, &c.Source, &c.TicketID, &c.ItemID, &c.ItemCode, &c.ItemName, &c.DepartmentID, &c.DepartmentCode, &c.DepartmentName,
		&c.WindowID, &windowNumber, &c.StaffMemberID, &c.StaffName, &c.RegionCode, &c.Channel, &c.CitizenID, &c.CitizenName, &c.CitizenPhone, &c.RateToken,
		&c.HandledAt, &c.CreatedAt, &level, &tags, &comment, &ratingChannel, &isDefault, &anonymous, &ratedAt,
		&fuLevel, &fuTags, &fuComment, &fuAt, &c.RectifyStatus, &c.Excluded)
	if err != nil {
		return Case{}, err
	}
	if windowNumber != nil {
		n := int(*windowNumber)
		c.WindowNumber = &n
	}
	if level != nil && ratedAt != nil {
		ch := ""
		if ratingChannel != nil {
			ch = *ratingChannel
		}
		c.Rating = &Rating{Level: int(*level), LevelName: LevelNames[int(*level)], Tags: tags, Comment: comment, Channel: ch,
			Default: isDefault, Anonymous: anonymous, RatedAt: *ratedAt}
	}
	if fuAt != nil {
		f := &FollowUp{Tags: fuTags, Comment: fuComment, At: *fuAt}
		if fuLevel != nil {
			l := int(*fuLevel)
			f.Level = &l
		}
		c.FollowUp = f
	}
	return c, nil
}

// GetCase returns a case by its number.
func GetCase(ctx context.Context, q tenants.Querier, caseNo string) (Case, error) {
	c, err := scanCase(q.QueryRow(ctx, "SELECT "+caseColumns+" FROM rating_cases WHERE case_no = $1", caseNo))
	if errors.Is(err, pgx.ErrNoRows) {
		return Case{}, problem.NotFound("没有这个办件 (no such case)")
	}
	if err != nil {
		return Case{}, fmt.Errorf("ratings: case %s: %w", caseNo, err)
	}
	return c, nil
}

// lockCase returns a case by its number, locked for the rest of tx.
func lockCase(ctx context.Context, tx *tenants.Tx, caseNo string) (Case, error) {
	c, err := scanCase(tx.QueryRow(ctx, "SELECT "+caseColumns+" FROM rating_cases WHERE case_no = $1 FOR UPDATE", caseNo))
	if errors.Is(err, pgx.ErrNoRows) {
		return Case{}, problem.NotFound("没有这个办件 (no such case)")
	}
	if err != nil {
		return Case{}, fmt.Errorf("ratings: case %s: %w", caseNo, err)
	}
	return c, nil
}

// checkCase names every field of a case that the schema cannot check;
// prefix is "body." for a push.
func checkCase(ctx context.Context, q tenants.Querier, in NewCase, prefix string, now time.Time) ([]problem.Field, error) {
	var fields []problem.Field
	var ok bool
	if err := q.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM regions WHERE code = $1)", in.RegionCode).Scan(&ok); err != nil {
		return nil, fmt.Errorf("ratings: region: %w", err)
	}
	if !ok {
		fields = append(fields, problem.Field{Location: prefix + "region_code", Message: "没有这个区划 (no such region)", Value: in.RegionCode})
	}
	if in.HandledAt.IsZero() {
		fields = append(fields, problem.Field{Location: prefix + "handled_at", Message: "须给出办结时间 (give when the case was handled)"})
	} else if in.HandledAt.After(now.Add(5 * time.Minute)) {
		fields = append(fields, problem.Field{Location: prefix + "handled_at", Message: "办结时间不能晚于现在 (the case cannot be handled in the future)", Value: in.HandledAt})
	}
	return fields, nil
}

func newToken() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// CreateCase records a handled case and schedules its default rating. A
// known case number changes nothing: the case as it is comes back with
// Created false.
func (m *Module) CreateCase(ctx context.Context, tx *tenants.Tx, in NewCase, now time.Time) (Case, error) {
	if in.Source == "" {
		in.Source = SourcePush
	}
	fields, err := checkCase(ctx, tx, in, "body.", now)
	if err != nil {
		return Case{}, err
	}
	if len(fields) > 0 {
		return Case{}, problem.Invalid(fields...)
	}
	return m.insertCase(ctx, tx, in)
}

func (m *Module) insertCase(ctx context.Context, tx *tenants.Tx, in NewCase) (Case, error) {
	c, err := scanCase(tx.QueryRow(ctx, `INSERT INTO rating_cases (tenant_id, case_no, source, ticket_id, item_id, item_code, item_name,
			department_id, department_code, department_name, window_id, window_number, staff_member_id, staff_name, region_code, channel,
			citizen_id, citizen_name, citizen_phone, rate_token, handled_at)
		VALUES (current_tenant(), $1, $2::text::rating_case_source, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15::text::rating_case_channel, $16, $17, $18, $19, $20)
		ON CONFLICT (tenant_id, case_no) DO NOTHING
		RETURNING `+caseColumns,
		in.CaseNo, in.Source, in.TicketID, in.ItemID, in.ItemCode, in.ItemName, in.DepartmentID, in.DepartmentCode, in.DepartmentName,
		in.WindowID, in.WindowNumber, in.StaffMemberID, in.StaffName, in.RegionCode, in.Channel,
		in.CitizenID, in.CitizenName, in.CitizenPhone, newToken(), in.HandledAt))
	if errors.Is(err, pgx.ErrNoRows) {
		return GetCase(ctx, tx, in.CaseNo)
	}
	if err != nil {
		return Case{}, fmt.Errorf("ratings: create case %s: %w", in.CaseNo, err)
	}
	c.Created = true
	s, err := LoadSettings(ctx, tx)
	if err != nil {
		return Case{}, err
	}
	if _, err := tenants.Enqueue(ctx, tx, tenants.Task{Type: TaskDefault, Payload: defaultPayload{CaseNo: c.CaseNo},
		RunAt: c.HandledAt.AddDate(0, 0, s.DefaultAfterDays), DedupeKey: "default:" + c.CaseNo, Queue: tenants.QueueLow}); err != nil {
		return Case{}, fmt.Errorf("ratings: schedule default of %s: %w", c.CaseNo, err)
	}
	return c, nil
}

// caseFromQueue creates the case of a finished ticket (task ratings:case).
func (m *Module) caseFromQueue(ctx context.Context, tx *tenants.Tx, payload []byte) error {
	var in NewCase
	if err := json.Unmarshal(payload, &in); err != nil {
		return fmt.Errorf("ratings: %s payload: %w", TaskCase, err)
	}
	if in.Source == "" {
		in.Source = SourceQueue
	}
	fields, err := checkCase(ctx, tx, in, "", time.Now())
	if err != nil {
		return err
	}
	if !casePattern.MatchString(in.CaseNo) {
		fields = append(fields, problem.Field{Location: "case_no", Message: "办件编号格式有误 (bad case number)", Value: in.CaseNo})
	}
	if in.ItemName == "" || in.DepartmentName == "" || !validChannel(in.Channel) {
		fields = append(fields, problem.Field{Location: "item_name/department_name/channel", Message: "缺少事项、部门或渠道 (item, department or channel missing)"})
	}
	if len(fields) > 0 {
		// A malformed payload does not improve with retries: it goes to the
		// archive for a platform admin to look at.
		return fmt.Errorf("ratings: %s: %w", TaskCase, problem.Invalid(fields...))
	}
	_, err = m.insertCase(ctx, tx, in)
	return err
}

// ListCitizenCases returns a citizen's own cases (the case's citizen_id is
// their Kratos identity), newest first, phone masked and without the
// rating token: what the portal's "my cases" shows.
func ListCitizenCases(ctx context.Context, q tenants.Querier, citizen uuid.UUID, limit int) ([]Case, error) {
	rows, err := q.Query(ctx, "SELECT "+caseColumns+` FROM rating_cases WHERE citizen_id = $1 ORDER BY handled_at DESC LIMIT $2`, citizen, limit)
	if err != nil {
		return nil, fmt.Errorf("ratings: cases of a citizen: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Case, error) {
		c, err := scanCase(r)
		return c.masked(), err
	})
}

// CitizenRater is the rater of a citizen acting through their session.
func CitizenRater(s tenants.Subject) Rater { return rater(s) }

// Location is the tenant's time zone (the jurisdiction calendar's).
func (m *Module) Location(ctx context.Context) (*time.Location, error) { return m.location(ctx) }
