package tenants

import (
	"context"
	"errors"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Querier is what read-only store functions need: a Tx or a Reader.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

var (
	_ Querier = (*Tx)(nil)
	_ Querier = (*Reader)(nil)
)

// readSQL scopes a statement to the tenant and makes it read-only.
const readSQL = "SELECT set_config('app.tenant_id', $1, true), set_config('app.subject_id', $2, true), set_config('transaction_read_only', 'on', true)"

// Reader runs read-only statements of one tenant. Each statement travels in
// one pipeline with the settings and forms PostgreSQL's implicit transaction,
// which ends with it: one round trip, no BEGIN, no COMMIT. Statements do not
// share a snapshot; code that needs one, or writes, uses DB.Tx.
type Reader struct {
	db      *DB
	tenant  string
	subject string
}

// Reader returns a reader of tenant acting for subject.
func (db *DB) Reader(tenant uuid.UUID, subject string) (*Reader, error) {
	if tenant == uuid.Nil {
		return nil, errors.New("tenants: reader without a tenant")
	}
	if subject == "" {
		return nil, errors.New("tenants: reader without a subject")
	}
	return &Reader{db: db, tenant: tenant.String(), subject: subject}, nil
}

// Query runs a query returning rows.
func (r *Reader) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	b := &pgx.Batch{}
	b.Queue(readSQL, r.tenant, r.subject)
	b.Queue(sql, args...)
	br := r.db.Pool.SendBatch(ctx, b)
	if _, err := br.Exec(); err != nil {
		br.Close()
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		br.Close()
		return nil, err
	}
	return &pipelinedRows{Rows: rows, br: br}, nil
}

// QueryRow runs a query expected to return at most one row.
func (r *Reader) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	rows, err := r.Query(ctx, sql, args...)
	return &firstRow{rows: rows, err: err}
}
