package messages

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"yamen/problem"
	"yamen/tenants"
)

// DeliveryRecord is one delivery as the records show it.
type DeliveryRecord struct {
	ID          uuid.UUID  `json:"id"`
	MessageID   uuid.UUID  `json:"message_id"`
	Kind        string     `json:"kind" doc:"消息类型 (message type)"`
	Text        string     `json:"text"`
	SenderOrgID *uuid.UUID `json:"sender_org_id"`
	Recipient   Recipient  `json:"recipient"`
	Channel     string     `json:"channel"`
	Status      string     `json:"status" enum:"created,sending,delivered,temporary_failure,permanent_failure"`
	Attempts    int        `json:"attempts"`
	LastError   string     `json:"last_error" doc:"最近一次失败的原因 (why the latest attempt failed)"`
	CreatedAt   time.Time  `json:"created_at"`
	AttemptedAt *time.Time `json:"attempted_at"`
	DeliveredAt *time.Time `json:"delivered_at"`
	FailedAt    *time.Time `json:"failed_at"`
	ReadAt      *time.Time `json:"read_at"`
}

// DeliveryFilter narrows the records.
type DeliveryFilter struct {
	Phone     string `query:"phone" maxLength:"40" doc:"接收人手机号，可只给一部分 (recipient phone, or part of it)"`
	Name      string `query:"name" maxLength:"100" doc:"接收人姓名，可只给一部分 (recipient name, or part of it)"`
	Status    string `query:"status" enum:"created,sending,delivered,temporary_failure,permanent_failure" doc:"状态 (status)"`
	Channel   string `query:"channel" enum:"in_app,sms,email,dingtalk,police_phone,webhook" doc:"渠道 (channel)"`
	Kind      string `query:"kind" maxLength:"63" doc:"消息类型 (message type)"`
	MessageID string `query:"message_id" format:"uuid" doc:"消息编号 (message id)"`
	Limit     int    `query:"limit" minimum:"1" maximum:"500" default:"100" doc:"最多返回条数 (at most this many)"`
}

const recordSelect = `SELECT d.id, d.message_id, m.kind, m.body, m.sender_org_id, d.recipient_kind::text, d.recipient_id::text,
	d.recipient_name, d.recipient_phone, d.recipient_email, d.channel::text, d.status::text, d.attempts, d.last_error,
	d.created_at, d.attempted_at, d.delivered_at, d.failed_at, d.read_at
	FROM message_deliveries d JOIN messages m ON m.tenant_id = d.tenant_id AND m.id = d.message_id`

func scanRecord(row pgx.Row) (DeliveryRecord, error) {
	var r DeliveryRecord
	err := row.Scan(&r.ID, &r.MessageID, &r.Kind, &r.Text, &r.SenderOrgID, &r.Recipient.Kind, &r.Recipient.ID,
		&r.Recipient.Name, &r.Recipient.Phone, &r.Recipient.Email, &r.Channel, &r.Status, &r.Attempts, &r.LastError,
		&r.CreatedAt, &r.AttemptedAt, &r.DeliveredAt, &r.FailedAt, &r.ReadAt)
	return r, err
}

// likePattern matches s anywhere, with LIKE's wildcards in s taken literally.
func likePattern(s string) string {
	return "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(s) + "%"
}

// ListDeliveries returns the newest deliveries matching f.
func ListDeliveries(ctx context.Context, q tenants.Querier, f DeliveryFilter) ([]DeliveryRecord, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Phone != "" {
		add("d.recipient_phone LIKE $%d", likePattern(f.Phone))
	}
	if f.Name != "" {
		add("d.recipient_name LIKE $%d", likePattern(f.Name))
	}
	if f.Status != "" {
		add("d.status = $%d::message_delivery_status", f.Status)
	}
	if f.Channel != "" {
		add("d.channel = $%d::message_channel", f.Channel)
	}
	if f.Kind != "" {
		add("m.kind = $%d", f.Kind)
	}
	if f.MessageID != "" {
		add("d.message_id = $%d::uuid", f.MessageID)
	}
	sql := recordSelect
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	args = append(args, limit)
	sql += fmt.Sprintf(" ORDER BY d.created_at DESC, d.id LIMIT $%d", len(args))
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("messages: list deliveries: %w", err)
	}
	rs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (DeliveryRecord, error) { return scanRecord(r) })
	if err != nil {
		return nil, fmt.Errorf("messages: list deliveries: %w", err)
	}
	return rs, nil
}

