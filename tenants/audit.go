package tenants

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Audit records, in the caller's transaction, that the transaction's subject
// did action to target. It commits or rolls back with the change it records.
func Audit(ctx context.Context, tx *Tx, action, target string, details map[string]any) error {
	if details == nil {
		details = map[string]any{}
	}
	d, err := json.Marshal(details)
	if err != nil {
		return fmt.Errorf("tenants: audit details: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO audit_log (tenant_id, subject, action, target, details, request_id)
		VALUES (current_tenant(), current_setting('app.subject_id'), $1, $2, $3, $4)`,
		action, target, d, RequestID(ctx)); err != nil {
		return fmt.Errorf("tenants: audit %s: %w", action, err)
	}
	return nil
}

// AuditEntry is one row of the audit log.
type AuditEntry struct {
	ID        int64          `json:"id"`
	At        time.Time      `json:"at"`
	Subject   string         `json:"subject"`
	Action    string         `json:"action"`
	Target    string         `json:"target"`
	Details   map[string]any `json:"details"`
	RequestID string         `json:"request_id"`
}

// AuditFilter narrows ListAudit.
type AuditFilter struct {
	Action  string
	Subject string
	// Before is the id to continue before (newest first).
	Before int64
	Limit  int
}

// ListAudit returns audit entries, newest first.
func ListAudit(ctx context.Context, tx Querier, f AuditFilter) ([]AuditEntry, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	rows, err := tx.Query(ctx, `SELECT id, at, subject, action, target, details, request_id FROM audit_log
		WHERE ($1 = '' OR action = $1) AND ($2 = '' OR subject = $2) AND ($3 = 0 OR id < $3)
		ORDER BY id DESC LIMIT $4`, f.Action, f.Subject, f.Before, f.Limit)
	return collect("list audit", rows, err, pgx.RowToStructByPos[AuditEntry])
}
