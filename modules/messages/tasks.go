package messages

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"yamen/modules"
	"yamen/tenants"
)

// Tasks implements modules.TaskProvider.
func (m *Module) Tasks() []modules.Task {
	return []modules.Task{{
		Type: TaskDeliver, Queue: tenants.QueueDefault,
		// DeliverIn keeps a channel's failures to itself (they are
		// recorded and re-enqueued); what the worker retries is a failure
		// of the database, worth a few tries.
		MaxRetry: m.maxRetry,
		Timeout:  2 * time.Minute,
		Handle: func(ctx context.Context, tx *tenants.Tx, payload []byte) error {
			var p DeliverPayload
			if err := json.Unmarshal(payload, &p); err != nil {
				return fmt.Errorf("messages: %s payload: %w", TaskDeliver, err)
			}
			if p.TenantID != tx.TenantID() {
				return fmt.Errorf("messages: %s of tenant %s run in tenant %s", TaskDeliver, p.TenantID, tx.TenantID())
			}
			_, err := m.DeliverIn(ctx, tx, p.DeliveryID)
			return err
		},
	}}
}
