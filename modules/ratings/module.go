// Package ratings is 好差评 (seed 004): every case rated on five levels with
// tags, unrated cases rated 基本满意 by default, bad ratings assigned, rectified
// and rated a second time, statistics down to the community, and upload to the
// provincial system.
//
// A case (办件) comes from a finished queue ticket (the task ratings:case),
// from an integrator's push or from an Excel import, and carries its own
// item, department, staff and region, so it stands without the catalogue.
// Creating it schedules its default rating through the outbox at handled_at
// plus DefaultAfterDays (ratings:default), with a daily sweep (ratings:sweep)
// as a safety net. A rating of 不满意 or 非常不满意 opens a rectification for
// the handling department, due in working days, and notifies its managers
// through the messages module. Every rating, follow-up, rectification and
// second rating is recorded for the province in its own transaction and
// pushed in batches every few seconds (ratings:push), retried with backoff
// until the province acknowledges it; ratings:reconcile lists and re-sends
// what it never acknowledged.
package ratings

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"yamen/modules"
	"yamen/modules/messages"
	"yamen/tenants"
	"yamen/tenants/calendar"
)

// Settings are a tenant's 好差评 rules (seed 004).
type Settings struct {
	// Seed 004: 若办件生成7个自然日内未获评价，评价结果默认为"基本满意".
	DefaultAfterDays int `json:"default_after_days" required:"false" minimum:"1" maximum:"30" default:"7" doc:"办件办结后多少个自然日内未评价，由系统默认评价为“基本满意” (natural days after which the system rates an unrated case 基本满意)"`
	// Seed 004: 在企业和群众完成评价或系统完成超期默认评价后5个工作日，可以通过线上渠道完成追加评价.
	FollowUpWorkingDays int `json:"follow_up_working_days" required:"false" minimum:"1" maximum:"30" default:"5" doc:"评价（含系统默认评价）后多少个工作日内可以追加评价 (working days after a rating, or the default rating, in which a follow-up rating is accepted)"`
	// Seed 004 sets no rectification deadline (差评 are to be handled 及时);
	// 5 working days is the platform's default.
	RectifyWorkingDays int `json:"rectify_working_days" required:"false" minimum:"1" maximum:"30" default:"5" doc:"差评须在多少个工作日内完成整改反馈 (working days to rectify a bad rating and report back)"`
	// Seed 004: 差评时系统自动推送信息到站内信、短信或邮件给管理员或主管部门.
	BadRatingChannels []string `json:"bad_rating_channels" required:"false" enum:"in_app,sms,email" uniqueItems:"true" minItems:"1" maxItems:"3" default:"in_app,sms" doc:"差评通知管理员或主管部门的渠道 (channels that notify admins and the responsible department of a bad rating)"`
	// Managers are notified of every bad rating, besides the holders of
	// ratings:rectify in the handling department's org subtree.
	Managers []string `json:"managers" required:"false" maxItems:"100" uniqueItems:"true" format:"uuid" default:"[]" doc:"差评另行通知的人员编号（部门内持有 ratings:rectify 权限的人员总会收到） (member ids notified of every bad rating, besides the department's holders of ratings:rectify)"`
	// Seed 004 1.1.1.11: 将评价结果汇聚到省政务服务“好差评”系统. A list because
	// huma gives a struct no default; it holds at most one.
	Province []Province `json:"province" required:"false" maxItems:"1" default:"[]" doc:"省“好差评”系统接收地址（至多一个）；未配置时不上报，对账列出未上报的数据 (the provincial system's endpoint, at most one; without it nothing is uploaded and the reconciliation lists it all)"`
}

// Province is where uploads go and the key they are signed with.
type Province struct {
	URL    string `json:"url" minLength:"1" maxLength:"2000" doc:"接收地址 (endpoint URL)"`
	Secret string `json:"secret" required:"false" maxLength:"200" doc:"签名密钥：请求头 X-Yamen-Signature 为请求体的 HMAC-SHA256 (signing key)"`
}

func defaultSettings() Settings {
	return Settings{DefaultAfterDays: 7, FollowUpWorkingDays: 5, RectifyWorkingDays: 5,
		BadRatingChannels: []string{messages.ChannelInApp, messages.ChannelSMS}, Managers: []string{}, Province: []Province{}}
}

// Module is the ratings module. Construct it with New; Provision connects it.
type Module struct {
	db     *tenants.DB
	log    *slog.Logger
	client *http.Client
	// sender writes the bad-rating notices; the registered messages module
	// when given with WithMessages, else one of the module's own,
	// provisioned from the same settings (a send only writes rows and
	// outbox tasks, which the registered module delivers).
	sender      *messages.Module
	ownSender   bool
	uploadRetry time.Duration
	pushEvery   time.Duration

	calOnce sync.Once
	cal     *calendar.Calendar
	calErr  error
}

// Option changes a default of New.
type Option func(*Module)

