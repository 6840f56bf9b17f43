package messages

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"yamen/problem"
	"yamen/tenants"
)

// TaskDeliver hands one delivery to its channel.
const TaskDeliver = "messages:deliver"

// Send is a request to send one message to many recipients on some channels.
type Send struct {
	Template   string            `json:"template,omitempty" required:"false" maxLength:"63" doc:"模板编码；与 text 二选一 (template code; or give text)"`
	Text       string            `json:"text,omitempty" required:"false" maxLength:"4000" doc:"消息内容，可含 {变量}；与 template 二选一 (the text, may use {variables}; or give template)"`
	Variables  map[string]string `json:"variables,omitempty" required:"false" doc:"变量取值 (variable values)"`
	Channels   []string          `json:"channels,omitempty" required:"false" maxItems:"6" uniqueItems:"true" doc:"推送渠道；缺省为模板的渠道 (channels; the template's when absent)"`
	Recipients Recipients        `json:"recipients" doc:"接收人 (recipients)"`
	SenderOrg  *uuid.UUID        `json:"sender_org_id,omitempty" required:"false" doc:"推送单位，用于按单位统计 (the sending org, for the statistics by org)"`
}

// Recipients are given by member, by org (every active member of its
// subtree), by role (every active member holding it) and, for citizens, by
// identity with their addresses; a recipient named more than once gets the
// message once per channel.
type Recipients struct {
	Members []uuid.UUID `json:"members,omitempty" required:"false" maxItems:"10000" doc:"人员编号 (member ids)"`
	Orgs    []uuid.UUID `json:"orgs,omitempty" required:"false" maxItems:"1000" doc:"组织编号，含下级组织的在职人员 (org ids: the active members of each subtree)"`
	Roles   []uuid.UUID `json:"roles,omitempty" required:"false" maxItems:"1000" doc:"角色编号，持有该角色的在职人员 (role ids: the active members holding them)"`
	// Citizens are not the tenant's: the sender knows them (a booking, a
	// rating) and gives the addresses to use.
	Citizens []Citizen `json:"citizens,omitempty" required:"false" maxItems:"10000" doc:"群众：身份编号及推送所用的姓名、手机号、邮箱 (citizens: their identity id and the name, phone and email to send to)"`
}

// Citizen is a citizen recipient: their Ory Kratos identity id and the
// addresses the sender has for them, kept in the delivery records as given.
type Citizen struct {
	ID    uuid.UUID `json:"id" doc:"群众身份编号 (the citizen's identity id)"`
	Name  string    `json:"name,omitempty" required:"false" maxLength:"100" doc:"姓名 (name)"`
	Phone string    `json:"phone,omitempty" required:"false" maxLength:"30" doc:"手机号 (phone)"`
	Email string    `json:"email,omitempty" required:"false" maxLength:"254" doc:"邮箱 (email)"`
}

// Sent is what a send created.
type Sent struct {
	MessageID  uuid.UUID `json:"message_id"`
	Kind       string    `json:"kind" doc:"消息类型：模板编码或 direct (the message type: the template code, or direct)"`
	Text       string    `json:"text"`
	Channels   []string  `json:"channels"`
	Recipients int       `json:"recipients" doc:"接收人数 (recipients)"`
	Deliveries int       `json:"deliveries" doc:"推送条数：接收人 × 渠道 (deliveries: recipients × channels)"`
	// Replayed says an earlier send with the same Idempotency-Key answered.
	Replayed bool `json:"replayed"`
}

// DeliverPayload is the payload of messages:deliver.
type DeliverPayload struct {
	TenantID   uuid.UUID `json:"tenant_id"`
	DeliveryID uuid.UUID `json:"delivery_id"`
}

// The message types that are not template codes; templates may not take
// these codes.
const (
	// KindDirect is a send without a template.
	KindDirect = "direct"
	// KindAnnouncement is a 系统公告.
	KindAnnouncement = "announcement"
)

// LoadSettings returns the tenant's messages settings over the defaults.
func LoadSettings(ctx context.Context, q tenants.Querier) (Settings, error) {
	s := defaultSettings()
	var raw []byte
	err := q.QueryRow(ctx, "SELECT settings FROM tenant_modules WHERE module = 'messages'").Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("messages: settings: %w", err)
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return s, fmt.Errorf("messages: settings: %w", err)
	}
	return s, nil
}

// SendIn sends in tx: one delivery per (recipient, channel), so the
// deliveries exist if and only if the transaction commits. An in-app
// delivery is delivered by the send itself — the row is the message in the
// recipient's inbox, and the notification that reaches their open streams
// goes out when tx commits — unless the tenant limits in-app messages per
// minute; every other delivery gets a messages:deliver task in the outbox.
// idempotencyKey, when set, makes a repeated request answer with what the
// first created.
func (m *Module) SendIn(ctx context.Context, tx *tenants.Tx, in Send, idempotencyKey string) (Sent, error) {
	return m.send(ctx, tx, in, idempotencyKey, "")
}

