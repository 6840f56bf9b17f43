package tenants

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"yamen/problem"
)

// PolicyVersion is one upload of a tenant's rego.
type PolicyVersion struct {
	Version    int             `json:"version"`
	Source     string          `json:"source"`
	SHA256     []byte          `json:"sha256"`
	Report     json.RawMessage `json:"report"`
	Active     bool            `json:"active"`
	UploadedBy string          `json:"uploaded_by"`
	UploadedAt time.Time       `json:"uploaded_at"`
}

const policyColumns = "version, source, sha256, report, active, uploaded_by, uploaded_at"

// lockPolicies serialises uploads and activations of one tenant's policy.
func lockPolicies(ctx context.Context, tx *Tx) error {
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('yamen.policies.' || current_tenant()::text))"); err != nil {
		return fmt.Errorf("tenants: lock policies: %w", err)
	}
	return nil
}

// SavePolicy stores a checked upload as the next version and makes it the
// active one.
func SavePolicy(ctx context.Context, tx *Tx, source string, report any) (PolicyVersion, error) {
	if err := lockPolicies(ctx, tx); err != nil {
		return PolicyVersion{}, err
	}
	rep, err := json.Marshal(report)
	if err != nil {
		return PolicyVersion{}, fmt.Errorf("tenants: policy report: %w", err)
	}
	if _, err := tx.Exec(ctx, "UPDATE tenant_policies SET active = false WHERE active"); err != nil {
		return PolicyVersion{}, fmt.Errorf("tenants: save policy: %w", err)
	}
	sum := sha256.Sum256([]byte(source))
	var v PolicyVersion
	err = tx.QueryRow(ctx, `INSERT INTO tenant_policies (tenant_id, version, source, sha256, report, active, uploaded_by)
		VALUES (current_tenant(), (SELECT coalesce(max(version), 0) + 1 FROM tenant_policies), $1, $2, $3, true, current_setting('app.subject_id'))
		RETURNING `+policyColumns, source, sum[:], rep).Scan(&v.Version, &v.Source, &v.SHA256, &v.Report, &v.Active, &v.UploadedBy, &v.UploadedAt)
	if err != nil {
		return PolicyVersion{}, fmt.Errorf("tenants: save policy: %w", err)
	}
	return v, Audit(ctx, tx, "policy.upload", fmt.Sprint(v.Version), map[string]any{"sha256": fmt.Sprintf("%x", sum)})
}

// ActivatePolicy makes an earlier (or the current) version the active one;
// version 0 switches the tenant's policy off.
func ActivatePolicy(ctx context.Context, tx *Tx, version int) error {
	if err := lockPolicies(ctx, tx); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "UPDATE tenant_policies SET active = false WHERE active"); err != nil {
		return fmt.Errorf("tenants: activate policy: %w", err)
	}
	if version == 0 {
		return Audit(ctx, tx, "policy.deactivate", "", nil)
	}
	tag, err := tx.Exec(ctx, "UPDATE tenant_policies SET active = true WHERE version = $1", version)
	if err != nil {
		return fmt.Errorf("tenants: activate policy: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return problem.NotFound(fmt.Sprintf("策略版本 %d 不存在 (no such policy version)", version))
	}
	return Audit(ctx, tx, "policy.activate", fmt.Sprint(version), nil)
}

// ListPolicies returns every version, newest first.
func ListPolicies(ctx context.Context, q Querier) ([]PolicyVersion, error) {
	rows, err := q.Query(ctx, "SELECT "+policyColumns+" FROM tenant_policies ORDER BY version DESC")
	return collect("list policies", rows, err, pgx.RowToStructByPos[PolicyVersion])
}

// ActivePolicy returns the active version, or ok false when the tenant has none.
func ActivePolicy(ctx context.Context, q Querier) (PolicyVersion, bool, error) {
	var v PolicyVersion
	err := q.QueryRow(ctx, "SELECT "+policyColumns+" FROM tenant_policies WHERE active").
		Scan(&v.Version, &v.Source, &v.SHA256, &v.Report, &v.Active, &v.UploadedBy, &v.UploadedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return PolicyVersion{}, false, nil
	}
	if err != nil {
		return PolicyVersion{}, false, fmt.Errorf("tenants: active policy: %w", err)
	}
	return v, true, nil
}
