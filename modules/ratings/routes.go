package ratings

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"yamen/modules"
	"yamen/tenants"
)

// CasePath is the path of an operation on one case; inputs embed it
// (exported: huma reads the parameters of exported embedded structs only).
type CasePath struct {
	Tenant string `path:"tenant" doc:"租户标识 (tenant slug)"`
	Case   string `path:"case" pattern:"^[0-9A-Za-z_.:-]{1,64}$" doc:"办件编号 (case number)"`
}

type createCaseInput struct {
	modules.TenantPath
	Body NewCase
}

type createdCase struct {
	Status int
	Body   Case
}

type importInput struct {
	modules.TenantPath
	RawBody []byte `contentType:"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" doc:"办件导入表 (.xlsx)，列：办件编号、事项编码、事项名称、部门编码、部门名称、工作人员、区划代码、办理渠道、办结时间、办事人姓名、办事人手机"`
}

type rateInput struct {
	CasePath
	Body RateInput
}

type tokenRateInput struct {
	CasePath
	Body struct {
		Token string `json:"token" minLength:"1" maxLength:"64" doc:"二维码或短信链接中的评价凭证 (the case's rating token from its QR code or SMS link)"`
		RateInput
	}
}

type followUpInput struct {
	CasePath
	Body FollowUpInput
}

type secondInput struct {
	CasePath
	Body SecondRatingInput
}

type feedbackInput struct {
	CasePath
	Body Feedback
}

type appealInput struct {
	CasePath
	Body AppealDecision
}

type tagInput struct {
	modules.TenantPath
	Code string `path:"code" pattern:"^[0-9A-Za-z_-]{1,20}$" doc:"标签编码 (tag code)"`
	Body TagEdit
}

type statsInput struct {
	modules.TenantPath
	StatsFilter
}

type workbook struct {
	ContentType        string `header:"Content-Type"`
	ContentDisposition string `header:"Content-Disposition"`
	Body               []byte
}

type rectListInput struct {
	modules.TenantPath
	RectificationFilter
}

type caseListInput struct {
	modules.TenantPath
	CaseFilter
}

type limitInput struct {
	modules.TenantPath
	Limit int `query:"limit" minimum:"1" maximum:"10000" default:"500"`
}

// rater is who rates through a tenant operation: a citizen only their own
// cases; staff and keys holding ratings:rate (window devices, kiosks, the
// hotline) any.
func rater(s tenants.Subject) Rater {
	r := Rater{Subject: s.String()}
	if s.Kind == tenants.SubjectCitizen || s.Kind == tenants.SubjectIntermediary {
		r.Citizen = s.ID
		if r.Citizen == uuid.Nil {
			r.Citizen = s.IdentityID
		}
	}
	return r
}

func (m *Module) location(ctx context.Context) (*time.Location, error) {
	cal, err := m.calendar(ctx)
	if err != nil {
		return nil, err
	}
	return cal.Location(), nil
}

