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

// NewAnnouncement is a 系统公告 (seed 001 1.2.3): composed, sent on the
// channels chosen to orgs and members, read receipts kept for in-app.
type NewAnnouncement struct {
	Title      string     `json:"title" minLength:"1" maxLength:"200" doc:"标题 (title)"`
	Text       string     `json:"text" minLength:"1" maxLength:"3000" doc:"正文 (text)"`
	Channels   []string   `json:"channels,omitempty" required:"false" maxItems:"6" uniqueItems:"true" doc:"推送渠道，缺省为站内信 (channels; in_app when absent)"`
	Recipients Recipients `json:"recipients" doc:"接收组织、人员 (recipient orgs and members)"`
	SenderOrg  *uuid.UUID `json:"sender_org_id,omitempty" required:"false" doc:"发布单位 (the publishing org)"`
}

// Announce sends an announcement in tx.
func (m *Module) Announce(ctx context.Context, tx *tenants.Tx, in NewAnnouncement, idempotencyKey string) (Sent, error) {
	if len(in.Channels) == 0 {
		in.Channels = []string{ChannelInApp}
	}
	return m.send(ctx, tx, Send{Text: "【" + in.Title + "】" + in.Text, Channels: in.Channels, Recipients: in.Recipients, SenderOrg: in.SenderOrg}, idempotencyKey, in.Title)
}

// Announcement is an announcement with its read receipts.
type Announcement struct {
	ID        uuid.UUID  `json:"id"`
	Title     string     `json:"title"`
	Text      string     `json:"text"`
	Channels  []string   `json:"channels"`
	SentBy    string     `json:"sent_by"`
	SenderOrg *uuid.UUID `json:"sender_org_id"`
	CreatedAt time.Time  `json:"created_at"`
	// Recipients counts the in-app recipients, Read those who read it.
	Recipients int `json:"recipients" doc:"站内信接收人数 (in-app recipients)"`
	Read       int `json:"read" doc:"已读人数 (read)"`
	// Receipts are filled in by GetAnnouncement only.
	Receipts []Receipt `json:"receipts,omitempty"`
}

// Receipt says whether one recipient read an announcement in-app.
type Receipt struct {
	MemberID uuid.UUID  `json:"member_id"`
	Name     string     `json:"name"`
	Status   string     `json:"status" doc:"推送状态 (delivery status)"`
	ReadAt   *time.Time `json:"read_at" doc:"阅读时间，未读为空 (when read; null while unread)"`
}

const announcementSelect = `SELECT m.id, m.title, m.body, m.channels::text[], m.sent_by, m.sender_org_id, m.created_at,
	count(d.id), count(d.read_at)
	FROM messages m LEFT JOIN message_deliveries d ON d.tenant_id = m.tenant_id AND d.message_id = m.id AND d.channel = 'in_app'
	WHERE m.kind = 'announcement'`

func scanAnnouncement(row pgx.Row) (Announcement, error) {
	var a Announcement
	err := row.Scan(&a.ID, &a.Title, &a.Text, &a.Channels, &a.SentBy, &a.SenderOrg, &a.CreatedAt, &a.Recipients, &a.Read)
	return a, err
}

// ListAnnouncements returns the newest announcements with their read counts.
func ListAnnouncements(ctx context.Context, q tenants.Querier, limit int) ([]Announcement, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := q.Query(ctx, announcementSelect+" GROUP BY m.tenant_id, m.id ORDER BY m.created_at DESC, m.id LIMIT $1", limit)
	if err != nil {
		return nil, fmt.Errorf("messages: announcements: %w", err)
	}
	as, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Announcement, error) { return scanAnnouncement(r) })
	if err != nil {
		return nil, fmt.Errorf("messages: announcements: %w", err)
	}
	return as, nil
}

// GetAnnouncement returns an announcement with every in-app recipient's receipt.
func GetAnnouncement(ctx context.Context, q tenants.Querier, id uuid.UUID) (Announcement, error) {
	a, err := scanAnnouncement(q.QueryRow(ctx, announcementSelect+" AND m.id = $1 GROUP BY m.tenant_id, m.id", id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Announcement{}, problem.NotFound("没有这条公告 (no such announcement)")
	}
	if err != nil {
		return Announcement{}, fmt.Errorf("messages: announcement: %w", err)
	}
	rows, err := q.Query(ctx, `SELECT recipient_id, recipient_name, status::text, read_at FROM message_deliveries
		WHERE message_id = $1 AND channel = 'in_app' ORDER BY read_at NULLS LAST, recipient_name, recipient_id`, id)
	if err != nil {
		return Announcement{}, fmt.Errorf("messages: receipts: %w", err)
	}
	a.Receipts, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Receipt, error) {
		var rc Receipt
		err := r.Scan(&rc.MemberID, &rc.Name, &rc.Status, &rc.ReadAt)
		return rc, err
	})
	if err != nil {
		return Announcement{}, fmt.Errorf("messages: receipts: %w", err)
	}
	return a, nil
}
