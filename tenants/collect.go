package tenants

import (
	"fmt"

	"github.com/jackc/pgx/v5"
)

// collect reads every row of a list query, naming what it lists in errors.
func collect[T any](what string, rows pgx.Rows, err error, scan pgx.RowToFunc[T]) ([]T, error) {
	if err != nil {
		return nil, fmt.Errorf("tenants: %s: %w", what, err)
	}
	out, err := pgx.CollectRows(rows, scan)
	if err != nil {
		return nil, fmt.Errorf("tenants: %s: %w", what, err)
	}
	return out, nil
}

// scanWith adapts a scan function of one row to pgx.CollectRows.
func scanWith[T any](scan func(pgx.Row) (T, error)) pgx.RowToFunc[T] {
	return func(r pgx.CollectableRow) (T, error) { return scan(r) }
}