// sendFacts is what a send checks its request against, read in one query.
type sendFacts struct {
	settings    Settings
	replay      bool
	template    *Template
	members     []uuid.UUID
	orgs        []uuid.UUID
	roles       []uuid.UUID
	senderFound bool
}

// loadSendFacts reads the settings, an earlier send with the key, the
// template and which of the named members, orgs, roles and sending org
// exist: one round trip, which DB.Tx pipelines with BEGIN.
func loadSendFacts(ctx context.Context, tx *tenants.Tx, in Send, key string) (sendFacts, error) {
	f := sendFacts{settings: defaultSettings()}
	var (
		raw          []byte
		replay       *uuid.UUID
		tid          *uuid.UUID
		tcode, tbody *string
		tchannels    []string
	)
	err := tx.QueryRow(ctx, `SELECT s.settings, k.id, t.id, t.code, t.body, t.channels::text[],
			ARRAY(SELECT id FROM members WHERE id = ANY($3::uuid[])),
			ARRAY(SELECT id FROM orgs WHERE id = ANY($4::uuid[])),
			ARRAY(SELECT id FROM roles WHERE id = ANY($5::uuid[])),
			$6::uuid IS NULL OR EXISTS (SELECT 1 FROM orgs WHERE id = $6::uuid)
		FROM (SELECT) AS one
		LEFT JOIN tenant_modules s ON s.module = 'messages'
		LEFT JOIN messages k ON $1 <> '' AND k.idempotency_key = $1
		LEFT JOIN message_templates t ON $2 <> '' AND t.code = $2`,
		key, in.Template, in.Recipients.Members, in.Recipients.Orgs, in.Recipients.Roles, in.SenderOrg,
	).Scan(&raw, &replay, &tid, &tcode, &tbody, &tchannels, &f.members, &f.orgs, &f.roles, &f.senderFound)
	if err != nil {
		return f, fmt.Errorf("messages: send: %w", err)
	}
	if raw != nil {
		if err := json.Unmarshal(raw, &f.settings); err != nil {
			return f, fmt.Errorf("messages: settings: %w", err)
		}
	}
	f.replay = replay != nil
	if tid != nil {
		f.template = &Template{ID: *tid, Code: *tcode, Text: *tbody, Channels: tchannels}
	}
	return f, nil
}

