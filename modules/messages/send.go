package messages

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

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

// sendFacts is what a send checks its request against, read with the
// send's statement.
type sendFacts struct {
	settings    Settings
	replay      bool
	template    *Template
	members     []uuid.UUID
	orgs        []uuid.UUID
	roles       []uuid.UUID
	senderFound bool
}

// written is what the send's statement wrote.
type written struct {
	// messageID is nil when the request's Idempotency-Key was taken.
	messageID  *uuid.UUID
	deliveries int
	// queued are the deliveries that wait for the worker.
	queued []uuid.UUID
}

// factsSQL reads the settings, an earlier send with the key ($1), the
// template ($2) and which of the named members ($3), orgs ($4), roles ($5)
// and sending org ($6) exist.
const factsSQL = `SELECT s.settings, k.id, t.id, t.code, t.body, t.channels::text[],
		ARRAY(SELECT id FROM members WHERE id = ANY($3::uuid[])),
		ARRAY(SELECT id FROM orgs WHERE id = ANY($4::uuid[])),
		ARRAY(SELECT id FROM roles WHERE id = ANY($5::uuid[])),
		$6::uuid IS NULL OR EXISTS (SELECT 1 FROM orgs WHERE id = $6::uuid)`

const factsFromSQL = `
	FROM (SELECT) AS one
	LEFT JOIN tenant_modules s ON s.module = 'messages'
	LEFT JOIN messages k ON $1 <> '' AND k.idempotency_key = $1
	LEFT JOIN message_templates t ON $2 <> '' AND t.code = $2`

// sendSQL writes the message, its deliveries — delivered at once on the
// channels in $13, unless the tenant limits in-app messages per minute — and the notifications of the in-app ones, which
// pg_notify sends at commit, and reads the facts in the same statement (a
// SELECT in WITH runs only when referenced, hence the count of notified).
// It runs before the request is checked against the facts, so that a valid
// send costs one round trip: an invalid one rolls back. Nothing a checked
// request names can make it fail: an unknown sending org is written as
// NULL, and the channels are known ones.
const sendSQL = `WITH msg AS (
		INSERT INTO messages (tenant_id, kind, title, template_id, body, channels, sender_org_id, sent_by, idempotency_key)
		VALUES (current_tenant(), $7, $12, $8, $9, $10::text[]::message_channel[], (SELECT id FROM orgs WHERE id = $6::uuid), $11, NULLIF($1, ''))
		ON CONFLICT (tenant_id, idempotency_key) DO NOTHING RETURNING id),
	direct AS (
		SELECT ch FROM unnest($13::text[]) AS ch
		WHERE coalesce((SELECT (settings->>'in_app_per_minute')::int FROM tenant_modules WHERE module = 'messages'), 0) = 0),
	d AS (
		INSERT INTO message_deliveries (tenant_id, message_id, recipient_kind, recipient_id, recipient_name, recipient_phone, recipient_email,
			channel, status, attempts, attempted_at, delivered_at)
		SELECT current_tenant(), msg.id, r.kind::message_recipient_kind, r.id, r.name, r.phone, r.email, c::message_channel,
			CASE WHEN c IN (SELECT ch FROM direct) THEN 'delivered'::message_delivery_status ELSE 'created' END,
			CASE WHEN c IN (SELECT ch FROM direct) THEN 1 ELSE 0 END,
			CASE WHEN c IN (SELECT ch FROM direct) THEN now() END,
			CASE WHEN c IN (SELECT ch FROM direct) THEN now() END
		FROM msg, (` + recipientsSQL + `) r CROSS JOIN unnest($10::text[]) AS c
		RETURNING id, recipient_kind, recipient_id, channel, status),
	n AS (
		SELECT pg_notify('` + InboxChannel + `', current_tenant()::text || '|' || d.recipient_id::text || '|' || d.id::text)
		FROM d WHERE d.status = 'delivered' AND d.channel = 'in_app' AND d.recipient_kind = 'member')
	` + factsSQL + `,
		(SELECT id FROM msg), (SELECT count(*) FROM d), ARRAY(SELECT id FROM d WHERE status = 'created'), (SELECT count(*) FROM n)` + factsFromSQL

// recipientsSQL selects the recipients: the active members named by $3
// (members), $4 (orgs, with their subtrees) and $5 (roles), each once, and
// the citizens given by $14–$17 (ids, names, phones, emails). One branch
// per way of naming members, each walking its own index: a single WHERE
// with OR made the planner read every member of the tenant for every send
// (20 ms a send in a tenant of 20,000 members, against 0.2 ms).
const recipientsSQL = `SELECT 'member' AS kind, m.id, m.name, coalesce(m.phone, '') AS phone, coalesce(m.email, '') AS email
	FROM members m WHERE m.id = ANY($3::uuid[]) AND m.status = 'active'
	UNION
	SELECT 'member', m.id, m.name, coalesce(m.phone, ''), coalesce(m.email, '')
	FROM orgs top JOIN orgs o ON o.path <@ top.path JOIN members m ON m.tenant_id = o.tenant_id AND m.org_id = o.id
	WHERE top.id = ANY($4::uuid[]) AND m.status = 'active'
	UNION
	SELECT 'member', m.id, m.name, coalesce(m.phone, ''), coalesce(m.email, '')
	FROM member_roles mr JOIN members m ON m.tenant_id = mr.tenant_id AND m.id = mr.member_id
	WHERE mr.role_id = ANY($5::uuid[]) AND m.status = 'active'
	UNION ALL
	SELECT 'citizen', c.id, c.name, c.phone, c.email
	FROM unnest($14::uuid[], $15::text[], $16::text[], $17::text[]) AS c (id, name, phone, email)`

