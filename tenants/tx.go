package tenants

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Conn is what code running in a transaction queries through.
type Conn interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// setSQL puts the tenant and the subject into the transaction. is_local =
// true: they end with it, so a pooled connection never carries them over.
const setSQL = "SELECT set_config('app.tenant_id', $1, true), set_config('app.subject_id', $2, true)"

// Tx runs fn in a transaction in which row level security admits only the
// rows of tenant, on behalf of subject. It commits when fn returns nil and
// rolls back otherwise, or when fn panics.
//
// BEGIN and the settings travel in one pipeline with fn's first statement, so
// a transaction costs one round trip more than its statements (the COMMIT),
// and a fn that runs no statement costs none. This is the only place that
// sets app.tenant_id and app.subject_id.
func (db *DB) Tx(ctx context.Context, tenant uuid.UUID, subject string, fn func(tx *Tx) error) (err error) {
	if tenant == uuid.Nil {
		return errors.New("tenants: transaction without a tenant")
	}
	if subject == "" {
		return errors.New("tenants: transaction without a subject")
	}
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("tenants: acquire connection: %w", err)
	}
	// A connection released mid-transaction is destroyed by the pool, so a
	// failed ROLLBACK cannot leak the tenant to the next user.
	defer conn.Release()
	tx := &Tx{conn: conn, tenant: tenant.String(), subject: subject, auditKey: db.AuditKey}
	defer func() {
		if p := recover(); p != nil {
			tx.rollback()
			panic(p)
		}
	}()
	if err := fn(tx); err != nil {
		tx.rollback()
		return err
	}
	return tx.commit(ctx)
}

// Tx is a transaction opened by DB.Tx. It is not safe for concurrent use.
type Tx struct {
	conn    *pgxpool.Conn
	tenant  string
	subject string
	begun   bool
	// auditKey is the DB's AuditKey, for Audit.
	auditKey []byte
}

var _ Conn = (*Tx)(nil)

// TenantID returns the tenant the transaction is for.
func (tx *Tx) TenantID() uuid.UUID { return uuid.MustParse(tx.tenant) }

// Subject returns who the transaction acts for.
func (tx *Tx) Subject() string { return tx.subject }

// opening returns a batch that begins the transaction and sets the tenant.
func (tx *Tx) opening() *pgx.Batch {
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue(setSQL, tx.tenant, tx.subject)
	return b
}

// readOpening reads the results of the two statements opening() queued.
func readOpening(br pgx.BatchResults) error {
	if _, err := br.Exec(); err != nil {
		return fmt.Errorf("tenants: begin: %w", err)
	}
	if _, err := br.Exec(); err != nil {
		return fmt.Errorf("tenants: set tenant: %w", err)
	}
	return nil
}

// begin opens the transaction on its own, for the calls that cannot share a
// pipeline with it.
func (tx *Tx) begin(ctx context.Context) error {
	if tx.begun {
		return nil
	}
	br := tx.conn.SendBatch(ctx, tx.opening())
	err := readOpening(br)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	tx.begun = true // even on error: the connection may be in a transaction
	return err
}

// Exec runs a statement.
func (tx *Tx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if tx.begun {
		return tx.conn.Exec(ctx, sql, args...)
	}
	b := tx.opening()
	b.Queue(sql, args...)
	tx.begun = true
	br := tx.conn.SendBatch(ctx, b)
	var tag pgconn.CommandTag
	err := readOpening(br)
	if err == nil {
		tag, err = br.Exec()
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

// Query runs a query returning rows.
func (tx *Tx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if tx.begun {
		return tx.conn.Query(ctx, sql, args...)
	}
	b := tx.opening()
	b.Queue(sql, args...)
	tx.begun = true
	br := tx.conn.SendBatch(ctx, b)
	if err := readOpening(br); err != nil {
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
func (tx *Tx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if tx.begun {
		return tx.conn.QueryRow(ctx, sql, args...)
	}
	rows, err := tx.Query(ctx, sql, args...)
	return &firstRow{rows: rows, err: err}
}

// SendBatch sends a batch of statements.
func (tx *Tx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if err := tx.begin(ctx); err != nil {
		return errBatch{err}
	}
	return tx.conn.SendBatch(ctx, b)
}

// Savepoint runs fn so that its failure undoes only its own statements.
func (tx *Tx) Savepoint(ctx context.Context, fn func() error) error {
	if _, err := tx.Exec(ctx, "SAVEPOINT yamen_sp"); err != nil {
		return err
	}
	if err := fn(); err != nil {
		if _, rerr := tx.conn.Exec(ctx, "ROLLBACK TO SAVEPOINT yamen_sp"); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
	_, err := tx.conn.Exec(ctx, "RELEASE SAVEPOINT yamen_sp")
	return err
}

func (tx *Tx) commit(ctx context.Context) error {
	if !tx.begun {
		return nil
	}
	tag, err := tx.conn.Exec(ctx, "COMMIT")
	if err != nil {
		return fmt.Errorf("tenants: commit: %w", err)
	}
	// PostgreSQL answers COMMIT of a failed transaction with ROLLBACK.
	if tag.String() == "ROLLBACK" {
		return errors.New("tenants: commit: transaction was aborted by an earlier error")
	}
	return nil
}

func (tx *Tx) rollback() {
	if !tx.begun {
		return
	}
	// If this fails the connection is left in a transaction and the pool
	// destroys it on release.
	_, _ = tx.conn.Exec(context.Background(), "ROLLBACK")
}

// pipelinedRows closes the pipeline once the rows of its last statement are read.
type pipelinedRows struct {
	pgx.Rows
	br       pgx.BatchResults
	closed   bool
	closeErr error
}

func (r *pipelinedRows) Close() {
	if r.closed {
		return
	}
	r.closed = true
	r.Rows.Close()
	r.closeErr = r.br.Close()
}

func (r *pipelinedRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.Close()
	return false
}

func (r *pipelinedRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	return r.closeErr
}

// firstRow gives pgx.Row's semantics on top of pipelinedRows.
type firstRow struct {
	rows pgx.Rows
	err  error
}

func (r *firstRow) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}

type errBatch struct{ err error }

func (b errBatch) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, b.err }
func (b errBatch) Query() (pgx.Rows, error)         { return nil, b.err }
func (b errBatch) QueryRow() pgx.Row                { return &firstRow{err: b.err} }
func (b errBatch) Close() error                     { return b.err }
func (b errBatch) Tx() pgx.Tx                       { return nil }