// send is SendIn; a title makes the message an announcement, whose text is
// taken as written, braces and all.
func (m *Module) send(ctx context.Context, tx *tenants.Tx, in Send, idempotencyKey, title string) (Sent, error) {
	facts, err := loadSendFacts(ctx, tx, in, idempotencyKey)
	if err != nil {
		return Sent{}, err
	}
	if facts.replay {
		s, _, err := sentByKey(ctx, tx, idempotencyKey)
		return s, err
	}
	settings := facts.settings
	var fields []problem.Field
	kind, text, channels := KindDirect, in.Text, in.Channels
	var templateID *uuid.UUID
	switch {
	case in.Template != "" && in.Text != "":
		fields = append(fields, problem.Field{Location: "body.text", Message: "template 与 text 只能给一个 (give template or text, not both)"})
	case in.Template != "":
		t := facts.template
		if t == nil {
			fields = append(fields, problem.Field{Location: "body.template", Message: "没有这个模板 (no such template)", Value: in.Template})
			break
		}
		kind, text, templateID = t.Code, t.Text, &t.ID
		if len(channels) == 0 {
			channels = t.Channels
		}
	case in.Text == "":
		fields = append(fields, problem.Field{Location: "body.template", Message: "须给出 template 或 text (give template or text)"})
	}
	if title != "" {
		kind = KindAnnouncement
	} else if text != "" {
		var missing []string
		text, missing = render(text, in.Variables)
		if len(missing) > 0 {
			fields = append(fields, problem.Field{Location: "body.variables",
				Message: fmt.Sprintf("缺少变量的值：%s (values missing for: %s)", strings.Join(missing, "、"), strings.Join(missing, ", "))})
		}
	}
	if len(channels) == 0 {
		fields = append(fields, problem.Field{Location: "body.channels", Message: "须至少选择一个渠道 (name at least one channel)"})
	}
	fields = append(fields, checkChannels("body.channels", channels)...)
	for i, c := range channels {
		switch {
		case !slices.Contains(allChannels, c):
		case !slices.Contains(settings.Channels, c):
			fields = append(fields, problem.Field{Location: fmt.Sprintf("body.channels[%d]", i),
				Message: "本单位未启用该渠道 (the channel is not enabled in the messages settings)", Value: c})
		case m.channels[c] == nil:
			fields = append(fields, problem.Field{Location: fmt.Sprintf("body.channels[%d]", i),
				Message: "该渠道尚未接入 (the channel is not available yet)", Value: c})
		}
	}
	fields = append(fields, checkRecipients(in.Recipients, facts)...)
	if !facts.senderFound {
		fields = append(fields, problem.Field{Location: "body.sender_org_id", Message: "没有这个组织 (no such org)", Value: in.SenderOrg.String()})
	}
	if len(fields) > 0 {
		return Sent{}, problem.Invalid(fields...)
	}

	// The channels delivered by the send itself: in-app, when the built-in
	// channel has it (a test may put its own in its place) and no
	// per-minute limit makes it wait its turn in the worker.
	var direct []string
	if _, builtin := m.channels[ChannelInApp].(inApp); builtin && settings.perMinute(ChannelInApp) == 0 {
		direct = []string{ChannelInApp}
	}
	citizens := uniqueCitizens(in.Recipients.Citizens)
	cids := make([]uuid.UUID, len(citizens))
	cnames := make([]string, len(citizens))
	cphones := make([]string, len(citizens))
	cemails := make([]string, len(citizens))
	for i, c := range citizens {
		cids[i], cnames[i], cphones[i], cemails[i] = c.ID, c.Name, c.Phone, c.Email
	}
	// One statement writes the message, its deliveries and the
	// notifications of the direct ones; pg_notify sends at commit. A SELECT
	// in WITH runs only when referenced, hence the count of notified.
	var (
		messageID  *uuid.UUID
		deliveries int
		queued     []uuid.UUID
	)
	err = tx.QueryRow(ctx, `WITH msg AS (
			INSERT INTO messages (tenant_id, kind, title, template_id, body, channels, sender_org_id, sent_by, idempotency_key)
			VALUES (current_tenant(), $1, $8, $2, $3, $4::text[]::message_channel[], $5, $6, NULLIF($7, ''))
			ON CONFLICT (tenant_id, idempotency_key) DO NOTHING RETURNING id),
		d AS (
			INSERT INTO message_deliveries (tenant_id, message_id, recipient_kind, recipient_id, recipient_name, recipient_phone, recipient_email,
				channel, status, attempts, attempted_at, delivered_at)
			SELECT current_tenant(), msg.id, r.kind::message_recipient_kind, r.id, r.name, r.phone, r.email, c::message_channel,
				CASE WHEN c = ANY($9::text[]) THEN 'delivered'::message_delivery_status ELSE 'created' END,
				CASE WHEN c = ANY($9::text[]) THEN 1 ELSE 0 END,
				CASE WHEN c = ANY($9::text[]) THEN now() END,
				CASE WHEN c = ANY($9::text[]) THEN now() END
			FROM msg, (`+recipientsSQL+`) r CROSS JOIN unnest($4::text[]) AS c
			RETURNING id, recipient_kind, recipient_id, channel, status),
		n AS (
			SELECT pg_notify('`+InboxChannel+`', current_tenant()::text || '|' || d.recipient_id::text || '|' || d.id::text)
			FROM d WHERE d.status = 'delivered' AND d.channel = 'in_app' AND d.recipient_kind = 'member')
		SELECT (SELECT id FROM msg), (SELECT count(*) FROM d),
			ARRAY(SELECT id FROM d WHERE status = 'created'), (SELECT count(*) FROM n)`,
		kind, templateID, text, channels, in.SenderOrg, tx.Subject(), idempotencyKey, title, direct,
		in.Recipients.Members, in.Recipients.Orgs, in.Recipients.Roles, cids, cnames, cphones, cemails,
	).Scan(&messageID, &deliveries, &queued, nil)
	if err != nil {
		return Sent{}, fmt.Errorf("messages: send: %w", err)
	}
	if messageID == nil {
		// A concurrent request with the same key won the race.
		s, _, err := sentByKey(ctx, tx, idempotencyKey)
		return s, err
	}
	if deliveries == 0 {
		// Rolled back with the message: a send that reaches nobody is a
		// mistake to report, not a record to keep.
		return Sent{}, problem.InvalidField("body.recipients", "所选组织、角色中没有在职人员 (no active member among the recipients)", nil)
	}
	tenant := tx.TenantID()
	tasks := make([]tenants.Task, len(queued))
	for i, id := range queued {
		tasks[i] = tenants.Task{Type: TaskDeliver, Payload: DeliverPayload{TenantID: tenant, DeliveryID: id}, DedupeKey: id.String()}
	}
	if _, err := tenants.EnqueueAll(ctx, tx, tasks); err != nil {
		return Sent{}, fmt.Errorf("messages: send: %w", err)
	}
	s := Sent{MessageID: *messageID, Kind: kind, Text: text, Channels: channels, Deliveries: deliveries}
	if len(channels) > 0 {
		s.Recipients = deliveries / len(channels)
	}
	// A message and its deliveries are kept records (never deleted, with
	// who sent it, when, what and to whom), so a send needs no audit record
	// of its own: one would hold the tenant's audit chain for the rest of
	// the transaction and cap a tenant's sends at one per chain round trip
	// (about 650 a second on a 2-core server). Announcements, a publisher
	// speaking to the whole tenant, are rare and audited.
	if kind == KindAnnouncement {
		if err := tenants.Audit(ctx, tx, "message.announce", messageID.String(),
			map[string]any{"kind": kind, "channels": channels, "deliveries": deliveries, "sender_org_id": in.SenderOrg}); err != nil {
			return Sent{}, err
		}
	}
	return s, nil
}

