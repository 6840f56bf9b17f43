package tenants

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// errNoAuditKey is Audit's answer on a DB without AuditKey: a record that
// cannot be sealed is not written, and neither is the change it records.
var errNoAuditKey = errors.New("tenants: audit: the DB has no AuditKey (YAMEN_AUDIT_KEY); a tenants.DB made from a bare pool has none, use the service's DB")

// Audit records, in the caller's transaction, that the transaction's subject
// did action to target. It commits or rolls back with the change it records.
//
// The record joins the tenant's chain (see migrations/004_audit_chain.sql):
// Audit locks the tenant's chain head, so other transactions auditing in the
// tenant wait until this one ends; call it last, after the change it
// records. It costs two statements, the lock and the insert, where an
// unchained log would need one.
func Audit(ctx context.Context, tx *Tx, action, target string, details map[string]any) error {
	if len(tx.auditKey) == 0 {
		return errNoAuditKey
	}
	if details == nil {
		details = map[string]any{}
	}
	d, err := json.Marshal(details)
	if err != nil {
		return fmt.Errorf("tenants: audit details: %w", err)
	}
	canon, err := CanonicalJSON(d)
	if err != nil {
		return fmt.Errorf("tenants: audit details: %w", err)
	}
	tenant, err := uuid.Parse(tx.tenant)
	if err != nil {
		return fmt.Errorf("tenants: audit: %w", err)
	}
	head, err := lockAuditHead(ctx, tx)
	if err != nil {
		return fmt.Errorf("tenants: audit %s: %w", action, err)
	}
	r := chainRecord{
		Tenant: tenant, Seq: head.seq + 1, At: head.now,
		Subject: tx.subject, Action: action, Target: target, Details: canon,
		RequestID: RequestID(ctx), PrevMAC: head.mac,
	}
	mac := r.mac(tx.auditKey)
	// One statement writes the record and moves the head.
	tag, err := tx.Exec(ctx, `WITH r AS (
			INSERT INTO audit_log (tenant_id, seq, at, subject, action, target, details, request_id, prev_mac, mac)
			VALUES (current_tenant(), $1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING seq)
		UPDATE audit_heads SET seq = (SELECT seq FROM r), mac = $9 WHERE tenant_id = current_tenant()`,
		r.Seq, r.At, r.Subject, action, target, d, r.RequestID, r.PrevMAC, mac)
	if err != nil {
		return fmt.Errorf("tenants: audit %s: %w", action, err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("tenants: audit %s: the chain head moved %d rows", action, tag.RowsAffected())
	}
	return nil
}

type auditHead struct {
	seq int64
	mac []byte
	now time.Time
}

// lockAuditHead locks the tenant's chain head until the transaction ends
// and returns it with the database's clock, which becomes the record's time:
// taken under the lock, times never run backwards along the chain.
func lockAuditHead(ctx context.Context, tx *Tx) (auditHead, error) {
	const lock = `SELECT seq, mac, clock_timestamp() FROM audit_heads WHERE tenant_id = current_tenant() FOR UPDATE`
	var h auditHead
	err := tx.QueryRow(ctx, lock).Scan(&h.seq, &h.mac, &h.now)
	if errors.Is(err, pgx.ErrNoRows) {
		// The tenant's first record. Of two first records at once, one
		// inserts and the other waits for it, then finds its head.
		if _, err := tx.Exec(ctx, `INSERT INTO audit_heads (tenant_id, seq, mac) VALUES (current_tenant(), 0, '')
			ON CONFLICT (tenant_id) DO NOTHING`); err != nil {
			return h, fmt.Errorf("start the chain: %w", err)
		}
		err = tx.QueryRow(ctx, lock).Scan(&h.seq, &h.mac, &h.now)
	}
	if err != nil {
		return h, fmt.Errorf("lock the chain head: %w", err)
	}
	return h, nil
}

// AuditEntry is one row of the audit log.
type AuditEntry struct {
	ID int64 `json:"id"`
	// Seq is the record's place in its tenant's chain: 1, 2, 3 …
	Seq       int64          `json:"seq"`
	At        time.Time      `json:"at"`
	Subject   string         `json:"subject"`
	Action    string         `json:"action"`
	Target    string         `json:"target"`
	Details   map[string]any `json:"details"`
	RequestID string         `json:"request_id"`
}

// AuditFilter narrows ListAudit. Zero fields do not narrow.
type AuditFilter struct {
	// Action is an action ("org.move") or a prefix of actions ending in
	// ".*" ("org.*" is org.create, org.move …); "*" is every action.
	Action string
	// Subject is who acted, as in AuditEntry.Subject ("tenant_key:…", "system").
	Subject string
	// From (inclusive) and To (exclusive) bound the records' time.
	From, To time.Time
	// Before is the id to continue before (newest first).
	Before int64
	Limit  int
}

// ListAudit returns audit entries, newest first.
func ListAudit(ctx context.Context, tx Querier, f AuditFilter) ([]AuditEntry, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	var where []string
	var args []any
	add := func(cond string, arg any) {
		args = append(args, arg)
		where = append(where, strings.ReplaceAll(cond, "$?", "$"+strconv.Itoa(len(args))))
	}
	if prefix, ok := actionPrefix(f.Action); ok {
		if prefix != "" {
			add("starts_with(action, $?)", prefix)
		}
	} else if f.Action != "" {
		add("action = $?", f.Action)
	}
	if f.Subject != "" {
		add("subject = $?", f.Subject)
	}
	if !f.From.IsZero() {
		add("at >= $?", f.From)
	}
	if !f.To.IsZero() {
		add("at < $?", f.To)
	}
	if f.Before > 0 {
		add("id < $?", f.Before)
	}
	sql := "SELECT id, seq, at, subject, action, target, details, request_id FROM audit_log"
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, f.Limit)
	sql += " ORDER BY id DESC LIMIT $" + strconv.Itoa(len(args))
	rows, err := tx.Query(ctx, sql, args...)
	return collect("list audit", rows, err, pgx.RowToStructByPos[AuditEntry])
}

// actionPrefix returns the prefix an action filter such as "org.*" stands
// for ("org."), or "" for "*"; ok is false for an exact action.
func actionPrefix(action string) (prefix string, ok bool) {
	if action == "*" {
		return "", true
	}
	if p, found := strings.CutSuffix(action, "*"); found {
		return p, true
	}
	return "", false
}