// WithMessages makes the module send its notices through m.
func WithMessages(m *messages.Module) Option { return func(r *Module) { r.sender = m } }

// WithUploadRetry sets the wait before a failed upload is tried again (it
// doubles per attempt, up to an hour), as tests do to see a province
// recover in milliseconds; zero keeps the default of 30 s.
func WithUploadRetry(d time.Duration) Option {
	return func(r *Module) {
		if d > 0 {
			r.uploadRetry = d
		}
	}
}

// WithPushEvery sets how often the events due for the province are pushed
// (5 s by default; at least a second, the schedule's resolution).
func WithPushEvery(d time.Duration) Option {
	return func(r *Module) { r.pushEvery = max(d.Round(time.Second), time.Second) }
}

// WithCalendar sets the working-day calendar (the jurisdiction's, by default).
func WithCalendar(c *calendar.Calendar) Option {
	return func(r *Module) { r.calOnce.Do(func() { r.cal = c }) }
}

// New returns the ratings module; it has no side effects.
func New(opts ...Option) *Module {
	m := &Module{uploadRetry: 30 * time.Second, pushEvery: 5 * time.Second}
	for _, o := range opts {
		o(m)
	}
	return m
}

// Module implements modules.Module.
func (*Module) Module() modules.Info {
	return modules.Info{
		ID:      "ratings",
		Title:   modules.Text{ZH: "好差评", EN: "Service ratings"},
		Bundles: []string{"affairs_hall"},
		// messages: bad-rating and rectification notices.
		Needs: []string{"messages"},
		Permissions: []modules.Permission{
			{Name: "ratings:read", Title: modules.Text{ZH: "查看评价和统计", EN: "View ratings and statistics"}},
			{Name: "ratings:push", Title: modules.Text{ZH: "推送和导入办件", EN: "Push and import cases"}},
			{Name: "ratings:rate", Title: modules.Text{ZH: "代为提交评价（窗口评价器、自助终端、热线）", EN: "Submit ratings on a citizen's behalf (window device, kiosk, hotline)"}},
			{Name: "ratings:assign", Title: modules.Text{ZH: "交办差评、审核申诉", EN: "Assign bad ratings and decide appeals"}},
			{Name: "ratings:rectify", Title: modules.Text{ZH: "差评整改反馈", EN: "Rectify bad ratings"}},
			{Name: "ratings:configure", Title: modules.Text{ZH: "维护评价标签", EN: "Maintain rating tags"}},
			{Name: "ratings:export", Title: modules.Text{ZH: "导出评价数据", EN: "Export ratings"}},
		},
		Settings: Settings{},
	}
}

// Provision connects the module to the database.
func (m *Module) Provision(ctx context.Context, env modules.Env) error {
	if env.DB == nil {
		return errors.New("ratings: provisioned without a database")
	}
	m.db = &tenants.DB{Pool: env.DB}
	m.log = env.Logger
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	m.client = &http.Client{Timeout: 15 * time.Second}
	if m.sender == nil {
		m.sender, m.ownSender = messages.New(), true
	}
	if m.ownSender {
		if err := m.sender.Provision(ctx, env); err != nil {
			return err
		}
	}
	return nil
}

// Validate implements modules.Validator.
func (m *Module) Validate() error {
	if m.db == nil {
		return errors.New("ratings: not provisioned")
	}
	return nil
}

// Cleanup implements modules.CleanerUpper.
func (m *Module) Cleanup() error {
	if m.ownSender && m.sender != nil {
		return m.sender.Cleanup()
	}
	return nil
}

// calendar returns the jurisdiction's working-day calendar; Asia/Shanghai
// when no jurisdiction is set up yet.
func (m *Module) calendar(ctx context.Context) (*calendar.Calendar, error) {
	m.calOnce.Do(func() {
		c, err := calendar.ForJurisdiction(ctx, m.db)
		if err != nil {
			loc, lerr := time.LoadLocation("Asia/Shanghai")
			if lerr != nil {
				m.calErr = lerr
				return
			}
			c = calendar.New(m.db, loc)
		}
		m.cal = c
	})
	return m.cal, m.calErr
}

// Policy implements modules.PolicyProvider: citizens rate their own cases,
// follow up and rate a rectification a second time.
func (*Module) Policy() string {
	return `package yamen.modules.ratings

public_actions := {"citizen": {"ratings:rate", "ratings:own"}}
`
}

var (
	_ modules.Module           = (*Module)(nil)
	_ modules.Provisioner      = (*Module)(nil)
	_ modules.Validator        = (*Module)(nil)
	_ modules.CleanerUpper     = (*Module)(nil)
	_ modules.RouteProvider    = (*Module)(nil)
	_ modules.TaskProvider     = (*Module)(nil)
	_ modules.ScheduleProvider = (*Module)(nil)
	_ modules.PolicyProvider   = (*Module)(nil)
)
