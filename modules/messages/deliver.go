package messages

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"yamen/tenants"
)

// Retry backoff of a delivery that failed for a reason that may pass: 30 s,
// 1 min, 2 min, … capped at an hour.
const (
	DefaultRetryBackoff = 30 * time.Second
	retryCap            = time.Hour
)

// retryDelay is the wait after the attempts-th failed attempt, from base.
func retryDelay(base time.Duration, attempts int) time.Duration {
	d := base
	for i := 1; i < attempts && d < retryCap; i++ {
		d *= 2
	}
	return min(d, retryCap)
}

// Outcome is what one run of messages:deliver did with a delivery.
type Outcome string

// The outcomes of DeliverIn.
const (
	OutcomeDelivered Outcome = "delivered"
	OutcomeFailed    Outcome = "permanent_failure"
	OutcomeRetry     Outcome = "temporary_failure"
	OutcomeDelayed   Outcome = "delayed"
	OutcomeDone      Outcome = "already_done"
)

// DeliverIn runs one delivery in tx, the task's transaction.
//
// The delivery's row stays locked (FOR UPDATE) while its channel sends, so
// two runs of the same task (a retry after a failure that came late) never
// send it twice at once, and a run finding it delivered does nothing.
//
// A failure that may pass is recorded as temporary_failure and the delivery
// re-enqueued with a later RunAt, rather than failing the task: the task's
// transaction rolls back when Handle returns an error, which would lose the
// attempt and its reason from the records. After the last retry it is a
// permanent_failure with the reason. A delivery over its channel's
// per-minute limit is re-enqueued for the next minute, not dropped.
func (m *Module) DeliverIn(ctx context.Context, tx *tenants.Tx, id uuid.UUID) (Outcome, error) {
	var (
		d       Delivery
		channel string
		status  string
		attempt int
	)
	d.ID = id.String()
	err := tx.QueryRow(ctx, `SELECT d.message_id::text, m.kind, m.body, d.recipient_kind::text, d.recipient_id::text, d.recipient_name,
			d.recipient_phone, d.recipient_email, d.channel::text, d.status::text, d.attempts
		FROM message_deliveries d JOIN messages m ON m.tenant_id = d.tenant_id AND m.id = d.message_id
		WHERE d.id = $1 FOR UPDATE OF d`, id).Scan(&d.MessageID, &d.Kind, &d.Text, &d.Recipient.Kind, &d.Recipient.ID, &d.Recipient.Name,
		&d.Recipient.Phone, &d.Recipient.Email, &channel, &status, &attempt)
	if errors.Is(err, pgx.ErrNoRows) {
		// Nothing to do will never change: no retry.
		m.log.WarnContext(ctx, "messages: delivery to run is gone", "tenant", tx.TenantID(), "delivery", id)
		return OutcomeDone, nil
	}
	if err != nil {
		return "", fmt.Errorf("messages: load delivery %s: %w", id, err)
	}
	if status == "delivered" || status == "permanent_failure" {
		return OutcomeDone, nil
	}
	settings, err := LoadSettings(ctx, tx)
	if err != nil {
		return "", err
	}
	d.Settings = settings
	if settings.WhitelistOnly && (channel == ChannelSMS || channel == ChannelEmail) && !whitelisted(settings.Whitelist, channel, d.Recipient) {
		return OutcomeFailed, fail(ctx, tx, id, "不在白名单中 (not on whitelist)")
	}
	c := m.channels[channel]
	if c == nil {
		return OutcomeFailed, fail(ctx, tx, id, "该渠道尚未接入 (the channel is not available)")
	}
	if limit := settings.perMinute(channel); limit > 0 {
		delayed, err := overLimit(ctx, tx, id, channel, limit)
		if err != nil || delayed {
			return OutcomeDelayed, err
		}
	}
	attempt++
	if _, err := tx.Exec(ctx, `UPDATE message_deliveries SET status = 'sending', attempts = $2, attempted_at = now() WHERE id = $1`, id, attempt); err != nil {
		return "", fmt.Errorf("messages: delivery %s: %w", id, err)
	}

	sendErr := c.Send(ctx, d)

	switch {
	case sendErr == nil:
		_, err = tx.Exec(ctx, `UPDATE message_deliveries SET status = 'delivered', delivered_at = now(), last_error = '' WHERE id = $1`, id)
		if err != nil {
			return "", fmt.Errorf("messages: delivery %s: %w", id, err)
		}
		if channel == ChannelInApp && d.Recipient.Kind == "member" {
			if err := notifyInbox(ctx, tx, d.Recipient.ID, id); err != nil {
				return "", err
			}
		}
		return OutcomeDelivered, nil
	case isPermanent(sendErr):
		return OutcomeFailed, fail(ctx, tx, id, sendErr.Error())
	case attempt > m.maxRetry:
		return OutcomeFailed, fail(ctx, tx, id, fmt.Sprintf("重试 %d 次后仍失败 (still failing after %d retries): %s", m.maxRetry, m.maxRetry, reason(sendErr)))
	}
	m.log.InfoContext(ctx, "messages: delivery failed, will retry", "tenant", tx.TenantID(), "delivery", id, "channel", channel, "attempt", attempt, "error", sendErr)
	if _, err := tx.Exec(ctx, `UPDATE message_deliveries SET status = 'temporary_failure', last_error = $2 WHERE id = $1`, id, reason(sendErr)); err != nil {
		return "", fmt.Errorf("messages: delivery %s: %w", id, err)
	}
	return OutcomeRetry, requeue(ctx, tx, id, time.Now().Add(retryDelay(m.retryBackoff, attempt)), fmt.Sprintf("retry-%d", attempt))
}

