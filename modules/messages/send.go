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
// subtree) and by role (every active member holding it); a member named
// more than once gets the message once per channel.
type Recipients struct {
	Members []uuid.UUID `json:"members,omitempty" required:"false" maxItems:"10000" doc:"人员编号 (member ids)"`
	Orgs    []uuid.UUID `json:"orgs,omitempty" required:"false" maxItems:"1000" doc:"组织编号，含下级组织的在职人员 (org ids: the active members of each subtree)"`
	Roles   []uuid.UUID `json:"roles,omitempty" required:"false" maxItems:"1000" doc:"角色编号，持有该角色的在职人员 (role ids: the active members holding them)"`
	// Citizens are people outside the tenant (Kratos citizen identities),
	// named by the module that sends to them — booking's reminders — with
	// the contact details it holds; the HTTP send takes none.
	Citizens []CitizenRecipient `json:"-"`
}

// CitizenRecipient is a citizen a module sends to.
type CitizenRecipient struct {
	ID    uuid.UUID
	Name  string
	Phone string
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

// SendIn sends in tx: one delivery per (recipient, channel), each with a
// messages:deliver task in the outbox, so the deliveries exist if and only
// if the transaction commits. idempotencyKey, when set, makes a repeated
// request answer with what the first created.
func (m *Module) SendIn(ctx context.Context, tx *tenants.Tx, in Send, idempotencyKey string) (Sent, error) {
	return m.send(ctx, tx, in, idempotencyKey, "")
}

// send is SendIn; a title makes the message an announcement, whose text is
// taken as written, braces and all.
func (m *Module) send(ctx context.Context, tx *tenants.Tx, in Send, idempotencyKey, title string) (Sent, error) {
	if idempotencyKey != "" {
		if s, ok, err := sentByKey(ctx, tx, idempotencyKey); err != nil || ok {
			return s, err
		}
	}
	settings, err := LoadSettings(ctx, tx)
	if err != nil {
		return Sent{}, err
	}
	var fields []problem.Field
	kind, text, channels := KindDirect, in.Text, in.Channels
	var templateID *uuid.UUID
	switch {
	case in.Template != "" && in.Text != "":
		fields = append(fields, problem.Field{Location: "body.text", Message: "template 与 text 只能给一个 (give template or text, not both)"})
	case in.Template != "":
		t, ok, err := templateByCode(ctx, tx, in.Template)
		if err != nil {
			return Sent{}, err
		}
		if !ok {
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
	rf, err := checkRecipients(ctx, tx, in.Recipients)
	if err != nil {
		return Sent{}, err
	}
	fields = append(fields, rf...)
	if in.SenderOrg != nil {
		var ok bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM orgs WHERE id = $1)", *in.SenderOrg).Scan(&ok); err != nil {
			return Sent{}, fmt.Errorf("messages: sender org: %w", err)
		}
		if !ok {
			fields = append(fields, problem.Field{Location: "body.sender_org_id", Message: "没有这个组织 (no such org)", Value: in.SenderOrg.String()})
		}
	}
	if len(fields) > 0 {
		return Sent{}, problem.Invalid(fields...)
	}

	var messageID uuid.UUID
	err = tx.QueryRow(ctx, `INSERT INTO messages (tenant_id, kind, title, template_id, body, channels, sender_org_id, sent_by, idempotency_key)
		VALUES (current_tenant(), $1, $8, $2, $3, $4::text[]::message_channel[], $5, $6, NULLIF($7, ''))
		ON CONFLICT (tenant_id, idempotency_key) DO NOTHING RETURNING id`,
		kind, templateID, text, channels, in.SenderOrg, tx.Subject(), idempotencyKey, title).Scan(&messageID)
	if errors.Is(err, pgx.ErrNoRows) {
		// A concurrent request with the same key won the race.
		s, _, err := sentByKey(ctx, tx, idempotencyKey)
		return s, err
	}
	if err != nil {
		return Sent{}, fmt.Errorf("messages: send: %w", err)
	}
	rows, err := tx.Query(ctx, `INSERT INTO message_deliveries (tenant_id, message_id, recipient_kind, recipient_id, recipient_name, recipient_phone, recipient_email, channel)
		SELECT current_tenant(), $1, 'member', r.id, r.name, r.phone, r.email, c::message_channel
		FROM (`+recipientsSQL+`) r CROSS JOIN unnest($5::text[]) AS c
		RETURNING id`, messageID, in.Recipients.Members, in.Recipients.Orgs, in.Recipients.Roles, channels)
	if err != nil {
		return Sent{}, fmt.Errorf("messages: deliveries: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return Sent{}, fmt.Errorf("messages: deliveries: %w", err)
	}
	if len(in.Recipients.Citizens) > 0 {
		cids, names, phones := make([]uuid.UUID, 0, len(in.Recipients.Citizens)), []string{}, []string{}
		for _, c := range in.Recipients.Citizens {
			cids, names, phones = append(cids, c.ID), append(names, c.Name), append(phones, c.Phone)
		}
		rows, err := tx.Query(ctx, `INSERT INTO message_deliveries (tenant_id, message_id, recipient_kind, recipient_id, recipient_name, recipient_phone, recipient_email, channel)
			SELECT current_tenant(), $1, 'citizen', r.id, r.name, r.phone, '', c::message_channel
			FROM unnest($2::uuid[], $3::text[], $4::text[]) AS r (id, name, phone) CROSS JOIN unnest($5::text[]) AS c
			ON CONFLICT DO NOTHING
			RETURNING id`, messageID, cids, names, phones, channels)
		if err != nil {
			return Sent{}, fmt.Errorf("messages: citizen deliveries: %w", err)
		}
		more, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		if err != nil {
			return Sent{}, fmt.Errorf("messages: citizen deliveries: %w", err)
		}
		ids = append(ids, more...)
	}
	if len(ids) == 0 {
		// Rolled back with the message: a send that reaches nobody is a
		// mistake to report, not a record to keep.
		return Sent{}, problem.InvalidField("body.recipients", "所选组织、角色中没有在职人员 (no active member among the recipients)", nil)
	}
	tenant := tx.TenantID()
	for _, id := range ids {
		if _, err := tenants.Enqueue(ctx, tx, tenants.Task{Type: TaskDeliver, Payload: DeliverPayload{TenantID: tenant, DeliveryID: id}, DedupeKey: id.String()}); err != nil {
			return Sent{}, fmt.Errorf("messages: send: %w", err)
		}
	}
	s := Sent{MessageID: messageID, Kind: kind, Text: text, Channels: channels, Deliveries: len(ids)}
	if len(channels) > 0 {
		s.Recipients = len(ids) / len(channels)
	}
	action := "message.send"
	if kind == KindAnnouncement {
		action = "message.announce"
	}
	if err := tenants.Audit(ctx, tx, action, messageID.String(),
		map[string]any{"kind": kind, "channels": channels, "deliveries": len(ids), "sender_org_id": in.SenderOrg}); err != nil {
		return Sent{}, err
	}
	return s, nil
}

// recipientsSQL selects the active members named by $2 (members), $3 (orgs,
// with their subtrees) and $4 (roles), each once.
const recipientsSQL = `SELECT m.id, m.name, coalesce(m.phone, '') AS phone, coalesce(m.email, '') AS email
	FROM members m
	WHERE m.status = 'active' AND (
		m.id = ANY($2::uuid[])
		OR m.org_id IN (SELECT o.id FROM orgs o JOIN orgs top ON o.path <@ top.path WHERE top.id = ANY($3::uuid[]))
		OR m.id IN (SELECT mr.member_id FROM member_roles mr WHERE mr.role_id = ANY($4::uuid[])))`

// checkRecipients names every recipient id that is not the tenant's.
func checkRecipients(ctx context.Context, tx *tenants.Tx, r Recipients) ([]problem.Field, error) {
	if len(r.Members)+len(r.Orgs)+len(r.Roles)+len(r.Citizens) == 0 {
		return []problem.Field{{Location: "body.recipients", Message: "须至少给出一个接收人、组织或角色 (name at least one member, org or role)"}}, nil
	}
	var fields []problem.Field
	for _, list := range []struct {
		field, table string
		ids          []uuid.UUID
		message      string
	}{
		{"members", "members", r.Members, "没有这个人员 (no such member)"},
		{"orgs", "orgs", r.Orgs, "没有这个组织 (no such org)"},
		{"roles", "roles", r.Roles, "没有这个角色 (no such role)"},
	} {
		if len(list.ids) == 0 {
			continue
		}
		rows, err := tx.Query(ctx, "SELECT id FROM "+list.table+" WHERE id = ANY($1)", list.ids)
		if err != nil {
			return nil, fmt.Errorf("messages: recipients: %w", err)
		}
		found, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		if err != nil {
			return nil, fmt.Errorf("messages: recipients: %w", err)
		}
		for i, id := range list.ids {
			if !slices.Contains(found, id) {
				fields = append(fields, problem.Field{Location: fmt.Sprintf("body.recipients.%s[%d]", list.field, i), Message: list.message, Value: id.String()})
			}
		}
	}
	return fields, nil
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
