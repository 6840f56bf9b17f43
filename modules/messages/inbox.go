package messages

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"yamen/problem"
	"yamen/tenants"
)

// InboxItem is one in-app message in a member's inbox (站内信).
type InboxItem struct {
	ID        uuid.UUID  `json:"id" doc:"推送记录编号 (delivery id)"`
	MessageID uuid.UUID  `json:"message_id"`
	Kind      string     `json:"kind" doc:"消息类型 (message type)"`
	Text      string     `json:"text"`
	CreatedAt time.Time  `json:"created_at"`
	ReadAt    *time.Time `json:"read_at" doc:"阅读时间，未读为空 (when read; null while unread)"`
}

// InboxFilter narrows an inbox.
type InboxFilter struct {
	Unread bool `query:"unread" doc:"只看未读 (unread only)"`
	Limit  int  `query:"limit" minimum:"1" maximum:"500" default:"100" doc:"最多返回条数 (at most this many)"`
}

var errNotMember = problem.Forbidden("只有本单位人员有站内信收件箱 (only members of the tenant have an inbox)")

// memberOf returns the member the subject is, or an error for a key.
func memberOf(s tenants.Subject) (uuid.UUID, error) {
	if s.Kind != tenants.SubjectMember || s.ID == uuid.Nil {
		return uuid.Nil, errNotMember
	}
	return s.ID, nil
}

// Inbox returns the delivered in-app messages of member, newest first.
func Inbox(ctx context.Context, q tenants.Querier, member uuid.UUID, f InboxFilter) ([]InboxItem, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := q.Query(ctx, `SELECT d.id, d.message_id, m.kind, m.body, d.created_at, d.read_at
		FROM message_deliveries d JOIN messages m ON m.tenant_id = d.tenant_id AND m.id = d.message_id
		WHERE d.recipient_kind = 'member' AND d.recipient_id = $1 AND d.channel = 'in_app' AND d.status = 'delivered'
			AND (NOT $2 OR d.read_at IS NULL)
		ORDER BY d.created_at DESC, d.id LIMIT $3`, member, f.Unread, limit)
	if err != nil {
		return nil, fmt.Errorf("messages: inbox: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (InboxItem, error) {
		var i InboxItem
		err := r.Scan(&i.ID, &i.MessageID, &i.Kind, &i.Text, &i.CreatedAt, &i.ReadAt)
		return i, err
	})
	if err != nil {
		return nil, fmt.Errorf("messages: inbox: %w", err)
	}
	return items, nil
}

// MarkRead records that member read an in-app message of their inbox; the
// first reading counts, so reading again changes nothing.
func MarkRead(ctx context.Context, tx *tenants.Tx, member, delivery uuid.UUID) (InboxItem, error) {
	var i InboxItem
	err := tx.QueryRow(ctx, `WITH read AS (
			UPDATE message_deliveries SET read_at = coalesce(read_at, now())
			WHERE id = $1 AND recipient_kind = 'member' AND recipient_id = $2 AND channel = 'in_app' AND status = 'delivered'
			RETURNING id, message_id, created_at, read_at)
		SELECT r.id, r.message_id, m.kind, m.body, r.created_at, r.read_at FROM read r JOIN messages m ON m.id = r.message_id`,
		delivery, member).Scan(&i.ID, &i.MessageID, &i.Kind, &i.Text, &i.CreatedAt, &i.ReadAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return InboxItem{}, problem.NotFound("收件箱中没有这条消息 (no such message in your inbox)")
	}
	if err != nil {
		return InboxItem{}, fmt.Errorf("messages: mark read: %w", err)
	}
	return i, nil
}