// GetDelivery returns one delivery.
func GetDelivery(ctx context.Context, q tenants.Querier, id uuid.UUID) (DeliveryRecord, error) {
	r, err := scanRecord(q.QueryRow(ctx, recordSelect+" WHERE d.id = $1", id))
	if errors.Is(err, pgx.ErrNoRows) {
		return DeliveryRecord{}, problem.NotFound("没有这条推送记录 (no such delivery)")
	}
	if err != nil {
		return DeliveryRecord{}, fmt.Errorf("messages: get delivery: %w", err)
	}
	return r, nil
}

// Stats are the statistics of seed 001 1.2.3: by message type, and by
// sending org and type.
type Stats struct {
	ByKind []KindCount `json:"by_kind"`
	ByOrg  []OrgCount  `json:"by_org"`
}

// Counts are deliveries by outcome.
type Counts struct {
	Messages   int `json:"messages" doc:"消息数 (messages)"`
	Deliveries int `json:"deliveries" doc:"推送条数 (deliveries)"`
	Delivered  int `json:"delivered" doc:"成功 (delivered)"`
	Failed     int `json:"failed" doc:"失败 (permanent failures)"`
	Pending    int `json:"pending" doc:"待推送或重试中 (not yet delivered or failed)"`
}

// KindCount counts one message type.
type KindCount struct {
	Kind string `json:"kind"`
	Counts
}

// OrgCount counts one message type sent by one org; OrgID is null for
// messages sent without one (by an integrator's key, by the system).
type OrgCount struct {
	OrgID   *uuid.UUID `json:"org_id"`
	OrgName string     `json:"org_name"`
	Kind    string     `json:"kind"`
	Counts
}

// StatsFilter bounds the statistics in time.
type StatsFilter struct {
	From time.Time `query:"from" doc:"起始时间，含 (from, inclusive; RFC 3339)"`
	To   time.Time `query:"to" doc:"截止时间，不含 (to, exclusive; RFC 3339)"`
}

const countColumns = `count(DISTINCT m.id), count(d.id), count(d.id) FILTER (WHERE d.status = 'delivered'),
	count(d.id) FILTER (WHERE d.status = 'permanent_failure'), count(d.id) FILTER (WHERE d.status NOT IN ('delivered', 'permanent_failure'))`

// GetStats counts the messages sent in f's period.
func GetStats(ctx context.Context, q tenants.Querier, f StatsFilter) (Stats, error) {
	var from, to *time.Time
	if !f.From.IsZero() {
		from = &f.From
	}
	if !f.To.IsZero() {
		to = &f.To
	}
	period := ` WHERE ($1::timestamptz IS NULL OR m.created_at >= $1) AND ($2::timestamptz IS NULL OR m.created_at < $2)`
	s := Stats{ByKind: []KindCount{}, ByOrg: []OrgCount{}}
	rows, err := q.Query(ctx, `SELECT m.kind, `+countColumns+`
		FROM messages m LEFT JOIN message_deliveries d ON d.tenant_id = m.tenant_id AND d.message_id = m.id`+period+`
		GROUP BY m.kind ORDER BY count(d.id) DESC, m.kind`, from, to)
	if err != nil {
		return s, fmt.Errorf("messages: stats: %w", err)
	}
	s.ByKind, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (KindCount, error) {
		var k KindCount
		err := r.Scan(&k.Kind, &k.Messages, &k.Deliveries, &k.Delivered, &k.Failed, &k.Pending)
		return k, err
	})
	if err != nil {
		return s, fmt.Errorf("messages: stats: %w", err)
	}
	rows, err = q.Query(ctx, `SELECT m.sender_org_id, coalesce(o.name, ''), m.kind, `+countColumns+`
		FROM messages m LEFT JOIN message_deliveries d ON d.tenant_id = m.tenant_id AND d.message_id = m.id
		LEFT JOIN orgs o ON o.tenant_id = m.tenant_id AND o.id = m.sender_org_id`+period+`
		GROUP BY m.sender_org_id, o.name, m.kind ORDER BY o.name NULLS LAST, m.kind`, from, to)
	if err != nil {
		return s, fmt.Errorf("messages: stats: %w", err)
	}
	s.ByOrg, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (OrgCount, error) {
		var c OrgCount
		err := r.Scan(&c.OrgID, &c.OrgName, &c.Kind, &c.Messages, &c.Deliveries, &c.Delivered, &c.Failed, &c.Pending)
		return c, err
	})
	if err != nil {
		return s, fmt.Errorf("messages: stats: %w", err)
	}
	return s, nil
}