// sendStatement holds the arguments of factsSQL and sendSQL.
type sendStatement struct {
	key      string
	in       Send
	kind     string
	template *uuid.UUID
	text     string
	channels []string
	subject  string
	title    string
	direct   []string
}

// scanFacts scans the facts' columns, then extra.
func scanFacts(row pgx.Row, extra ...any) (sendFacts, error) {
	f := sendFacts{settings: defaultSettings()}
	var (
		raw          []byte
		replay, tid  *uuid.UUID
		tcode, tbody *string
		tchannels    []string
	)
	dest := append([]any{&raw, &replay, &tid, &tcode, &tbody, &tchannels, &f.members, &f.orgs, &f.roles, &f.senderFound}, extra...)
	if err := row.Scan(dest...); err != nil {
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

// facts reads the facts alone: a template's text must be known before the
// send's statement can write it.
func (st sendStatement) facts(ctx context.Context, tx *tenants.Tx) (sendFacts, error) {
	r := st.in.Recipients
	return scanFacts(tx.QueryRow(ctx, factsSQL+factsFromSQL, st.key, st.in.Template, r.Members, r.Orgs, r.Roles, st.in.SenderOrg))
}

// write runs sendSQL.
func (st sendStatement) write(ctx context.Context, tx *tenants.Tx) (sendFacts, written, error) {
	r := st.in.Recipients
	citizens := uniqueCitizens(r.Citizens)
	ids := make([]uuid.UUID, len(citizens))
	names := make([]string, len(citizens))
	phones := make([]string, len(citizens))
	emails := make([]string, len(citizens))
	for i, c := range citizens {
		ids[i], names[i], phones[i], emails[i] = c.ID, c.Name, c.Phone, c.Email
	}
	var w written
	f, err := scanFacts(tx.QueryRow(ctx, sendSQL,
		st.key, st.in.Template, r.Members, r.Orgs, r.Roles, st.in.SenderOrg,
		st.kind, st.template, st.text, st.channels, st.subject, st.title, st.direct,
		ids, names, phones, emails,
	), &w.messageID, &w.deliveries, &w.queued, nil)
	return f, w, err
}

// send is SendIn; a title makes the message an announcement, whose text is
// taken as written, braces and all.
func (m *Module) send(ctx context.Context, tx *tenants.Tx, in Send, idempotencyKey, title string) (Sent, error) {
	st := sendStatement{key: idempotencyKey, in: in, kind: KindDirect, text: in.Text, channels: in.Channels, subject: tx.Subject(), title: title}
	var fields []problem.Field
	textField := "body.text"
	switch {
	case in.Template != "" && in.Text != "":
		fields = append(fields, problem.Field{Location: "body.text", Message: "template 与 text 只能给一个 (give template or text, not both)"})
	case in.Template != "":
		facts, err := st.facts(ctx, tx)
		if err != nil {
			return Sent{}, err
		}
		if facts.replay {
			s, _, err := sentByKey(ctx, tx, idempotencyKey)
			return s, err
		}
		t := facts.template
		if t == nil {
			// Reported with whatever else is wrong below.
			fields = append(fields, problem.Field{Location: "body.template", Message: "没有这个模板 (no such template)", Value: in.Template})
			st.text = ""
			break
		}
		st.kind, st.text, st.template, textField = t.Code, t.Text, &t.ID, "body.variables"
		if len(st.channels) == 0 {
			st.channels = t.Channels
		}
	case in.Text == "":
		fields = append(fields, problem.Field{Location: "body.template", Message: "须给出 template 或 text (give template or text)"})
	}
	if title != "" {
		st.kind = KindAnnouncement
	} else if st.text != "" {
		var missing []string
		st.text, missing = render(st.text, in.Variables)
		if len(missing) > 0 {
			fields = append(fields, problem.Field{Location: "body.variables",
				Message: fmt.Sprintf("缺少变量的值：%s (values missing for: %s)", strings.Join(missing, "、"), strings.Join(missing, ", "))})
		}
	}
	if n := utf8.RuneCountInString(st.text); n > maxText {
		fields = append(fields, problem.Field{Location: textField,
			Message: fmt.Sprintf("消息内容最长 %d 字，现为 %d 字 (the text may have at most %d characters; it has %d)", maxText, n, maxText, n)})
	}
	if len(st.channels) == 0 {
		fields = append(fields, problem.Field{Location: "body.channels", Message: "须至少选择一个渠道 (name at least one channel)"})
	}
	fields = append(fields, checkChannels("body.channels", st.channels)...)
	for i, c := range in.Recipients.Citizens {
		if c.ID == uuid.Nil {
			fields = append(fields, problem.Field{Location: fmt.Sprintf("body.recipients.citizens[%d].id", i),
				Message: "须给出群众的身份编号 (give the citizen's identity id)", Value: c.ID.String()})
		}
	}
	if len(fields) > 0 {
		// What the database would refuse, or nothing to write: checked
		// before the statement, with the rest after it.
		facts, err := st.facts(ctx, tx)
		if err != nil {
			return Sent{}, err
		}
		if facts.replay {
			s, _, err := sentByKey(ctx, tx, idempotencyKey)
			return s, err
		}
		return Sent{}, problem.Invalid(append(fields, m.checkFacts(st, facts)...)...)
	}

	// The channels delivered by the send itself: in-app, when the built-in
	// channel has it (a test may put its own in its place). The statement
	// leaves it to the worker when a per-minute limit makes it wait its turn.
	_, builtin := m.channels[ChannelInApp].(inApp)
	if builtin && slices.Contains(st.channels, ChannelInApp) {
		st.direct = []string{ChannelInApp}
	}
	facts, w, err := st.write(ctx, tx)
	if err != nil {
		return Sent{}, err
	}
	if facts.replay {
		s, _, err := sentByKey(ctx, tx, idempotencyKey)
		return s, err
	}
	if fields := m.checkFacts(st, facts); len(fields) > 0 {
		return Sent{}, problem.Invalid(fields...)
	}
	if w.messageID == nil {
		// A concurrent request with the same key won the race.
		s, _, err := sentByKey(ctx, tx, idempotencyKey)
		return s, err
	}
	if w.deliveries == 0 {
		// Rolled back with the message: a send that reaches nobody is a
		// mistake to report, not a record to keep.
		return Sent{}, problem.InvalidField("body.recipients", "所选组织、角色中没有在职人员 (no active member among the recipients)", nil)
	}
	tenant := tx.TenantID()
	tasks := make([]tenants.Task, len(w.queued))
	for i, id := range w.queued {
		tasks[i] = tenants.Task{Type: TaskDeliver, Payload: DeliverPayload{TenantID: tenant, DeliveryID: id}, DedupeKey: id.String()}
	}
	if _, err := tenants.EnqueueAll(ctx, tx, tasks); err != nil {
		return Sent{}, fmt.Errorf("messages: send: %w", err)
	}
	s := Sent{MessageID: *w.messageID, Kind: st.kind, Text: st.text, Channels: st.channels, Deliveries: w.deliveries}
	if len(st.channels) > 0 {
		s.Recipients = w.deliveries / len(st.channels)
	}
	// A message and its deliveries are kept records (never deleted, with
	// who sent it, when, what and to whom), so a send needs no audit record
	// of its own: one would hold the tenant's audit chain for the rest of
	// the transaction and cap a tenant's sends at one per chain round trip
	// (about 650 a second on a 2-core server). Announcements, a publisher
	// speaking to the whole tenant, are rare and audited.
	if st.kind == KindAnnouncement {
		if err := tenants.Audit(ctx, tx, "message.announce", w.messageID.String(),
			map[string]any{"kind": st.kind, "channels": st.channels, "deliveries": w.deliveries, "sender_org_id": in.SenderOrg}); err != nil {
			return Sent{}, err
		}
	}
	return s, nil
}

// maxText is the longest text a message may have, as the messages table
// allows.
const maxText = 4000

// checkFacts names what of the request the facts refute: channels the
// tenant has not enabled, recipients and the sending org not found.
func (m *Module) checkFacts(st sendStatement, f sendFacts) []problem.Field {
	var fields []problem.Field
	for i, c := range st.channels {
		switch {
		case !slices.Contains(allChannels, c):
		case !slices.Contains(f.settings.Channels, c):
			fields = append(fields, problem.Field{Location: fmt.Sprintf("body.channels[%d]", i),
				Message: "本单位未启用该渠道 (the channel is not enabled in the messages settings)", Value: c})
		case m.channels[c] == nil:
			fields = append(fields, problem.Field{Location: fmt.Sprintf("body.channels[%d]", i),
				Message: "该渠道尚未接入 (the channel is not available yet)", Value: c})
		}
	}
	fields = append(fields, checkRecipients(st.in.Recipients, f)...)
	if !f.senderFound {
		fields = append(fields, problem.Field{Location: "body.sender_org_id", Message: "没有这个组织 (no such org)", Value: st.in.SenderOrg.String()})
	}
	return fields
}

// checkRecipients names every member, org and role that is not the
// tenant's.
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
