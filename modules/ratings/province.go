package ratings

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"yamen/modules/messages"
	"yamen/tenants"
)

// Events uploaded to the province.
const (
	EventRating        = "rating"
	EventFollowUp      = "follow_up"
	EventRectification = "rectification"
	EventSecondRating  = "second_rating"
)

// Headers of an upload. The province recognises a repeat by the
// Idempotency-Key (tenant, case number and event): an upload it
// acknowledged but whose acknowledgement we lost comes again with the same
// key.
const (
	HeaderIdempotency = "Idempotency-Key"
	HeaderSignature   = "X-Yamen-Signature"
)

// Upload is what the province receives: one event of one case, with the
// case's item, department and region (seed 004 评价汇聚: 评价信息、事项信息
// together). The citizen's identity is never sent (seed 004: 不得将评价人信息
// 提供给第三方).
type Upload struct {
	Tenant         string         `json:"tenant"`
	CaseNo         string         `json:"case_no"`
	Event          string         `json:"event"`
	ItemCode       string         `json:"item_code"`
	ItemName       string         `json:"item_name"`
	DepartmentCode string         `json:"department_code"`
	DepartmentName string         `json:"department_name"`
	RegionCode     string         `json:"region_code"`
	Channel        string         `json:"channel"`
	HandledAt      time.Time      `json:"handled_at"`
	Data           map[string]any `json:"data"`
}

type uploadPayload struct {
	CaseNo string `json:"case_no"`
	Event  string `json:"event"`
}

// queueUpload records an event for the province; the next push sends it.
// An event recorded before (a retried task) is left as it is.
func queueUpload(ctx context.Context, tx *tenants.Tx, c Case, event string, data map[string]any) error {
	u := Upload{Tenant: tx.TenantID().String(), CaseNo: c.CaseNo, Event: event, ItemCode: c.ItemCode, ItemName: c.ItemName,
		DepartmentCode: c.DepartmentCode, DepartmentName: c.DepartmentName, RegionCode: c.RegionCode, Channel: c.Channel, HandledAt: c.HandledAt, Data: data}
	if _, err := tx.Exec(ctx, `INSERT INTO rating_uploads (tenant_id, case_no, event, payload) VALUES (current_tenant(), $1, $2::text::rating_upload_event, $3)
		ON CONFLICT DO NOTHING`, c.CaseNo, event, u); err != nil {
		return fmt.Errorf("ratings: upload %s %s: %w", c.CaseNo, event, err)
	}
	return nil
}

// uploadNow makes one event due at once. It handles ratings:upload tasks,
// one per event, which this module queued before pushes were batched and
// which an outbox may still hold.
func uploadNow(ctx context.Context, tx *tenants.Tx, p uploadPayload) error {
	_, err := tx.Exec(ctx, `UPDATE rating_uploads SET due_at = now() WHERE case_no = $1 AND event = $2::text::rating_upload_event AND acknowledged_at IS NULL`,
		p.CaseNo, p.Event)
	if err != nil {
		return fmt.Errorf("ratings: upload %s %s: %w", p.CaseNo, p.Event, err)
	}
	return nil
}

func (m *Module) post(ctx context.Context, s Province, key string, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderIdempotency, key)
	if s.Secret != "" {
		mac := hmac.New(sha256.New, []byte(s.Secret))
		mac.Write(body)
		req.Header.Set(HeaderSignature, hex.EncodeToString(mac.Sum(nil)))
	}
	resp, err := m.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("省级系统返回 %d (the province answered %d)", resp.StatusCode, resp.StatusCode)
	}
	return nil
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}

// PendingUpload is an event the province has not acknowledged.
type PendingUpload struct {
	CaseNo        string     `json:"case_no"`
	Event         string     `json:"event"`
	Attempts      int        `json:"attempts"`
	LastError     string     `json:"last_error"`
	LastAttemptAt *time.Time `json:"last_attempt_at,omitempty"`
	// DueAt is when the event is next tried.
	DueAt     time.Time `json:"due_at"`
	CreatedAt time.Time `json:"created_at"`
}

