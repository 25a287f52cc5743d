package sqldb

import (
	"context"
	"database/sql"
)

// Scanner is a *sql.Row or *sql.Rows: what a store's scan functions read.
type Scanner = interface{ Scan(dest ...any) error }

// Querier runs a query: a *sql.DB or a *sql.Tx.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Collect runs query on q and returns every row, read with scan. An error
// of the query, of a row or of scan is returned through fail, which gives
// it the store's wrapping.
func Collect[T any](ctx context.Context, q Querier, fail func(error) error, scan func(Scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fail(err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fail(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fail(err)
	}
	return out, nil
}
