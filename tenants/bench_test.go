package tenants_test

import (
	"context"
	"testing"

	"yamen/tenants"
	"yamen/tenants/tenanttest"
)

// BenchmarkTx measures what a tenant transaction costs over a bare
// autocommit statement. The statement reads tenants by primary key, which
// has no row level security, so it finds its row with or without a tenant
// and every variant runs the same SQL.
func BenchmarkTx(b *testing.B) {
	ctx := context.Background()
	db := tenanttest.DB(b)
	tn := tenanttest.Tenant(b, tenants.KindOther)
	const sql = "SELECT slug FROM tenants WHERE id = $1"
	subject := tenants.System().String()

	bare := func() error {
		var slug string
		return db.Pool.QueryRow(ctx, sql, tn.ID).Scan(&slug)
	}
	inTx := func(statements int) func() error {
		return func() error {
			return db.Tx(ctx, tn.ID, subject, func(tx *tenants.Tx) error {
				var slug string
				for range statements {
					if err := tx.QueryRow(ctx, sql, tn.ID).Scan(&slug); err != nil {
						return err
					}
				}
				return nil
			})
		}
	}
	read := func() error {
		r, err := db.Reader(tn.ID, subject)
		if err != nil {
			return err
		}
		var slug string
		return r.QueryRow(ctx, sql, tn.ID).Scan(&slug)
	}
	cases := []struct {
		name string
		run  func() error
	}{
		{"BareSelect", bare},
		{"Tx", inTx(1)},
		{"TxTwoStatements", inTx(2)},
		{"Reader", read},
	}

	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if err := c.run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("Parallel", func(b *testing.B) {
		for _, c := range cases {
			b.Run(c.name, func(b *testing.B) {
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := c.run(); err != nil {
							b.Error(err) // not Fatal: this is not the benchmark's goroutine
							return
						}
					}
				})
			})
		}
	})
}
