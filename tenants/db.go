// Package tenants is who: the jurisdiction, its regions and calendar, the
// tenants and what each has (modules, orgs, members, roles, keys, audit log),
// and the transaction that carries the tenant into PostgreSQL's row level
// security.
package tenants

import (
	"context"
	"fmt"
	"runtime"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
)

// DB is the service's connection pool, connected as yamen_app.
type DB struct {
	Pool *pgxpool.Pool
	// AuditKey keys the HMAC-SM3 chain of every tenant's audit log
	// (YAMEN_AUDIT_KEY, see ParseAuditKey). Transactions carry it to Audit,
	// which refuses to write while it is empty.
	AuditKey []byte
}

// Open connects to url (YAMEN_DATABASE_URL) and checks the connection.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("tenants: database url: %w", err)
	}
	if cfg.ConnConfig.RuntimeParams == nil {
		cfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "yamen"
	}
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	// pgxpool's default, max(4, cores), leaves requests queueing for a
	// connection while the ones holding them wait out round trips to the
	// database; sixteen, or four per core, keep it busy. A pool_max_conns in
	// the URL wins.
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = int32(max(16, 4*runtime.GOMAXPROCS(0)))
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("tenants: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("tenants: connect: %w", err)
	}
	return &DB{Pool: pool}, nil
}

// Close closes the pool.
func (db *DB) Close() { db.Pool.Close() }
