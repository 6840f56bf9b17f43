package modules

import (
	"context"
	"errors"
	"fmt"
)

// Provision provisions every module that needs it, then validates those
// that check themselves, in registration order. On failure it cleans up what
// it had provisioned.
func (r *Registry) Provision(ctx context.Context, env Env) error {
	var done []Module
	for _, m := range r.mods {
		if p, ok := m.(Provisioner); ok {
			if err := p.Provision(ctx, env); err != nil {
				return errors.Join(fmt.Errorf("module %s: provision: %w", m.Module().ID, err), cleanup(done))
			}
		}
		done = append(done, m)
		if v, ok := m.(Validator); ok {
			if err := v.Validate(); err != nil {
				return errors.Join(fmt.Errorf("module %s: validate: %w", m.Module().ID, err), cleanup(done))
			}
		}
	}
	return nil
}

// Cleanup releases what the modules hold, in reverse order.
func (r *Registry) Cleanup() error { return cleanup(r.mods) }

func cleanup(mods []Module) error {
	var errs []error
	for i := len(mods) - 1; i >= 0; i-- {
		if c, ok := mods[i].(CleanerUpper); ok {
			if err := c.Cleanup(); err != nil {
				errs = append(errs, fmt.Errorf("module %s: cleanup: %w", mods[i].Module().ID, err))
			}
		}
	}
	return errors.Join(errs...)
}
