package tenants_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"yamen/tenants"
	"yamen/tenants/tenanttest"
)

// BenchmarkAudit measures what the chain adds to a transaction that audits:
// Chained is a transaction writing one record with tenants.Audit (lock the
// head, seal, insert and move the head); Unchained is the same transaction
// writing the same row in one INSERT, as Audit did before the chain. The
// difference is the chain's cost per Audit call. Parallel runs every
// goroutine in one tenant, where the chain serialises writers; MAC is the
// CPU part alone (canonical JSON and HMAC-SM3).
func BenchmarkAudit(b *testing.B) {
	ctx := context.Background()
	db := tenanttest.DB(b)
	subject := tenants.System().String()
	details := map[string]any{"name": "城东派出所", "code": "east-1", "parent_id": uuid.NewString()}
	raw, _ := json.Marshal(details)

	chained := func(tn tenants.Tenant) func() error {
		return func() error {
			return db.Tx(ctx, tn.ID, subject, func(tx *tenants.Tx) error {
				return tenants.Audit(ctx, tx, "org.create", "6f1c2d4e-0000-0000-0000-000000000000", details)
			})
		}
	}
	unchained := func(tn tenants.Tenant) func() error {
		var seq atomic.Int64
		seq.Store(1 << 40) // far above the chain's own records
		mac := make([]byte, 32)
		_, _ = rand.Read(mac)
		return func() error {
			return db.Tx(ctx, tn.ID, subject, func(tx *tenants.Tx) error {
				_, err := tx.Exec(ctx, `INSERT INTO audit_log (tenant_id, seq, at, subject, action, target, details, request_id, prev_mac, mac)
					VALUES (current_tenant(), $1, now(), current_setting('app.subject_id'), $2, $3, $4, $5, '', $6)`,
					seq.Add(1), "org.create", "6f1c2d4e-0000-0000-0000-000000000000", raw, "", mac)
				return err
			})
		}
	}
	cases := []struct {
		name string
		make func(tenants.Tenant) func() error
	}{
		{"Unchained", unchained},
		{"Chained", chained},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			run := c.make(tenanttest.Tenant(b, tenants.KindOther))
			for b.Loop() {
				if err := run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("Parallel", func(b *testing.B) {
		for _, c := range cases {
			b.Run(c.name, func(b *testing.B) {
				run := c.make(tenanttest.Tenant(b, tenants.KindOther))
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := run(); err != nil {
							b.Error(err) // not Fatal: this is not the benchmark's goroutine
							return
						}
					}
				})
			})
		}
	})
	b.Run("MAC", func(b *testing.B) {
		key := db.AuditKey
		tn, at := uuid.New(), time.Now()
		for b.Loop() {
			_ = tenants.AuditRecordMAC(key, tn, 42, at, subject, "org.create", "6f1c2d4e-0000-0000-0000-000000000000", raw, "req-1", key)
		}
	})
}
