// Package messages is the 消息中心 of seed 001: one push service for SMS,
// DingTalk, email, 警务通 and in-app messages, with retry, delivery records,
// statistics and announcements, that every other module sends through.
//
// A send (SendIn, in the caller's transaction) resolves its recipients —
// members, every active member of orgs' subtrees, the holders of roles, and
// citizens given with their addresses — and writes one delivery per
// (recipient, channel), in one statement. An in-app delivery is delivered
// there and then: the row is the message in the inbox, and the
// notification that reaches the recipient's open streams goes out when the
// transaction commits. Every other delivery (and in-app ones of a tenant
// that limits them per minute) gets a messages:deliver task in the outbox.
// The task (DeliverIn) hands the delivery to its Channel
// and records the outcome: delivered; temporary_failure, retried with
// backoff; permanent_failure with the reason (refused by the provider, not
// on the whitelist, or still failing after the last retry). A delivery over
// its channel's per-minute limit waits for the next minute.
//
// Built so far: in-app, email (SMTP), SMS (an HTTP gateway, or the log in
// development), a DingTalk group robot (signed) and a generic HMAC-signed
// webhook. 警务通 is declared but refused by a send until its channel exists.
package messages

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"yamen/modules"
	"yamen/tenants"
)

// Settings are a tenant's push rules (seed 001 消息中心: 阈值设置、白名单).
// Seed 001 names the thresholds and the whitelist but sets no numbers, so the
// limits default to 0 (no limit) and whitelist mode defaults to off. The
// channel ids are the ones other modules' settings use.
type Settings struct {
	// Seed 001: 推送方式包含短信、钉钉、邮件、警务通、系统; seed 004 uses 站内信、短信、邮件,
	// so those three are on by default and DingTalk and 警务通 are opt-in.
	Channels []string `json:"channels" required:"false" enum:"in_app,sms,email,dingtalk,police_phone,webhook" uniqueItems:"true" maxItems:"6" default:"in_app,sms,email" doc:"启用的推送渠道：in_app 站内信, sms 短信, email 邮件, dingtalk 钉钉/浙政钉, police_phone 警务通, webhook 通用回调 (enabled channels)"`

	SMSPerMinute         int `json:"sms_per_minute" required:"false" minimum:"0" maximum:"100000" default:"0" doc:"短信每分钟最多推送条数，0 为不限 (SMS messages per minute, 0 = no limit)"`
	EmailPerMinute       int `json:"email_per_minute" required:"false" minimum:"0" maximum:"100000" default:"0" doc:"邮件每分钟最多推送封数，0 为不限 (emails per minute, 0 = no limit)"`
	DingTalkPerMinute    int `json:"dingtalk_per_minute" required:"false" minimum:"0" maximum:"100000" default:"0" doc:"钉钉每分钟最多推送条数，0 为不限 (DingTalk messages per minute, 0 = no limit)"`
	PolicePhonePerMinute int `json:"police_phone_per_minute" required:"false" minimum:"0" maximum:"100000" default:"0" doc:"警务通每分钟最多推送条数，0 为不限 (police-phone messages per minute, 0 = no limit)"`
	WebhookPerMinute     int `json:"webhook_per_minute" required:"false" minimum:"0" maximum:"100000" default:"0" doc:"回调每分钟最多推送条数，0 为不限 (webhook calls per minute, 0 = no limit)"`
	InAppPerMinute       int `json:"in_app_per_minute" required:"false" minimum:"0" maximum:"100000" default:"0" doc:"站内信每分钟最多推送条数，0 为不限 (in-app messages per minute, 0 = no limit)"`

	WhitelistOnly bool     `json:"whitelist_only" required:"false" default:"false" doc:"白名单模式：开启后只向白名单中的接收人推送 (whitelist mode: deliver only to the recipients listed below)"`
	Whitelist     []string `json:"whitelist" required:"false" maxItems:"1000" minLength:"1" maxLength:"200" uniqueItems:"true" default:"[]" doc:"白名单：手机号、邮箱或人员编号 (whitelisted recipients: phone numbers, email addresses or member ids)"`

	// The generic webhook channel posts every delivery, signed, to the
	// tenant's receiver. A list because huma gives a struct no default; it
	// holds at most one.
	Webhooks []Webhook `json:"webhooks" required:"false" maxItems:"1" default:"[]" doc:"通用回调（至多一个）：渠道 webhook 向 url POST，请求头 X-Yamen-Signature 为请求体以 secret 计算的 HMAC-SHA256 (the webhook channel's receiver and signing key; at most one)"`

	// The DingTalk channel posts to the tenant's group robot, likewise a
	// list of at most one.
	DingTalkRobots []DingTalkRobot `json:"dingtalk_robots" required:"false" maxItems:"1" default:"[]" doc:"钉钉群机器人（至多一个）：渠道 dingtalk 向其推送并 @ 接收人手机号 (the DingTalk group robot the dingtalk channel posts to, mentioning the recipient; at most one)"`
}

// Webhook is where the webhook channel posts and the key it signs with.
type Webhook struct {
	URL    string `json:"url" minLength:"1" maxLength:"2000" doc:"回调地址 (receiver URL)"`
	Secret string `json:"secret" required:"false" maxLength:"200" doc:"签名密钥 (signing key)"`
}

