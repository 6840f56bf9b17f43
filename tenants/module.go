package tenants

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ModuleState is a module's standing in one tenant.
type ModuleState struct {
	Module    string         `json:"module"`
	Entitled  bool           `json:"entitled"`
	Enabled   bool           `json:"enabled"`
	Settings  map[string]any `json:"settings"`
	UpdatedAt time.Time      `json:"updated_at"`
	UpdatedBy string         `json:"updated_by"`
}

// ModuleStates returns the tenant's rows of tenant_modules, by module id.
// Modules with no row are neither entitled nor enabled.
func ModuleStates(ctx context.Context, tx Querier) (map[string]ModuleState, error) {
	rows, err := tx.Query(ctx, "SELECT module, entitled, enabled, settings, updated_at, updated_by FROM tenant_modules")
	if err != nil {
		return nil, fmt.Errorf("tenants: module states: %w", err)
	}
	states := map[string]ModuleState{}
	var s ModuleState
	_, err = pgx.ForEachRow(rows, []any{&s.Module, &s.Entitled, &s.Enabled, &s.Settings, &s.UpdatedAt, &s.UpdatedBy}, func() error {
		states[s.Module] = s
		s = ModuleState{}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("tenants: module states: %w", err)
	}
	return states, nil
}

// LockModules serialises changes to a tenant's modules, so that enabling a
// module and disabling what it needs cannot cross.
func LockModules(ctx context.Context, tx *Tx) error {
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('yamen.modules.' || current_tenant()::text))"); err != nil {
		return fmt.Errorf("tenants: lock modules: %w", err)
	}
	return nil
}

// SetEntitled records whether the platform entitles the tenant to a module.
// Taking an entitlement away also disables the module.
func SetEntitled(ctx context.Context, tx *Tx, module string, entitled bool) error {
	if _, err := tx.Exec(ctx, `INSERT INTO tenant_modules (tenant_id, module, entitled, enabled, updated_by)
		VALUES (current_tenant(), $1, $2, false, current_setting('app.subject_id'))
		ON CONFLICT (tenant_id, module) DO UPDATE SET entitled = $2, enabled = tenant_modules.enabled AND $2,
			updated_at = now(), updated_by = excluded.updated_by`, module, entitled); err != nil {
		return fmt.Errorf("tenants: entitle %s: %w", module, err)
	}
	return Audit(ctx, tx, map[bool]string{true: "module.entitle", false: "module.unentitle"}[entitled], module, nil)
}

// SetEnabled records whether the tenant has a module switched on. The
// caller has checked entitlement and needs.
func SetEnabled(ctx context.Context, tx *Tx, module string, enabled bool) error {
	if _, err := tx.Exec(ctx, `UPDATE tenant_modules SET enabled = $2, updated_at = now(), updated_by = current_setting('app.subject_id')
		WHERE module = $1`, module, enabled); err != nil {
		return fmt.Errorf("tenants: enable %s: %w", module, err)
	}
	return Audit(ctx, tx, map[bool]string{true: "module.enable", false: "module.disable"}[enabled], module, nil)
}

// SaveSettings stores a module's validated settings.
func SaveSettings(ctx context.Context, tx *Tx, module string, settings map[string]any) error {
	raw, err := json.Marshal(settings)
	if err != nil {
		return fmt.Errorf("tenants: settings of %s: %w", module, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE tenant_modules SET settings = $2, updated_at = now(), updated_by = current_setting('app.subject_id')
		WHERE module = $1`, module, raw); err != nil {
		return fmt.Errorf("tenants: save settings of %s: %w", module, err)
	}
	return Audit(ctx, tx, "module.settings", module, settings)
}