// Routes implements modules.RouteProvider; the operations live under
// /v1/t/{tenant}/ratings.
func (m *Module) Routes(r *modules.Router) {
	modules.Register(r.Me(), "ratings:own", huma.Operation{
		OperationID: "list-my-rating-cases", Method: http.MethodGet, Path: "/cases", Summary: "我的办件 My cases",
		Description: "The signed-in citizen's cases in every tenant of the jurisdiction, newest handled first, with their ratings and the tenant to rate each in " +
			"(POST /v1/t/{tenant}/ratings/cases/{case}/rating).",
	}, func(ctx context.Context, in *myCasesInput) (*modules.Body[[]MyCase], error) {
		citizen, err := citizenOf(ctx)
		if err != nil {
			return nil, err
		}
		limit := in.Limit
		if limit == 0 {
			limit = 50
		}
		cs, err := m.ListMyCases(ctx, citizen, limit)
		if err != nil {
			return nil, err
		}
		return &modules.Body[[]MyCase]{Body: cs}, nil
	})
	modules.Register(r, "ratings:push", huma.Operation{
		OperationID: "push-rating-case", Method: http.MethodPost, Path: "/cases", DefaultStatus: http.StatusCreated,
		Summary:     "推送办件 Push a case",
		Description: "The hall's business systems push each handled case. 201 when created; a known case number changes nothing and answers 200 with the case as it is.",
	}, func(ctx context.Context, in *createCaseInput) (*createdCase, error) {
		out, err := modules.InTxAs(ctx, m.db, func(tx *tenants.Tx, _ tenants.Subject) (Case, error) {
			return m.CreateCase(ctx, tx, in.Body, time.Now())
		})
		if err != nil {
			return nil, err
		}
		status := http.StatusCreated
		if !out.Body.Created {
			status = http.StatusOK
		}
		return &createdCase{Status: status, Body: out.Body}, nil
	})
	modules.Register(r, "ratings:push", huma.Operation{
		OperationID: "import-rating-cases", Method: http.MethodPost, Path: "/cases/import",
		Summary:     "导入办件 Import cases from Excel",
		Description: "An .xlsx file with a header row (columns listed in the request body's description). Any bad cell: 422 naming every bad cell as body.<cell> (body.I7 is row 7, column I), and nothing is imported.",
	}, func(ctx context.Context, in *importInput) (*modules.Body[Imported], error) {
		return modules.InTxAs(ctx, m.db, func(tx *tenants.Tx, _ tenants.Subject) (Imported, error) {
			return m.ImportCases(ctx, tx, in.RawBody, time.Now())
		})
	})
	modules.Register(r, "ratings:read", modules.TenantWide(rowsCases, huma.Operation{
		OperationID: "list-rating-cases", Method: http.MethodGet, Path: "/cases", Summary: "评价查询 Cases and their ratings",
		Description: "By rating channel, level, time and case number (seed 004 评价查询), newest first. Citizens' phone numbers are masked.",
	}), func(ctx context.Context, in *caseListInput) (*modules.Body[[]Case], error) {
		return modules.Read(ctx, m.db, func(q tenants.Querier) ([]Case, error) { return ListCases(ctx, q, in.CaseFilter) })
	})
	modules.Register(r, "ratings:read", modules.TenantWide(rowsCases, huma.Operation{
		OperationID: "get-rating-case", Method: http.MethodGet, Path: "/cases/{case}", Summary: "查看办件 Get a case",
	}), func(ctx context.Context, in *CasePath) (*modules.Body[Case], error) {
		return modules.Read(ctx, m.db, func(q tenants.Querier) (Case, error) {
			c, err := GetCase(ctx, q, in.Case)
			return c.masked(), err
		})
	})
	modules.Register(r, "ratings:rate", huma.Operation{
		OperationID: "rate-case", Method: http.MethodPost, Path: "/cases/{case}/rating", Summary: "评价 Rate a case",
		Description: "One rating per case. A citizen rates their own cases (others are 404); window devices, kiosks and the hotline rate with a key holding ratings:rate. " +
			"不满意 and 非常不满意 need at least one tag of their level (422 naming body.tags); they open a rectification and notify the department's managers.",
	}, func(ctx context.Context, in *rateInput) (*modules.Body[Case], error) {
		return modules.InTxAs(ctx, m.db, func(tx *tenants.Tx, s tenants.Subject) (Case, error) {
			c, err := m.Rate(ctx, tx, in.Case, in.Body, rater(s), time.Now())
			return c.masked(), err
		})
	})
	modules.Register(r.Public(), "public", huma.Operation{
		OperationID: "rate-case-by-token", Method: http.MethodPost, Path: "/public/cases/{case}/rating", Summary: "扫码或短信评价 Rate by QR code or SMS link",
		Description: "Anonymous or real-name rating with the case's rating token (printed as a QR code, sent in the SMS link); a wrong token is 404.",
	}, func(ctx context.Context, in *tokenRateInput) (*modules.Body[Case], error) {
		return modules.InTxAs(ctx, m.db, func(tx *tenants.Tx, s tenants.Subject) (Case, error) {
			c, err := m.Rate(ctx, tx, in.Case, in.Body.RateInput, Rater{Subject: s.String(), Token: in.Body.Token}, time.Now())
			return c.public(), err
		})
	})
	modules.Register(r, "ratings:rate", huma.Operation{
		OperationID: "follow-up-case", Method: http.MethodPost, Path: "/cases/{case}/follow-up", Summary: "追加评价 Follow up a rating",
		Description: "Accepted within follow_up_working_days working days (5 by default) after the rating or the default rating; later it is refused with 409 saying until when it was open.",
	}, func(ctx context.Context, in *followUpInput) (*modules.Body[Case], error) {
		return modules.InTxAs(ctx, m.db, func(tx *tenants.Tx, s tenants.Subject) (Case, error) {
			c, err := m.AddFollowUp(ctx, tx, in.Case, in.Body, rater(s), time.Now())
			return c.masked(), err
		})
	})
	modules.Register(r, "ratings:rate", huma.Operation{
		OperationID: "second-rate-case", Method: http.MethodPost, Path: "/cases/{case}/second-rating", Summary: "二次评价 Rate the rectification",
		Description: "After the department's feedback the citizen rates it 满意, 基本满意 or 不满意, once; it is published with the rectification.",
	}, func(ctx context.Context, in *secondInput) (*modules.Body[Rectification], error) {
		return modules.InTxAs(ctx, m.db, func(tx *tenants.Tx, s tenants.Subject) (Rectification, error) {
			return m.RateSecond(ctx, tx, in.Case, in.Body, rater(s), time.Now())
		})
	})
	modules.Register(r, "ratings:read", modules.TenantWide(rowsCases, huma.Operation{
		OperationID: "list-rating-rectifications", Method: http.MethodGet, Path: "/rectifications", Summary: "差评整改跟踪 Rectifications",
	}), func(ctx context.Context, in *rectListInput) (*modules.Body[[]Rectification], error) {
		return modules.Read(ctx, m.db, func(q tenants.Querier) ([]Rectification, error) {
			return ListRectifications(ctx, q, in.RectificationFilter, time.Now())
		})
	})
	modules.Register(r, "ratings:read", modules.TenantWide(rowsCases, huma.Operation{
		OperationID: "get-rating-rectification", Method: http.MethodGet, Path: "/cases/{case}/rectification", Summary: "查看差评整改 Get a rectification",
	}), func(ctx context.Context, in *CasePath) (*modules.Body[Rectification], error) {
		return modules.Read(ctx, m.db, func(q tenants.Querier) (Rectification, error) { return GetRectification(ctx, q, in.Case) })
	})
	modules.Register(r, "ratings:rectify", huma.Operation{
		OperationID: "feed-back-rating-rectification", Method: http.MethodPost, Path: "/cases/{case}/rectification/feedback", Summary: "整改反馈 Report back on a bad rating",
		Description: "Rectified at once, by the deadline, explained, or appealed as malicious or mistaken (an appeal waits for a decision). Fed back after the deadline counts as late.",
	}, func(ctx context.Context, in *feedbackInput) (*modules.Body[Rectification], error) {
		return modules.InTxAs(ctx, m.db, func(tx *tenants.Tx, _ tenants.Subject) (Rectification, error) {
			return m.GiveFeedback(ctx, tx, in.Case, in.Body, time.Now())
		})
	})
	modules.Register(r, "ratings:assign", huma.Operation{
		OperationID: "decide-rating-appeal", Method: http.MethodPost, Path: "/cases/{case}/rectification/appeal", Summary: "审核申诉 Decide an appeal",
		Description: "Upheld, the rating leaves the statistics (audited); refused, the department must rectify.",
	}, func(ctx context.Context, in *appealInput) (*modules.Body[Rectification], error) {
		return modules.InTxAs(ctx, m.db, func(tx *tenants.Tx, _ tenants.Subject) (Rectification, error) {
			return m.DecideAppeal(ctx, tx, in.Case, in.Body, time.Now())
		})
	})
	modules.Register(r, "ratings:read", modules.TenantWide(rowsTags, huma.Operation{
		OperationID: "list-rating-tags", Method: http.MethodGet, Path: "/tags", Summary: "评价标签 Rating tags",
	}), func(ctx context.Context, _ *modules.TenantPath) (*modules.Body[[]Tag], error) {
		return modules.Read(ctx, m.db, func(q tenants.Querier) ([]Tag, error) { return ListTags(ctx, q) })
	})
	modules.Register(r.Public(), "public", huma.Operation{
		OperationID: "list-public-rating-tags", Method: http.MethodGet, Path: "/public/tags", Summary: "评价页标签 Tags for the rating page",
	}, func(ctx context.Context, _ *modules.TenantPath) (*modules.Body[[]Tag], error) {
		out, err := modules.Read(ctx, m.db, func(q tenants.Querier) ([]Tag, error) { return ListTags(ctx, q) })
		if err != nil {
			return nil, err
		}
		active := []Tag{}
		for _, t := range out.Body {
			if t.Active {
				active = append(active, t)
			}
		}
		return &modules.Body[[]Tag]{Body: active}, nil
	})
	modules.Register(r, "ratings:configure", huma.Operation{
		OperationID: "put-rating-tag", Method: http.MethodPut, Path: "/tags/{code}", Summary: "修改或新增评价标签 Edit or add a tag",
		Description: "A default tag's code edits the tenant's copy (rename, move, switch off with active false); a new code adds a tag of the tenant's own.",
	}, func(ctx context.Context, in *tagInput) (*modules.Body[Tag], error) {
		return modules.InTxAs(ctx, m.db, func(tx *tenants.Tx, _ tenants.Subject) (Tag, error) { return PutTag(ctx, tx, in.Code, in.Body) })
	})
	modules.Register(r, "ratings:read", modules.TenantWide(rowsStats, huma.Operation{
		OperationID: "get-rating-stats", Method: http.MethodGet, Path: "/stats", Summary: "好差评统计 Statistics",
		Description: "Satisfaction rate, counts per level, bad-rating rectification rate and timeliness, share of defaults, by department, region (one level down from region=, to the community), channel, staff, day, week or month. Each row's drill says how to open it one level down. Upheld appeals are left out; exclude_defaults leaves the default ratings out.",
	}), func(ctx context.Context, in *statsInput) (*modules.Body[Stats], error) {
		tz, err := m.location(ctx)
		if err != nil {
			return nil, err
		}
		return modules.Read(ctx, m.db, func(q tenants.Querier) (Stats, error) { return GetStats(ctx, q, in.StatsFilter, tz) })
	})
	modules.Register(r, "ratings:export", modules.TenantWide(rowsStats, huma.Operation{
		OperationID: "export-rating-stats", Method: http.MethodGet, Path: "/stats/export", Summary: "导出统计 Export statistics (.xlsx)",
		Responses: map[string]*huma.Response{"200": {Description: "统计表 (the statistics as an .xlsx workbook)",
			Content: map[string]*huma.MediaType{"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}},
	}), func(ctx context.Context, in *statsInput) (*workbook, error) {
		tz, err := m.location(ctx)
		if err != nil {
			return nil, err
		}
		st, err := modules.Read(ctx, m.db, func(q tenants.Querier) (Stats, error) { return GetStats(ctx, q, in.StatsFilter, tz) })
		if err != nil {
			return nil, err
		}
		raw, err := StatsWorkbook(st.Body)
		if err != nil {
			return nil, err
		}
		return &workbook{ContentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
			ContentDisposition: fmt.Sprintf(`attachment; filename="ratings-%s.xlsx"`, st.Body.By), Body: raw}, nil
	})
	modules.Register(r.Public(), "public", huma.Operation{
		OperationID: "get-public-rating-summary", Method: http.MethodGet, Path: "/public/summary", Summary: "好差评公示 Public summary",
		Description: "The last year's figures and the latest rectifications with their second ratings (seed 004 公示), without personal data.",
	}, func(ctx context.Context, _ *modules.TenantPath) (*modules.Body[PublicSummary], error) {
		tz, err := m.location(ctx)
		if err != nil {
			return nil, err
		}
		return modules.Read(ctx, m.db, func(q tenants.Querier) (PublicSummary, error) { return GetPublicSummary(ctx, q, time.Now(), tz) })
	})
	modules.Register(r, "ratings:read", modules.TenantWide(rowsUploads, huma.Operation{
		OperationID: "list-unacknowledged-rating-uploads", Method: http.MethodGet, Path: "/province/unacknowledged", Summary: "对账：省级未确认 Reconciliation",
		Description: "The events the provincial system has not acknowledged, oldest first, with their attempts and last error.",
	}), func(ctx context.Context, in *limitInput) (*modules.Body[[]PendingUpload], error) {
		return modules.Read(ctx, m.db, func(q tenants.Querier) ([]PendingUpload, error) { return Unacknowledged(ctx, q, in.Limit) })
	})
	modules.Register(r, "ratings:configure", huma.Operation{
		OperationID: "reconcile-rating-uploads", Method: http.MethodPost, Path: "/province/reconcile", DefaultStatus: http.StatusAccepted,
		Summary: "重新上报 Send again what the province has not acknowledged",
		Description: "Every unacknowledged event waiting out its retry wait is made due at once; the next push, within seconds, sends it. " +
			"The daily reconciliation does the same and tells the managers what has waited more than a day.",
	}, func(ctx context.Context, _ *modules.TenantPath) (*modules.Body[map[string]int], error) {
		return modules.InTxAs(ctx, m.db, func(tx *tenants.Tx, _ tenants.Subject) (map[string]int, error) {
			n, err := m.Reconcile(ctx, tx, time.Now())
			return map[string]int{"queued": n}, err
		})
	})
}

// CaseFilter selects cases (seed 004 评价查询).
type CaseFilter struct {
	CaseNo  string    `query:"case_no" required:"false" maxLength:"64"`
	Level   int       `query:"level" required:"false" minimum:"0" maximum:"5" doc:"评价等级，0 为不限 (level; 0 any)"`
	Channel string    `query:"channel" required:"false" enum:"pc,app,mini_program,qr_code,sms,hotline,window_device,kiosk,system"`
	Rated   string    `query:"rated" required:"false" enum:"yes,no" doc:"是否已评价 (rated or not)"`
	From    time.Time `query:"from" required:"false"`
	To      time.Time `query:"to" required:"false"`
	Limit   int       `query:"limit" minimum:"1" maximum:"500" default:"100"`
}

// ListCases lists cases, newest first.
func ListCases(ctx context.Context, q tenants.Querier, f CaseFilter) ([]Case, error) {
	if f.Limit == 0 {
		f.Limit = 100
	}
	var from, to *time.Time
	if !f.From.IsZero() {
		from = &f.From
	}
	if !f.To.IsZero() {
		to = &f.To
	}
	rows, err := q.Query(ctx, "SELECT "+caseColumns+` FROM rating_cases
		WHERE ($1 = '' OR case_no = $1) AND ($2 = 0 OR level = $2) AND ($3 = '' OR rating_channel = $3)
			AND ($4 = '' OR ($4 = 'yes') = (level IS NOT NULL))
			AND ($5::timestamptz IS NULL OR handled_at >= $5) AND ($6::timestamptz IS NULL OR handled_at < $6)
		ORDER BY handled_at DESC LIMIT $7`, f.CaseNo, f.Level, f.Channel, f.Rated, from, to, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("ratings: cases: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Case, error) {
		c, err := scanCase(r)
		return c.masked(), err
	})
}

// masked hides the citizen's phone digits 4–7 and the rating token.
func (c Case) masked() Case {
	c.CitizenPhone = maskPhone(c.CitizenPhone)
	c.RateToken = ""
	return c
}

// public is the case as an anonymous rater sees it: nobody's personal data.
func (c Case) public() Case {
	c = c.masked()
	c.CitizenName, c.CitizenPhone, c.CitizenID, c.StaffMemberID = maskName(c.CitizenName), "", nil, nil
	return c
}

func maskPhone(p string) string {
	r := []rune(p)
	if len(r) < 7 {
		return p
	}
	for i := 3; i < 7; i++ {
		r[i] = '*'
	}
	return string(r)
}

func maskName(n string) string {
	r := []rune(n)
	if len(r) == 0 {
		return n
	}
	for i := 1; i < len(r); i++ {
		r[i] = '*'
	}
	return string(r)
}