// reason is the text kept in last_error, bounded.
func reason(err error) string {
	s := err.Error()
	if r := []rune(s); len(r) > 500 {
		s = string(r[:500]) + "…"
	}
	return s
}

func fail(ctx context.Context, tx *tenants.Tx, id uuid.UUID, why string) error {
	_, err := tx.Exec(ctx, `UPDATE message_deliveries SET status = 'permanent_failure', failed_at = now(), last_error = $2 WHERE id = $1`, id, why)
	if err != nil {
		return fmt.Errorf("messages: delivery %s: %w", id, err)
	}
	return nil
}

// requeue enqueues another messages:deliver of the delivery. Outbox rows
// are kept after they run, so each re-run needs a dedupe key of its own.
func requeue(ctx context.Context, tx *tenants.Tx, id uuid.UUID, at time.Time, why string) error {
	_, err := tenants.Enqueue(ctx, tx, tenants.Task{
		Type: TaskDeliver, Payload: DeliverPayload{TenantID: tx.TenantID(), DeliveryID: id},
		RunAt: at, DedupeKey: id.String() + "/" + why,
	})
	if err != nil {
		return fmt.Errorf("messages: requeue %s: %w", id, err)
	}
	return nil
}

// overLimit says whether the channel has sent its limit in the current
// minute; if so it re-enqueues the delivery for the next one. A
// transaction-scoped advisory lock per (tenant, channel) makes concurrent
// runs count one after the other, so the limit holds under concurrency; it
// is taken only by tenants that set a limit.
func overLimit(ctx context.Context, tx *tenants.Tx, id uuid.UUID, channel string, limit int) (bool, error) {
	var sent int
	var next time.Time
	err := tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM message_deliveries WHERE channel = $1::message_channel AND attempted_at >= date_trunc('minute', now())),
			date_trunc('minute', now()) + interval '1 minute'
		FROM (SELECT pg_advisory_xact_lock(hashtext('messages:' || current_tenant()::text || ':' || $1))) AS locked`, channel).Scan(&sent, &next)
	if err != nil {
		return false, fmt.Errorf("messages: rate limit of %s: %w", channel, err)
	}
	if sent < limit {
		return false, nil
	}
	return true, requeue(ctx, tx, id, next, "limit-"+next.UTC().Format("200601021504"))
}

// whitelisted says whether the recipient's address on channel, or their
// member id, is on the whitelist.
func whitelisted(list []string, channel string, r Recipient) bool {
	addr := r.Phone
	if channel == ChannelEmail {
		addr = r.Email
	}
	return slices.ContainsFunc(list, func(w string) bool {
		return (addr != "" && strings.EqualFold(w, addr)) || (r.ID != "" && w == r.ID)
	})
}