// notConfigured is the last error of an event never tried because the
// tenant has no province endpoint.
const notConfigured = "未配置省级接收地址 (no province endpoint configured)"

// Unacknowledged lists what the province has not acknowledged, oldest first
// (the reconciliation, 对账).
func Unacknowledged(ctx context.Context, q tenants.Querier, limit int) ([]PendingUpload, error) {
	s, err := LoadSettings(ctx, q)
	if err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, `SELECT case_no, event::text, attempts, last_error, last_attempt_at, due_at, created_at FROM rating_uploads
		WHERE acknowledged_at IS NULL ORDER BY created_at, case_no, event LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("ratings: unacknowledged: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (PendingUpload, error) {
		var u PendingUpload
		var attempts int32
		err := r.Scan(&u.CaseNo, &u.Event, &attempts, &u.LastError, &u.LastAttemptAt, &u.DueAt, &u.CreatedAt)
		u.Attempts = int(attempts)
		if u.LastError == "" && len(s.Province) == 0 {
			u.LastError = notConfigured
		}
		return u, err
	})
}

// Reconcile makes every unacknowledged event that is waiting out its retry
// wait due at once, for the next push, and says how many: what staff ask
// for when the province is back before the waits are over.
func (m *Module) Reconcile(ctx context.Context, tx *tenants.Tx, now time.Time) (int, error) {
	tag, err := tx.Exec(ctx, `UPDATE rating_uploads SET due_at = $1 WHERE acknowledged_at IS NULL AND due_at > $1`, now)
	if err != nil {
		return 0, fmt.Errorf("ratings: reconcile: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// ReconcileDaily is the daily reconciliation with the province (对账): it
// makes everything unacknowledged due at once and, when some of it has
// waited more than a day, tells the configured managers and the holders of
// ratings:configure in-app how much, since when and where to look. It says
// how many events have waited more than a day.
func (m *Module) ReconcileDaily(ctx context.Context, tx *tenants.Tx, now time.Time) (int, error) {
	if _, err := m.Reconcile(ctx, tx, now); err != nil {
		return 0, err
	}
	var (
		late   int
		oldest *time.Time
	)
	if err := tx.QueryRow(ctx, `SELECT count(*), min(created_at) FROM rating_uploads
		WHERE acknowledged_at IS NULL AND created_at < $1::timestamptz - interval '1 day'`, now).Scan(&late, &oldest); err != nil {
		return 0, fmt.Errorf("ratings: reconcile: %w", err)
	}
	if late == 0 {
		return 0, nil
	}
	s, err := LoadSettings(ctx, tx)
	if err != nil {
		return 0, err
	}
	to, err := configurersOf(ctx, tx, s.Managers)
	if err != nil {
		return 0, err
	}
	ms, err := messages.LoadSettings(ctx, tx)
	if err != nil {
		return 0, err
	}
	if len(to) == 0 || !slices.Contains(ms.Channels, messages.ChannelInApp) {
		m.log.Warn("province reconciliation: events unacknowledged for over a day and nobody to tell in-app", "events", late)
		return late, nil
	}
	cal, err := m.calendar(ctx)
	if err != nil {
		return 0, err
	}
	since := oldest.In(cal.Location()).Format("2006-01-02 15:04")
	text := fmt.Sprintf("好差评对账：省级系统尚有%d条数据超过一天未确认接收，最早生成于%s，请在“省级上报”页查看原因。"+
		"(Reconciliation: the province has not acknowledged %d events for over a day, the oldest from %s.)", late, since, late, since)
	if _, err := m.sender.SendIn(ctx, tx, messages.Send{Text: text, Channels: []string{messages.ChannelInApp}, Recipients: messages.Recipients{Members: to}},
		"ratings:reconcile:"+now.In(cal.Location()).Format("2006-01-02")); err != nil {
		return 0, fmt.Errorf("ratings: reconcile: notify: %w", err)
	}
	return late, nil
}