// defaultSettings are the defaults the struct tags above declare, for a
// tenant that saved none.
func defaultSettings() Settings {
	return Settings{Channels: []string{ChannelInApp, ChannelSMS, ChannelEmail}, Whitelist: []string{}, Webhooks: []Webhook{}, DingTalkRobots: []DingTalkRobot{}}
}

// perMinute returns the limit of channel, 0 for none.
func (s Settings) perMinute(channel string) int {
	switch channel {
	case ChannelSMS:
		return s.SMSPerMinute
	case ChannelEmail:
		return s.EmailPerMinute
	case ChannelDingTalk:
		return s.DingTalkPerMinute
	case ChannelPolicePhone:
		return s.PolicePhonePerMinute
	case ChannelWebhook:
		return s.WebhookPerMinute
	case ChannelInApp:
		return s.InAppPerMinute
	}
	return 0
}

// Module is the messages module. Construct it with New; Provision connects it.
type Module struct {
	db       *tenants.DB
	log      *slog.Logger
	channels map[string]Channel
	// maxRetry is how many times a failed delivery is retried.
	maxRetry int
	// retryBackoff is the wait before the first retry; each retry waits
	// twice as long as the one before, up to an hour.
	retryBackoff time.Duration
	// hub passes in-app deliveries to the inbox streams (stream.go).
	hub hub
}

// DefaultMaxRetry is how many times a delivery that failed for a reason
// that may pass (a 5xx, a timeout) is retried before it is marked failed.
const DefaultMaxRetry = 5

// Option changes a default of New.
type Option func(*Module)

// WithChannel replaces the channel of that id (or adds one, such as a
// DingTalk robot): a provider of the jurisdiction's own, or a test double.
func WithChannel(c Channel) Option {
	return func(m *Module) { m.channels[c.ID()] = c }
}

// WithRetryBackoff sets the wait before a failed delivery's first retry, as
// tests do to see retries in milliseconds; zero keeps the default.
func WithRetryBackoff(d time.Duration) Option {
	return func(m *Module) {
		if d > 0 {
			m.retryBackoff = d
		}
	}
}

// New returns the messages module; it has no side effects.
func New(opts ...Option) *Module {
	m := &Module{channels: map[string]Channel{}, maxRetry: DefaultMaxRetry, retryBackoff: DefaultRetryBackoff}
	for _, o := range opts {
		o(m)
	}
	return m
}

// Module implements modules.Module.
func (*Module) Module() modules.Info {
	return modules.Info{
		ID:      "messages",
		Title:   modules.Text{ZH: "消息中心", EN: "Message centre"},
		Bundles: []string{modules.EveryKind},
		Permissions: []modules.Permission{
			{Name: "messages:read", Title: modules.Text{ZH: "查看推送记录和统计", EN: "View delivery records and statistics"}},
			{Name: "messages:send", Title: modules.Text{ZH: "推送消息", EN: "Send messages"}},
			{Name: "messages:announce", Title: modules.Text{ZH: "发布系统公告", EN: "Publish announcements"}},
			{Name: "messages:templates", Title: modules.Text{ZH: "维护推送模板", EN: "Maintain message templates"}},
			{Name: "messages:inbox", Title: modules.Text{ZH: "查看本人站内信", EN: "Read one's own in-app messages"}},
		},
		Settings: Settings{},
	}
}

// Settings read from the environment (config.go documents them).
const (
	SettingSMTPAddr = "YAMEN_SMTP_ADDR"
	SettingSMTPFrom = "YAMEN_SMTP_FROM"
	SettingSMSURL   = "YAMEN_SMS_URL"
	SettingAuditKey = "YAMEN_AUDIT_KEY"
)

// Provision reads the channel settings. Channels a test gave with
// WithChannel are kept.
func (m *Module) Provision(_ context.Context, env modules.Env) error {
	if env.Setting == nil || env.DB == nil {
		return errors.New("messages: provisioned without settings or database")
	}
	m.db = &tenants.DB{Pool: env.DB}
	var err error
	if m.db.AuditKey, err = tenants.ParseAuditKey(env.Setting(SettingAuditKey)); err != nil {
		return fmt.Errorf("messages: %s: %w", SettingAuditKey, err)
	}
	m.log = env.Logger
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	client := &http.Client{Timeout: 15 * time.Second}
	defaults := []Channel{
		inApp{},
		newEmail(env.Setting(SettingSMTPAddr), env.Setting(SettingSMTPFrom)),
		newSMS(env.Setting(SettingSMSURL), client, m.log),
		webhook{client: client},
		dingTalk{client: client},
	}
	for _, c := range defaults {
		if _, ok := m.channels[c.ID()]; !ok {
			m.channels[c.ID()] = c
		}
	}
	return nil
}

// Validate implements modules.Validator.
func (m *Module) Validate() error {
	if m.db == nil {
		return errors.New("messages: not provisioned")
	}
	return nil
}

var (
	_ modules.Module        = (*Module)(nil)
	_ modules.Provisioner   = (*Module)(nil)
	_ modules.Validator     = (*Module)(nil)
	_ modules.RouteProvider = (*Module)(nil)
	_ modules.TaskProvider  = (*Module)(nil)
	_ modules.CleanerUpper  = (*Module)(nil)
)