// recipientsSQL selects the recipients: the active members named by $10
// (members), $11 (orgs, with their subtrees) and $12 (roles), each once,
// and the citizens given by $13–$16 (ids, names, phones, emails).
const recipientsSQL = `SELECT 'member' AS kind, m.id, m.name, coalesce(m.phone, '') AS phone, coalesce(m.email, '') AS email
	FROM members m
	WHERE m.status = 'active' AND (
		m.id = ANY($10::uuid[])
		OR m.org_id IN (SELECT o.id FROM orgs o JOIN orgs top ON o.path <@ top.path WHERE top.id = ANY($11::uuid[]))
		OR m.id IN (SELECT mr.member_id FROM member_roles mr WHERE mr.role_id = ANY($12::uuid[])))
	UNION ALL
	SELECT 'citizen', c.id, c.name, c.phone, c.email
	FROM unnest($13::uuid[], $14::text[], $15::text[], $16::text[]) AS c (id, name, phone, email)`

// checkRecipients names every recipient that is not the tenant's, or not
// a citizen's identity.
func checkRecipients(r Recipients, f sendFacts) []problem.Field {
	if len(r.Members)+len(r.Orgs)+len(r.Roles)+len(r.Citizens) == 0 {
		return []problem.Field{{Location: "body.recipients", Message: "须至少给出一个接收人、组织、角色或群众 (name at least one member, org, role or citizen)"}}
	}
	var fields []problem.Field
	for _, list := range []struct {
		field   string
		ids     []uuid.UUID
		found   []uuid.UUID
		message string
	}{
		{"members", r.Members, f.members, "没有这个人员 (no such member)"},
		{"orgs", r.Orgs, f.orgs, "没有这个组织 (no such org)"},
		{"roles", r.Roles, f.roles, "没有这个角色 (no such role)"},
	} {
		for i, id := range list.ids {
			if !slices.Contains(list.found, id) {
				fields = append(fields, problem.Field{Location: fmt.Sprintf("body.recipients.%s[%d]", list.field, i), Message: list.message, Value: id.String()})
			}
		}
	}
	for i, c := range r.Citizens {
		if c.ID == uuid.Nil {
			fields = append(fields, problem.Field{Location: fmt.Sprintf("body.recipients.citizens[%d].id", i),
				Message: "须给出群众的身份编号 (give the citizen's identity id)", Value: c.ID.String()})
		}
	}
	return fields
}

// uniqueCitizens returns the citizens each once, as first named: a citizen
// named twice gets the message once per channel.
func uniqueCitizens(cs []Citizen) []Citizen {
	out := make([]Citizen, 0, len(cs))
	for _, c := range cs {
		if !slices.ContainsFunc(out, func(o Citizen) bool { return o.ID == c.ID }) {
			out = append(out, c)
		}
	}
	return out
}

// sentByKey returns what the send with this Idempotency-Key created.
func sentByKey(ctx context.Context, q tenants.Querier, key string) (Sent, bool, error) {
	s := Sent{Replayed: true}
	var deliveries, recipients int
	err := q.QueryRow(ctx, `SELECT m.id, m.kind, m.body, m.channels::text[],
			(SELECT count(*) FROM message_deliveries d WHERE d.message_id = m.id),
			(SELECT count(DISTINCT d.recipient_id) FROM message_deliveries d WHERE d.message_id = m.id)
		FROM messages m WHERE m.idempotency_key = $1`, key).Scan(&s.MessageID, &s.Kind, &s.Text, &s.Channels, &deliveries, &recipients)
	if errors.Is(err, pgx.ErrNoRows) {
		return Sent{}, false, nil
	}
	if err != nil {
		return Sent{}, false, fmt.Errorf("messages: idempotency key: %w", err)
	}
	s.Deliveries, s.Recipients = deliveries, recipients
	return s, true, nil
}
